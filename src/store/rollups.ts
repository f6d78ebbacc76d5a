/**
 * Rollups 1 s → 1 min → 1 h, incremental. Two watermarks in the meta table say how far each rollup has gone
 * (minuteUntil: every second before it is summed into stats_1m; hourUntil: every minute before it into
 * stats_1h). A minute is rolled once a later minute has data, so each flush reads only the seconds of the
 * minutes that just completed. A second that arrives after its minute was rolled (an alert counted late, a
 * clock that stepped back) is added to the coarser tables directly, so the sums always agree.
 */
import type Database from 'better-sqlite3';
import { SERIES_COLUMNS } from './types.js';

export const MINUTE = 60;
export const HOUR = 3600;

const COLS = SERIES_COLUMNS.join(', ');
const SUMS = SERIES_COLUMNS.map((c) => `sum(${c})`).join(', ');
const ADD_EXCLUDED = SERIES_COLUMNS.map((c) => `${c} = ${c} + excluded.${c}`).join(', ');
const PLACEHOLDERS = SERIES_COLUMNS.map(() => '?').join(', ');

/** The counters of one second, in SERIES_COLUMNS order. */
export type Counters = number[];

export class Rollups {
  minuteUntil: number;
  hourUntil: number;
  private readonly add: Record<'stats_1s' | 'stats_1m' | 'stats_1h', Database.Statement>;
  private readonly rollMinutes: Database.Statement;
  private readonly rollHours: Database.Statement;
  private readonly pruneTalkers: Database.Statement;
  private readonly setMeta: Database.Statement;
  private readonly meta: Database.Statement;

  constructor(
    private readonly db: Database.Database,
    private readonly talkersPerMinute: number,
  ) {
    const upsert = (table: string) => db.prepare(`INSERT INTO ${table} (ts, ${COLS}) VALUES (?, ${PLACEHOLDERS}) ON CONFLICT (ts) DO UPDATE SET ${ADD_EXCLUDED}`);
    this.add = { stats_1s: upsert('stats_1s'), stats_1m: upsert('stats_1m'), stats_1h: upsert('stats_1h') };
    const roll = (from: string, to: string, step: number) =>
      db.prepare(
        `INSERT INTO ${to} (ts, ${COLS}) SELECT ts - ts % ${step} AS bucket, ${SUMS} FROM ${from} WHERE ts >= ? AND ts < ? GROUP BY bucket ` +
          `ON CONFLICT (ts) DO UPDATE SET ${ADD_EXCLUDED}`,
      );
    this.rollMinutes = roll('stats_1s', 'stats_1m', MINUTE);
    this.rollHours = roll('stats_1m', 'stats_1h', HOUR);
    this.pruneTalkers = db.prepare(
      `DELETE FROM talkers_1m WHERE ts >= @from AND ts < @to AND (ts, host) IN (SELECT ts, host FROM ` +
        `(SELECT ts, host, row_number() OVER (PARTITION BY ts ORDER BY bytes DESC, host) AS rank FROM talkers_1m WHERE ts >= @from AND ts < @to) WHERE rank > @keep)`,
    );
    this.setMeta = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value');
    this.meta = db.prepare('SELECT value FROM meta WHERE key = ?').pluck();
    this.minuteUntil = 0;
    this.hourUntil = 0;
    this.reload();
  }

  /** The watermarks as the file has them: after a transaction that moved them was rolled back (a full disk). */
  reload(): void {
    this.minuteUntil = (this.meta.get('rolled_minute_until') as number | undefined) ?? 0;
    this.hourUntil = (this.meta.get('rolled_hour_until') as number | undefined) ?? 0;
  }

  /** Adds one second's counters (inside the caller's transaction), and to the coarser tables if already rolled. */
  addSecond(second: number, counters: Counters): void {
    this.add.stats_1s.run(second, ...counters);
    if (second >= this.minuteUntil) return;
    const minute = second - (second % MINUTE);
    this.add.stats_1m.run(minute, ...counters);
    if (minute < this.hourUntil) this.add.stats_1h.run(minute - (minute % HOUR), ...counters);
  }

  /** Rolls every minute before the one holding `latestSecond`, and every hour before the newest rolled minute's. */
  rollUpTo(latestSecond: number): void {
    const minuteBoundary = latestSecond - (latestSecond % MINUTE);
    if (minuteBoundary > this.minuteUntil) {
      this.rollMinutes.run(this.minuteUntil, minuteBoundary);
      this.pruneTalkers.run({ from: this.minuteUntil, to: minuteBoundary, keep: this.talkersPerMinute });
      this.minuteUntil = minuteBoundary;
      this.setMeta.run('rolled_minute_until', minuteBoundary);
    }
    const hourBoundary = this.minuteUntil - (this.minuteUntil % HOUR);
    if (hourBoundary > this.hourUntil) {
      this.rollHours.run(this.hourUntil, hourBoundary);
      this.hourUntil = hourBoundary;
      this.setMeta.run('rolled_hour_until', hourBoundary);
    }
  }
}
