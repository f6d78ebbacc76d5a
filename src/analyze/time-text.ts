/**
 * Capture times as dates in text. A capture can carry any time — a pcapng timestamp is 64 bits and its
 * interface's offset signed, so one damaged byte makes a time past the year 275760 — and past what a Date
 * holds, toISOString throws. Everything that writes a capture time as a date (ECS, summaries, the UI,
 * syslog, Zeek log names) goes through here, so such a packet gives a text instead of a crash.
 */

/** Seconds from the epoch a Date holds, either way (ECMA-262: ±8.64e15 ms). */
export const DATE_RANGE_SECONDS = 8.64e12;

/** True when a Date holds the time (not NaN, within ±DATE_RANGE_SECONDS). */
export function dateHolds(seconds: number): boolean {
  return Math.abs(seconds) <= DATE_RANGE_SECONDS;
}

/** ISO 8601 in UTC to the millisecond ("2026-12-06T14:07:06.000Z"), or undefined when no Date holds the time. */
export function isoTimeOf(seconds: number): string | undefined {
  return dateHolds(seconds) ? new Date(seconds * 1000).toISOString() : undefined;
}

/** "14:07:06" (UTC), or "??:??:??" when no Date holds the time: a clock column for a person. */
export function utcClockText(seconds: number): string {
  return isoTimeOf(seconds)?.slice(11, 19) ?? '??:??:??';
}

/** "2026-12-06 14:07:06.000 UTC", or undefined when no Date holds the time. */
export function utcDateText(seconds: number): string | undefined {
  return isoTimeOf(seconds)?.replace('T', ' ').replace('Z', ' UTC');
}
