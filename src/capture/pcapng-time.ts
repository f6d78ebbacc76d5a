/**
 * pcapng timestamps: a 64-bit count (two 32-bit halves) of units of 10^-n or 2^-n seconds, per interface
 * (if_tsresol, default 10^-6), plus an if_tsoffset in seconds. A float64 of seconds cannot hold the 64-bit
 * count exactly (nanoseconds since 1970 are ~2^60), so the division by the resolution is done exactly in
 * 16-bit steps, and only the final seconds + fraction is rounded. No BigInt: nothing is allocated per packet.
 */

/** How one interface's timestamps turn into seconds, precomputed from if_tsresol and if_tsoffset. */
export interface InterfaceClock {
  /** 10^n for decimal resolutions, 0 for binary ones. */
  divisor: number;
  /** Binary resolution 2^-n: seconds = hi * mulHi + lo * mulLo (both exact powers of two). */
  mulHi: number;
  mulLo: number;
  /** if_tsoffset, seconds. */
  offset: number;
}

/** Largest divisor for which the 16-bit long division stays exact in float64 (remainder * 2^16 < 2^53). */
const EXACT_DIVISOR_LIMIT = 2 ** 37;
const TWO_32 = 4294967296;

/** Interprets the if_tsresol byte: top bit set = negative power of 2, else negative power of 10. */
export function clockFor(tsresol: number, offsetSeconds: number): InterfaceClock {
  if (tsresol & 0x80) {
    const shift = tsresol & 0x7f;
    return { divisor: 0, mulHi: 2 ** (32 - shift), mulLo: 2 ** -shift, offset: offsetSeconds };
  }
  return { divisor: 10 ** tsresol, mulHi: 0, mulLo: 0, offset: offsetSeconds };
}

export const DEFAULT_TSRESOL = 6;

/** Seconds since the epoch for the unsigned 64-bit count hi:lo under `clock`. Never throws; huge values stay huge. */
export function pcapngSeconds(hi: number, lo: number, clock: InterfaceClock): number {
  const divisor = clock.divisor;
  if (divisor === 0) return hi * clock.mulHi + lo * clock.mulLo + clock.offset;
  if (divisor > EXACT_DIVISOR_LIMIT) return (hi * TWO_32 + lo) / divisor + clock.offset;
  return divideExact(hi, lo, divisor) + clock.offset;
}

/** (hi * 2^32 + lo) / divisor with an exact integer quotient and remainder; one rounding at the end. */
function divideExact(hi: number, lo: number, divisor: number): number {
  let r = hi >>> 16;
  const q3 = Math.floor(r / divisor);
  r -= q3 * divisor;
  r = r * 65536 + (hi & 0xffff);
  let q2 = Math.floor(r / divisor);
  r -= q2 * divisor;
  // Guard: float division could round a quotient up to the next integer if divisor > 2^38; it is at most
  // 2^37 here, so these corrections never fire, but they keep the remainder non-negative if that changes.
  if (r < 0) {
    q2--;
    r += divisor;
  }
  r = r * 65536 + (lo >>> 16);
  let q1 = Math.floor(r / divisor);
  r -= q1 * divisor;
  if (r < 0) {
    q1--;
    r += divisor;
  }
  r = r * 65536 + (lo & 0xffff);
  let q0 = Math.floor(r / divisor);
  r -= q0 * divisor;
  if (r < 0) {
    q0--;
    r += divisor;
  }
  const seconds = ((q3 * 65536 + q2) * 65536 + q1) * 65536 + q0;
  return seconds + r / divisor;
}
