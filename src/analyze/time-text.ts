/**
 * Capture times as dates in text. A capture can carry any time — a pcapng timestamp is 64 bits and its
 * interface's offset signed, so one damaged byte makes a time past the year 275760 — and past what a Date
 * holds, toISOString throws. Everything that writes a capture time as a date (ECS, summaries, the UI,
 * syslog, Zeek log names) goes through here, so such a packet gives a text instead of a crash.
 */

/** Seconds from the epoch a Date holds, either way (ECMA-262: ±8.64e15 ms). */
export const DATE_RANGE_SECONDS = 8.64e12;

/** ISO 8601 in UTC to the millisecond ("2026-12-06T14:07:06.000Z"), or undefined when no Date holds the time. */
export function isoTimeOf(seconds: number): string | undefined {
  return Math.abs(seconds) <= DATE_RANGE_SECONDS ? new Date(seconds * 1000).toISOString() : undefined;
}
