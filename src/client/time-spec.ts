/**
 * Times on the command line: `now`, a duration back from now (30s, 15m, 1h, 7d, 2w), an ISO 8601 time
 * (2024-06-01, 2024-06-01T12:00:00Z, 2024-06-01T12:00:00+02:00) or seconds since the epoch.
 */
export class TimeSpecError extends Error {
  readonly code = 'LOOPY_TIME';
}

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800, y: 31_536_000 };
const DURATION = /^(\d+(?:\.\d+)?)(s|m|h|d|w|y)$/;
const ISO = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/** Seconds in a duration like 15m; throws TimeSpecError naming `option`. */
export function parseDuration(text: string, option: string): number {
  const m = DURATION.exec(text.trim());
  if (!m) throw new TimeSpecError(`${option} '${text}' is not a duration: use e.g. 30s, 15m, 1h, 7d, 2w or 1y`);
  return Number(m[1]) * UNIT_SECONDS[m[2]!]!;
}

/** A point in time in seconds since the epoch; `now` in seconds too. */
export function parseTimeSpec(text: string, now: number, option: string): number {
  const t = text.trim();
  if (t === 'now') return now;
  if (DURATION.test(t)) return now - parseDuration(t, option);
  if (/^\d{9,}(\.\d+)?$/.test(t)) return Number(t);
  if (ISO.test(t)) {
    const ms = Date.parse(t.replace(' ', 'T'));
    if (Number.isFinite(ms)) return ms / 1000;
    throw new TimeSpecError(`${option} '${text}' is not a real date`);
  }
  throw new TimeSpecError(
    `${option} '${text}' is not a time: use 'now', a duration back from now (15m, 1h, 7d), an ISO 8601 time (2024-06-01T12:00:00Z) or epoch seconds`,
  );
}

/** --since/--until into a range; `until` before `since` is an error that names both. */
export function parseTimeRange(since: string, until: string, now: number): { since: number; until: number } {
  const s = parseTimeSpec(since, now, '--since');
  const u = parseTimeSpec(until, now, '--until');
  if (s > u) throw new TimeSpecError(`--since ${since} is after --until ${until}: swap them`);
  return { since: s, until: u };
}
