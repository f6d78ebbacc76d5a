/**
 * Retention: each table drops rows older than its horizon, and the file is kept under a size cap by deleting
 * the oldest detail first (flows and DNS, then seconds, then minutes, alerts and hours last). Series rows
 * not yet rolled up are never deleted, so a rollup never loses what it has not summed.
 */
import type Database from 'better-sqlite3';
import type { Rollups } from './rollups.js';
import type { Retention } from './types.js';

/** In the order the size cap sacrifices them; `upper` protects rows not yet rolled into the next table. */
interface Victim {
  table: string;
  ts: string;
  /** Which rows of the table (a constant condition). */
  only?: string;
  upper?: (r: Rollups) => number;
}

const SIZE_CAP_ORDER: readonly Victim[] = [
  // Rows older versions wrote a record each (schema 4 and before), then the segments.
  { table: 'conn', ts: 'ts' },
  { table: 'dns', ts: 'ts' },
  { table: 'segments', ts: 'ts_max', only: "kind = 'conn'" },
  { table: 'segments', ts: 'ts_max', only: "kind = 'dns'" },
  { table: 'stats_1s', ts: 'ts', upper: (r) => r.minuteUntil },
  { table: 'talkers_1m', ts: 'ts' },
  { table: 'stats_1m', ts: 'ts', upper: (r) => r.hourUntil },
  { table: 'alerts', ts: 'state_ts' },
  { table: 'stats_1h', ts: 'ts' },
];

/** Each pass of the size cap deletes about this share of a table's time span (oldest first). */
const SPAN_SHARE = 1 / 8;

export class RetentionPolicy {
  constructor(
    private readonly db: Database.Database,
    private readonly rollups: Rollups,
    private readonly retention: Retention,
    private readonly maxBytes: number,
  ) {}

  /** Deletes what is past its horizon at `now` (seconds), then enforces the size cap. */
  enforce(now: number): void {
    const r = this.retention;
    const ro = this.rollups;
    const db = this.db;
    db.transaction(() => {
      db.prepare('DELETE FROM stats_1s WHERE ts < ?').run(Math.min(now - r.stats1s, ro.minuteUntil));
      db.prepare('DELETE FROM stats_1m WHERE ts < ?').run(Math.min(now - r.stats1m, ro.hourUntil));
      db.prepare('DELETE FROM talkers_1m WHERE ts < ?').run(now - r.stats1m);
      db.prepare('DELETE FROM stats_1h WHERE ts < ?').run(now - r.stats1h);
      db.prepare('DELETE FROM conn WHERE ts < ?').run(now - r.conn);
      db.prepare('DELETE FROM dns WHERE ts < ?').run(now - r.dns);
      // A segment goes once its newest record has: its older ones stay at most a minute longer.
      db.prepare("DELETE FROM segments WHERE kind = 'conn' AND ts_max < ?").run(now - r.conn);
      db.prepare("DELETE FROM segments WHERE kind = 'dns' AND ts_max < ?").run(now - r.dns);
      db.prepare('DELETE FROM alerts WHERE state_ts < ?').run(now - r.alerts);
    })();
    this.enforceSizeCap();
    // Freed pages go back to the file system (auto_vacuum = INCREMENTAL; a no-op on files made without it).
    db.pragma('incremental_vacuum');
  }

  /** Bytes of pages in use (free pages are reused before the file grows, so they do not count). */
  usedBytes(): number {
    const pages = this.db.pragma('page_count', { simple: true }) as number;
    const free = this.db.pragma('freelist_count', { simple: true }) as number;
    const size = this.db.pragma('page_size', { simple: true }) as number;
    return (pages - free) * size;
  }

  private enforceSizeCap(): void {
    for (const victim of SIZE_CAP_ORDER) {
      while (this.usedBytes() > this.maxBytes) {
        if (!this.deleteOldest(victim)) break;
      }
      if (this.usedBytes() <= this.maxBytes) return;
    }
  }

  /** Deletes the oldest eighth of the table's time span; false when there is nothing it may delete. */
  private deleteOldest(v: Victim): boolean {
    const upper = v.upper ? v.upper(this.rollups) : Infinity;
    const only = v.only ? ` AND ${v.only}` : '';
    const range = this.db.prepare(`SELECT min(${v.ts}) AS lo, max(${v.ts}) AS hi FROM ${v.table} WHERE ${v.ts} < ?${only}`).get(bound(upper)) as {
      lo: number | null;
      hi: number | null;
    };
    if (range.lo === null || range.hi === null) return false;
    const cut = range.lo + Math.max((range.hi - range.lo) * SPAN_SHARE, 0);
    // `<=` so a table whose rows share one time still empties.
    this.db.prepare(`DELETE FROM ${v.table} WHERE ${v.ts} <= ? AND ${v.ts} < ?${only}`).run(cut, bound(upper));
    return true;
  }
}

function bound(x: number): number {
  return x === Infinity ? Number.MAX_VALUE : x;
}
