/**
 * JSON text written straight into a byte buffer, as JSON.stringify would write it, for the records written
 * most often. Building a string per field and then encoding the joined line was most of the cost of writing
 * a conn record; these write each byte once. Each returns the position after what it wrote; the caller makes
 * sure the buffer has room (see the bounds given with each).
 */

/** A string known to be ASCII (field names, uids, addresses...), byte by byte. Room: s.length. */
export function putAscii(buf: Uint8Array, pos: number, s: string): number {
  for (let i = 0; i < s.length; i++) buf[pos++] = s.charCodeAt(i);
  return pos;
}

/** Bytes prepared once (e.g. `,"orig_bytes":` as latin1). Room: bytes.length. */
export function putBytes(buf: Uint8Array, pos: number, bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; i++) buf[pos++] = bytes[i];
  return pos;
}

/** An IPv4 address held as a 32-bit word, in dotted decimal ("192.0.2.1"), with no string made. Room: 15. */
export function putIPv4(buf: Uint8Array, pos: number, word: number): number {
  pos = putInt32(buf, pos, (word >>> 24) & 0xff);
  buf[pos++] = 0x2e;
  pos = putInt32(buf, pos, (word >>> 16) & 0xff);
  buf[pos++] = 0x2e;
  pos = putInt32(buf, pos, (word >>> 8) & 0xff);
  buf[pos++] = 0x2e;
  return putInt32(buf, pos, word & 0xff);
}

/** The longest text String(x) gives for a number ("-1.2345678901234567e-308" and the like). */
export const MAX_NUMBER_TEXT = 25;

/**
 * A number as JSON.stringify writes it. Whole numbers up to 2^53 (counters, ports) are written digit by
 * digit, times to the microsecond (ts, duration, rtt) by putMicros, the rest through String().
 * Room: MAX_NUMBER_TEXT.
 */
export function putNumber(buf: Uint8Array, pos: number, x: number): number {
  // Small whole numbers (nearly all: ports, packets, bytes) in 32-bit integer arithmetic.
  const n = x | 0;
  if (n === x && n >= 0) return putInt32(buf, pos, n);
  if (x >= 0 && x <= Number.MAX_SAFE_INTEGER && Math.floor(x) === x) return putWhole(buf, pos, x);
  const end = putMicros(buf, pos, x);
  if (end >= 0) return end;
  return putAscii(buf, pos, Number.isFinite(x) ? String(x) : 'null');
}

/** 0 ≤ n < 2^31, an int32 (callers pass `x | 0`: with a double the optimiser keeps doubles, and fmod). */
function putInt32(buf: Uint8Array, pos: number, n: number): number {
  let digits = 1;
  for (let t = n; t >= 10; t = (t / 10) | 0) digits++;
  let at = pos + digits;
  for (let t = n; at > pos; t = (t / 10) | 0) buf[--at] = 0x30 + (t % 10);
  return pos + digits;
}

/** A whole number 0 ≤ x ≤ 2^53, digit by digit. */
function putWhole(buf: Uint8Array, pos: number, x: number): number {
  if (x < 0x80000000) return putInt32(buf, pos, x | 0);
  let digits = 1;
  for (let t = x; t >= 10; t = Math.floor(t / 10)) digits++;
  let at = pos + digits;
  for (let t = x; at > pos; t = Math.floor(t / 10)) buf[--at] = 0x30 + (t % 10);
  return pos + digits;
}

/**
 * A number 1e-6 ≤ x < 2^32 that is exactly what its value to the microsecond parses to (capture times,
 * durations), as String(x) writes it: "W.ffffff" without trailing zeros. Returns -1 for any other number.
 * String(x) is the shortest decimal that parses back to x (plain notation in this range). If the decimal
 * W.ffffff parses to x, it is that shortest one: any other decimal parsing to x lies within one ulp of it
 * (< 1e-6 below 2^32), so it cannot have 6 or fewer decimals, and with more it is longer. Whether it parses
 * to x is exact arithmetic: W * 1e6 + f is an integer below 2^53, and IEEE division rounds the quotient
 * N / 1e6 to the nearest double exactly as parsing the decimal does. String(x) costs about as much as
 * the rest of a conn record; this is a few multiplications.
 */
function putMicros(buf: Uint8Array, pos: number, x: number): number {
  if (!(x >= 1e-6 && x < 4294967296)) return -1;
  let whole = Math.floor(x);
  let micros = Math.round((x - whole) * 1e6);
  if (micros === 1e6) {
    whole += 1;
    micros = 0;
  }
  if (micros === 0 || (whole * 1e6 + micros) / 1e6 !== x) return -1;
  pos = putWhole(buf, pos, whole);
  buf[pos++] = 0x2e; // .
  let digits = 6;
  while (micros % 10 === 0) {
    micros /= 10;
    digits--;
  }
  for (let at = pos + digits - 1, m = micros | 0; at >= pos; at--, m = (m / 10) | 0) buf[at] = 0x30 + (m % 10);
  return pos + digits;
}

/**
 * A string as JSON.stringify writes it, quotes included: printable ASCII without quote or backslash is
 * copied as is, anything else goes through JSON.stringify (escapes, UTF-8). Room: 6 * s.length + 2.
 */
export function putJsonString(buf: Buffer, pos: number, s: string): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return pos + buf.write(JSON.stringify(s), pos, 'utf8');
  }
  buf[pos++] = 0x22;
  pos = putAscii(buf, pos, s);
  buf[pos++] = 0x22;
  return pos;
}

/** Text prepared once as bytes (ASCII). */
export function bytesOf(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}
