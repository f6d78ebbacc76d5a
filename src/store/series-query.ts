/**
 * series(): points at 1 s, 1 min or 1 h. Each resolution reads its own table for the part already rolled up
 * and the finer tables for the recent part not rolled yet (the current minute, the current hour), so a
 * 24-hour query at 1 min reads about 1,440 rows of stats_1m plus at most a minute of stats_1s.
 */
import type Database from 'better-sqlite3';
import { HOUR, MINUTE, type Rollups } from './rollups.js';
import { SERIES_COLUMNS, type HistoryQuery, type Resolution, type SeriesPoint } from './types.js';

const STEP: Record<Resolution, number> = { '1s': 1, '1m': MINUTE, '1h': HOUR };
const TABLE_STEP: Record<string, number> = { stats_1s: 1, stats_1m: MINUTE, stats_1h: HOUR };
const COLS = SERIES_COLUMNS.join(', ');
const SUMS = SERIES_COLUMNS.map((c) => `sum(${c}) AS ${c}`).join(', ');

/** One source of a resolution: a table, used for buckets in [lower, upper) where the bounds come from the watermarks. */
interface Part {
  table: string;
  lower: (r: Rollups) => number;
  upper: (r: Rollups) => number;
}

const ALL = () => -Infinity;
const NONE = () => Infinity;

/** Sources in time order: each starts where the previous one stops, so their points come out in order. */
const PARTS: Record<Resolution, Part[]> = {
  '1s': [{ table: 'stats_1s', lower: ALL, upper: NONE }],
  '1m': [
    { table: 'stats_1m', lower: ALL, upper: (r) => r.minuteUntil },
    { table: 'stats_1s', lower: (r) => r.minuteUntil, upper: NONE },
  ],
  '1h': [
    { table: 'stats_1h', lower: ALL, upper: (r) => r.hourUntil },
    { table: 'stats_1m', lower: (r) => r.hourUntil, upper: (r) => r.minuteUntil },
    { table: 'stats_1s', lower: (r) => r.minuteUntil, upper: NONE },
  ],
};

export class SeriesQueries {
  private readonly statements: Record<Resolution, Database.Statement[]>;

  constructor(
    db: Database.Database,
    private readonly rollups: Rollups,
  ) {
    const build = (resolution: Resolution) =>
      PARTS[resolution].map(({ table }) => {
        const step = STEP[resolution];
        // A table already at this resolution is read as it is (a rowid range, no sort); finer ones are summed.
        if (TABLE_STEP[table] === step) return db.prepare(`SELECT ts, ${COLS} FROM ${table} WHERE ts >= ? AND ts < ? ORDER BY ts`);
        return db.prepare(`SELECT ts - ts % ${step} AS ts, ${SUMS} FROM ${table} WHERE ts >= ? AND ts < ? GROUP BY 1 ORDER BY 1`);
      });
    this.statements = { '1s': build('1s'), '1m': build('1m'), '1h': build('1h') };
  }

  /** Points in [since, until), the bucket holding `since` included, oldest first; the latest `limit` when given. */
  series(q: HistoryQuery & { resolution: Resolution }): SeriesPoint[] {
    const step = STEP[q.resolution];
    if (step === undefined) throw new RangeError(`unknown resolution ${String(q.resolution)}: use 1s, 1m or 1h`);
    const since = Math.floor(q.since / step) * step;
    const until = Math.ceil(q.until);
    const out: SeriesPoint[] = [];
    PARTS[q.resolution].forEach((part, i) => {
      const lo = Math.max(since, part.lower(this.rollups));
      const hi = Math.min(until, part.upper(this.rollups));
      if (!(lo < hi)) return;
      const rows = this.statements[q.resolution][i].all(clampInt(lo), clampInt(hi)) as SeriesPoint[];
      for (const row of rows) {
        // Two sources meet inside one bucket (the hour holding the minute watermark): add them up.
        const last = out.length > 0 ? out[out.length - 1] : undefined;
        if (last !== undefined && last.ts === row.ts) for (const c of SERIES_COLUMNS) last[c] += row[c];
        else out.push(row);
      }
    });
    if (q.limit !== undefined && q.limit >= 0 && out.length > q.limit) return out.slice(out.length - Math.floor(q.limit));
    return out;
  }
}

/** SQLite integers: ±Infinity and fractions become bounds it compares exactly (ts is an integer). */
function clampInt(x: number): number {
  if (x === Infinity) return Number.MAX_SAFE_INTEGER;
  if (x === -Infinity) return Number.MIN_SAFE_INTEGER;
  return Math.ceil(x);
}
