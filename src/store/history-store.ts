/**
 * The agent's memory: per-second statistics rolled up to minutes and hours, closed flows, DNS transactions
 * and alerts, in one SQLite file (WAL) under the data directory. The agent appends as records leave the
 * engine (kept in memory) and calls flush() once a second: one transaction for all of it, off the capture
 * path. A kill -9 loses at most what was appended since the last flush; WAL makes the file open clean after.
 */
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { ConnRecord, DnsRecord } from '../analyze/records.js';
import type { StatsSecond } from '../stats/stats-record.js';
import { RecordQueries } from './record-queries.js';
import { RetentionPolicy } from './retention.js';
import { MINUTE, Rollups, type Counters } from './rollups.js';
import { migrate } from './schema.js';
import { SeriesQueries } from './series-query.js';
import { statsCounters, insertConn, insertDns, type RecordInserts, prepareInserts, upsertAlert } from './writes.js';
import {
  DEFAULT_MAX_BYTES,
  DEFAULT_RETENTION,
  SERIES_COLUMNS,
  type AlertAck,
  type AlertLike,
  type HistoryQuery,
  type HistoryStoreOptions,
  type HostTotal,
  type Resolution,
  type Retention,
  type SeriesPoint,
  type TalkersQuery,
} from './types.js';

export const DATABASE_FILE = 'history.sqlite';
/** flush() runs retention at most this often (seconds of the store's clock). */
const RETENTION_INTERVAL = 60;
const ALERTS_COLUMN = SERIES_COLUMNS.indexOf('alerts');
/** Filters of HistoryQuery the series cannot honour: it is rolled up for all traffic only. */
const SERIES_UNFILTERED = ['host', 'port', 'proto'] as const;
/** What to use instead, for the error a person reads. */
const SERIES_FILTER_HINT =
  'series are kept for all traffic only (since, until, resolution and limit are supported); per host, ask for top talkers (per minute) or flows with that host';

export class StoreOpenError extends Error {
  readonly code = 'STORE_OPEN_FAILED';
}

interface PendingSecond {
  second: number;
  counters: Counters;
  talkers: Array<{ host: string; bytes: number; packets: number }>;
}

export class HistoryStore {
  private pendingStats: PendingSecond[] = [];
  private pendingConn: ConnRecord[] = [];
  private pendingDns: DnsRecord[] = [];
  private pendingAlerts: AlertLike[] = [];
  private latestSecond: number;
  private nextRetention = -Infinity;
  private closed = false;
  private readonly rollups: Rollups;
  private readonly seriesQueries: SeriesQueries;
  private readonly recordQueries: RecordQueries;
  private readonly retention: RetentionPolicy;
  private readonly inserts: RecordInserts;
  private readonly clock: () => number;

  private constructor(
    private readonly db: Database.Database,
    readonly path: string,
    options: HistoryStoreOptions,
  ) {
    this.clock = options.clock ?? (() => Date.now() / 1000);
    this.rollups = new Rollups(db, Math.max(0, Math.floor(options.talkersPerMinute ?? 20)));
    this.seriesQueries = new SeriesQueries(db, this.rollups);
    this.recordQueries = new RecordQueries(db);
    const retention: Retention = { ...DEFAULT_RETENTION, ...options.retention };
    this.retention = new RetentionPolicy(db, this.rollups, retention, options.maxBytes ?? DEFAULT_MAX_BYTES);
    this.inserts = prepareInserts(db);
    this.latestSecond = (db.prepare('SELECT max(ts) FROM stats_1s').pluck().get() as number | null) ?? -Infinity;
  }

  /** Opens (creating 0700 / 0600 if need be) and migrates the store in `dir`. */
  static open(dir: string, options: HistoryStoreOptions = {}): HistoryStore {
    const path = join(dir, DATABASE_FILE);
    let db: Database.Database | undefined;
    try {
      if (mkdirSync(dir, { recursive: true, mode: 0o700 }) !== undefined) chmodSync(dir, 0o700);
      // SQLite gives the -wal and -shm files the database file's mode, so this one chmod covers all three.
      if (!existsSync(path)) closeSync(openSync(path, 'wx', 0o600));
      chmodSync(path, 0o600);
      db = new Database(path);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('busy_timeout = 5000');
      // Keeps the WAL file from staying at its high-water mark after a burst.
      db.pragma(`journal_size_limit = ${64 * 1024 * 1024}`);
      migrate(db);
      return new HistoryStore(db, path, options);
    } catch (err) {
      db?.close();
      if ((err as { code?: string }).code === 'STORE_SCHEMA_TOO_NEW') throw err;
      const why = err instanceof Error ? err.message : String(err);
      throw new StoreOpenError(`history database ${path} cannot be opened: ${why}; check the --data directory (move a damaged file aside)`, { cause: err });
    }
  }

  appendStats(rec: StatsSecond): void {
    const talkers = rec.top_talkers.map((t) => ({ host: t.host, bytes: t.bytes, packets: t.packets }));
    this.pendingStats.push({ second: Math.floor(rec.ts), counters: statsCounters(rec), talkers });
  }

