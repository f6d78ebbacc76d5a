/**
 * The History view's time ranges: the presets, the resolution that suits each, and typed ranges in the forms
 * `loopy query --since` takes ("30m", "-30m", "2026-11-20 10:00 .. 2026-11-20 12:30", "2026-11-20 10:00 .. +30m"),
 * times without a zone in UTC.
 */
import type { Resolution } from '../client/agent-client.js';
import { parseDuration, parseTimeSpec, TimeSpecError } from '../client/time-spec.js';

export interface TimeRange {
  since: number;
  until: number;
  label: string;
}

export const PRESETS: ReadonlyArray<{ label: string; seconds: number }> = [
  { label: 'last hour', seconds: 3600 },
  { label: 'last day', seconds: 86400 },
  { label: 'last week', seconds: 7 * 86400 },
];

/** A preset over whole steps, the current (unfinished) one left out: "last hour" is the last 60 whole minutes. */
export function presetRange(index: number, now: number): TimeRange {
  const p = PRESETS[index % PRESETS.length];
  return lastSpan(p.seconds, now, p.label);
}

/** The `seconds` before now, ending on a step boundary of the resolution that suits them. */
function lastSpan(seconds: number, now: number, label: string): TimeRange {
  const { step } = resolutionFor({ since: 0, until: seconds, label });
  const until = Math.floor(now / step) * step;
  return { since: until - Math.ceil(seconds / step) * step, until, label };
}

/** Aim for a few hundred points at most: seconds for up to 10 minutes, minutes up to two days, else hours. */
export function resolutionFor(range: TimeRange): { resolution: Resolution; step: number } {
  const span = range.until - range.since;
  if (span <= 600) return { resolution: '1s', step: 1 };
  if (span <= 2 * 86400) return { resolution: '1m', step: 60 };
  return { resolution: '1h', step: 3600 };
}

/** The forms the range prompt shows: those of `loopy query --since/--until` (src/client/time-spec.ts). */
export const RANGE_FORMS = '30m  2h  -30m  2024-06-10 06:00  A .. B  A .. +30m  (UTC)';

/** A time typed without a zone is UTC, as every time the UI shows. */
function asUtc(text: string): string {
  return /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(text) ? `${text}Z` : text;
}

/** `-30m` is `30m` (both mean "from 30 minutes ago"): the History view asked for the first, query for the second. */
function start(text: string, now: number): number {
  return parseTimeSpec(asUtc(/^-\d/.test(text) ? text.slice(1) : text), now, 'start');
}

/**
 * A typed range, or an error saying what was expected: one time (from then until now) or two joined by "..",
 * each in the forms `loopy query --since` takes; the end may also be "+DURATION" after the start.
 */
export function parseRange(text: string, now: number): TimeRange | { error: string } {
  const t = text.trim();
  const parts = t.split('..').map((p) => p.trim());
  if (parts.length > 2 || parts[0] === '') return { error: `type a range: ${RANGE_FORMS}` };
  try {
    const since = Math.floor(start(parts[0], now));
    if (parts.length === 1) {
      const back = parts[0].replace(/^-/, '');
      if (DURATION_TEXT.test(back)) return lastSpan(Math.floor(now) - since, now, `last ${back}`);
      return { since, until: Math.floor(now), label: `${parts[0]} .. now` };
    }
    const until = parts[1].startsWith('+') ? since + parseDuration(parts[1].slice(1), 'end') : Math.floor(parseTimeSpec(asUtc(parts[1]), now, 'end'));
    if (until <= since) return { error: 'the end must come after the start' };
    return { since, until, label: t };
  } catch (err) {
    if (err instanceof TimeSpecError) return { error: `${err.message} (${RANGE_FORMS})` };
    throw err;
  }
}

const DURATION_TEXT = /^\d+(\.\d+)?[smhdwy]$/;
