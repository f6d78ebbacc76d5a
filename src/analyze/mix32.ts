/**
 * An integer finaliser (Chris Wellons' "lowbias32"): every input bit moves about half the output bits, and it is a
 * bijection on 32 bits (0 stays 0). For uids, and for numeric keys made of several numbers without a string.
 */
export function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
  return (x ^ (x >>> 16)) >>> 0;
}