  appendConn(rec: ConnRecord): void {
    this.pendingConn.push(rec);
  }

  appendDns(rec: DnsRecord): void {
    this.pendingDns.push(rec);
  }

  /** Alerts are kept one row per alert_id in its latest state; the second it first fired counts it in the series. */
  appendAlert(rec: AlertLike): void {
    this.pendingAlerts.push(rec);
  }

  /** Writes everything appended since the last flush in one transaction, rolls up completed minutes and hours. */
  flush(): void {
    this.assertOpen();
    const stats = this.pendingStats;
    const conns = this.pendingConn;
    const dns = this.pendingDns;
    const alerts = this.pendingAlerts;
    // Taken before writing: if the disk fails, what was buffered is dropped rather than growing without end.
    this.pendingStats = [];
    this.pendingConn = [];
    this.pendingDns = [];
    this.pendingAlerts = [];
    if (stats.length + conns.length + dns.length + alerts.length > 0) {
      this.db.transaction(() => {
        let latest = this.latestSecond;
        for (const s of stats) {
          this.rollups.addSecond(s.second, s.counters);
          const minute = s.second - (s.second % MINUTE);
          for (const t of s.talkers) this.inserts.talker.run(minute, t.host, t.bytes, t.packets);
          if (s.second > latest) latest = s.second;
        }
        for (const a of alerts) {
          if (!upsertAlert(this.inserts, a)) continue;
          const counters: Counters = new Array(SERIES_COLUMNS.length).fill(0);
          counters[ALERTS_COLUMN] = 1;
          this.rollups.addSecond(Math.floor(a.ts), counters);
        }
        for (const c of conns) insertConn(this.inserts, c);
        for (const d of dns) insertDns(this.inserts, d);
        if (latest > -Infinity) this.rollups.rollUpTo(latest);
        this.latestSecond = latest;
      })();
    }
    const now = this.clock();
    if (now >= this.nextRetention) {
      this.nextRetention = now + RETENTION_INTERVAL;
      this.retention.enforce(now);
    }
  }

  /** The series keeps all traffic only: a host, port or proto filter is a RangeError, never silently ignored. */
  series(q: HistoryQuery & { resolution: Resolution }): SeriesPoint[] {
    this.assertOpen();
    for (const filter of SERIES_UNFILTERED) {
      if (q[filter] !== undefined) throw new RangeError(`the stored series cannot be filtered by ${filter}: ${SERIES_FILTER_HINT}`);
    }
    return this.seriesQueries.series(q);
  }

  flows(q: HistoryQuery): ConnRecord[] {
    this.assertOpen();
    return this.recordQueries.flows(q);
  }

  dns(q: HistoryQuery): DnsRecord[] {
    this.assertOpen();
    return this.recordQueries.dns(q);
  }

  alerts(q: HistoryQuery): AlertLike[] {
    this.assertOpen();
    return this.recordQueries.alerts(q);
  }

  /** One alert in its latest state (acknowledgement merged), or undefined. */
  alert(alertId: string): AlertLike | undefined {
    this.assertOpen();
    return this.recordQueries.alert(alertId);
  }

  /**
   * Marks a stored alert acknowledged, at once and for good: later states of it keep the mark, and the first
   * acknowledgement wins over later ones. Returns the alert with its acknowledgement, or undefined when the
   * store does not have it.
   */
  acknowledgeAlert(alertId: string, ack: AlertAck): AlertLike | undefined {
    this.assertOpen();
    // An alert appended this second is not in the table yet: write what is buffered first.
    this.flush();
    this.inserts.acknowledge.run(ack.acknowledged_at, ack.acknowledged_by, alertId);
    return this.recordQueries.alert(alertId);
  }

  /**
   * Bytes and packets per host over the range, biggest first, at one-minute resolution (host/port/proto do not
   * apply). From the per-second top talkers (`topN` a second) summed per minute and kept for the top
   * `talkersPerMinute` of each minute: a host's total counts only the seconds and minutes it was among them.
   */
  topTalkers(q: TalkersQuery): HostTotal[] {
    this.assertOpen();
    return this.recordQueries.topTalkers(q);
  }

  /** Deletes what is past retention at `now` (seconds since the epoch) and enforces the size cap. */
  enforceRetention(now: number): void {
    this.assertOpen();
    this.retention.enforce(now);
  }

  /** Bytes of database pages in use (what the size cap limits). */
  usedBytes(): number {
    return this.retention.usedBytes();
  }

  /** Flushes what is buffered and closes the file. Idempotent. */
  close(): void {
    if (this.closed) return;
    try {
      this.flush();
      // Lets the planner learn the tables' shapes (cheap; SQLite's advice for long-lived connections at close).
      this.db.pragma('optimize');
    } finally {
      this.closed = true;
      this.db.close();
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new Error(`history store ${this.path} is closed`);
  }
}
