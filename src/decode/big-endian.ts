/**
 * Big-endian reads for parsers that have checked their bounds already. Buffer's readUInt16BE/readUInt32BE
 * check the offset's type and bounds again on every call, and where V8 does not inline them (a parser
 * called from many places) that check is a call of its own: a tenth of the DNS parser's time. Reading past
 * the end gives NaN here instead of throwing, so callers must check lengths first (they do: a weird for
 * every short field).
 */

/** The unsigned 16-bit big-endian number at `at`. */
export function uint16At(buf: Uint8Array, at: number): number {
  return (buf[at] << 8) | buf[at + 1];
}

/** The unsigned 32-bit big-endian number at `at`. */
export function uint32At(buf: Uint8Array, at: number): number {
  return ((buf[at] << 24) | (buf[at + 1] << 16) | (buf[at + 2] << 8) | buf[at + 3]) >>> 0;
}
