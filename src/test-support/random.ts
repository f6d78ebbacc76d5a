/**
 * xorshift32: a small, fast, reproducible stream of 32-bit values for tests, so a failure can be replayed from
 * its seed. Not for anything that needs unpredictability.
 */
export function xorshift32(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>>= 0);
  };
}

/** A reproducible stream of fractions in [0, 1). */
export function randomFractions(seed: number): () => number {
  const next = xorshift32(seed);
  return () => next() / 4294967296;
}
