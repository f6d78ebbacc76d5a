/**
 * The agent's memory: per-second statistics rolled up to minutes and hours, closed flows, DNS transactions
 * (in segments, segment-write.ts) and alerts, in one SQLite file (WAL) under the data directory. Records are
 * appended as they leave the engine (packed in memory, write-buffer.ts) and flush() writes them in one
 * transaction. A kill -9 loses at most what was appended since the last flush; WAL makes the file open clean
 * after. Synchronous: the agent runs it on its own thread (worker-store.ts), tests and tools directly.
 */
import { chmodSync, closeSync, existsSync, openSync } from 'node:fs';
import { makeDirectory } from '../capture/directories.js';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { ConnRecord, DnsRecord } from '../analyze/records.js';
import { limitOf, RecordQueries } from './record-queries.js';
import { RetentionPolicy } from './retention.js';
import { MINUTE, Rollups, type Counters } from './rollups.js';
import { migrate } from './schema.js';
import { SegmentQueries } from './segment-read.js';
import { completeFlowRows, type RecordBatch } from './record-batch.js';
import { SegmentWriter } from './segment-write.js';
import { SeriesQueries } from './series-query.js';
import { BufferedAppends, type WriteBatch } from './write-buffer.js';
import { type RecordInserts, prepareInserts, upsertAlert } from './writes.js';
import { type RecordRows, rowsOf } from '../analyze/record-rows.js';
import {
  DATABASE_FILE,
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

export { DATABASE_FILE } from './types.js';
/** flush() runs retention at most this often (seconds of the store's clock). */
const RETENTION_INTERVAL = 60;
const ALERTS_COLUMN = SERIES_COLUMNS.indexOf('alerts');
const FLOWS_COLUMN = SERIES_COLUMNS.indexOf('flows_opened');
const DNS_COLUMN = SERIES_COLUMNS.indexOf('dns_queries');
/** Filters of HistoryQuery the series cannot honour: it is rolled up for all traffic only. */
const SERIES_UNFILTERED = ['host', 'port', 'proto'] as const;
/** What to use instead, for the error a person reads. */
const SERIES_FILTER_HINT =
  'series are kept for all traffic only (since, until, resolution and limit are supported); per host, ask for top talkers (per minute) or flows with that host';

export class StoreOpenError extends Error {
  readonly code = 'STORE_OPEN_FAILED';
}

/** The second of each row of a batch (its ts column). */
function recordSeconds(batch: RecordBatch): number[] {
  const ts = batch.numbers[0];
  return Array.from({ length: batch.rows }, (_, r) => Math.floor(ts[r]));
}

/** Two lists newest first (ts descending) merged, the first list's records ahead on equal times, cut at `limit`. */
function mergeNewestFirst<T extends { ts: number }>(first: T[], second: T[], limit: number): T[] {
  if (second.length === 0) return first;
  const out: T[] = [];
  let i = 0;
  let j = 0;
  while (out.length < limit && (i < first.length || j < second.length)) {
    if (j >= second.length || (i < first.length && first[i].ts >= second[j].ts)) out.push(first[i++]);
    else out.push(second[j++]);
  }
  return out;
}

export class HistoryStore extends BufferedAppends<AlertLike> {
  private latestSecond: number;
  private nextRetention = -Infinity;
  private closed = false;
  private readonly rollups: Rollups;
  private readonly seriesQueries: SeriesQueries;
  private readonly recordQueries: RecordQueries;
  private readonly segmentQueries: SegmentQueries;
  private readonly retention: RetentionPolicy;
  private readonly inserts: RecordInserts;
  private readonly segments: SegmentWriter;
  private readonly clock: () => number;

  private constructor(
    private readonly db: Database.Database,
    readonly path: string,
    options: HistoryStoreOptions,
  ) {
    super();
    this.clock = options.clock ?? (() => Date.now() / 1000);
    this.rollups = new Rollups(db, Math.max(0, Math.floor(options.talkersPerMinute ?? 20)));
    this.seriesQueries = new SeriesQueries(db, this.rollups);
    this.recordQueries = new RecordQueries(db);
    this.segmentQueries = new SegmentQueries(db);
    const retention: Retention = { ...DEFAULT_RETENTION, ...options.retention };
    this.retention = new RetentionPolicy(db, this.rollups, retention, options.maxBytes ?? DEFAULT_MAX_BYTES);
    this.inserts = prepareInserts(db);
    this.segments = new SegmentWriter(db);
    this.latestSecond = (db.prepare('SELECT max(ts) FROM stats_1s').pluck().get() as number | null) ?? -Infinity;
  }

  /** Opens (creating 0700 / 0600 if need be) and migrates the store in `dir`. */
  static open(dir: string, options: HistoryStoreOptions = {}): HistoryStore {
    const path = join(dir, DATABASE_FILE);
    let db: Database.Database | undefined;
    try {
      if (makeDirectory(dir, 0o700) !== undefined) chmodSync(dir, 0o700);
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
      if (options.fileLimitBytes !== undefined) db.pragma(`max_page_count = ${Math.ceil(options.fileLimitBytes / (db.pragma('page_size', { simple: true }) as number))}`);
      return new HistoryStore(db, path, options);
    } catch (err) {
      db?.close();
      if ((err as { code?: string }).code === 'STORE_SCHEMA_TOO_NEW') throw err;
      const why = err instanceof Error ? err.message : String(err);
      throw new StoreOpenError(`history database ${path} cannot be opened: ${why}; check the --data directory (move a damaged file aside)`, { cause: err });
    }
  }

  /** Records appended but refused: more in one flush than a batch holds. */
  get droppedRecords(): number {
    return this.pending.dropped;
  }

  /** Writes everything appended since the last flush in one transaction, rolls up completed minutes and hours. */
  flush(): void {
    this.assertOpen();
    // Taken before writing: if the disk fails, what was buffered is dropped rather than growing without end.
    const batch = this.pending.take();
    if (batch !== undefined) this.write(batch);
    this.retainIfDue();
  }

  /** Writes a batch (appended here, or on the agent's thread for the worker store) in one transaction. */
  write(batch: WriteBatch): void {
    this.assertOpen();
    try {
      this.latestSecond = this.db.transaction(() => this.writeInTransaction(batch))();
    } catch (err) {
      // Rolled back: the rollups' watermarks in memory may have moved with it.
      this.rollups.reload();
      throw err;
    }
  }

  /**
   * Hands SQLite's page cache back to the C heap (PRAGMA shrink_memory). The cache holds up to 16 MB a
   * connection (better-sqlite3 builds SQLite with a 16,000 KiB default) and, once a burst of writes or a broad
   * query has filled it, keeps it for the connection's life; the pages are in the system's file cache anyway,
   * so a quiet store loses nothing by reading them again.
   */
  releaseCache(): void {
    this.assertOpen();
    this.db.pragma('shrink_memory');
  }

  /** Runs retention when a minute of the store's clock has passed since it last did. */
  retainIfDue(): void {
    this.assertOpen();
    const now = this.clock();
    if (now < this.nextRetention) return;
    this.nextRetention = now + RETENTION_INTERVAL;
    this.retention.enforce(now);
  }

  /** The series keeps all traffic only: a host, port or proto filter is a RangeError, never silently ignored. */
  series(q: HistoryQuery & { resolution: Resolution }): SeriesPoint[] {
    this.assertOpen();
    for (const filter of SERIES_UNFILTERED) {
      if (q[filter] !== undefined) throw new RangeError(`the stored series cannot be filtered by ${filter}: ${SERIES_FILTER_HINT}`);
    }
    return this.seriesQueries.series(q);
  }

  /** Newest first: segments, and rows an older version wrote in the conn table. */
  flows(q: HistoryQuery): ConnRecord[] {
    this.assertOpen();
    const limit = limitOf(q);
    return mergeNewestFirst(this.segmentQueries.records('conn', q, limit) as ConnRecord[], this.recordQueries.flows(q), limit);
  }

  /** flows(q) as JSON rows, for an answer written as it is (record-rows.ts). */
  flowRows(q: HistoryQuery): RecordRows {
    this.assertOpen();
    return this.answerRows('conn', q, this.recordQueries.flows(q));
  }

  /** dns(q) as JSON rows. */
  dnsRows(q: HistoryQuery): RecordRows {
    this.assertOpen();
    return this.answerRows('dns', q, this.recordQueries.dns(q));
  }

  /**
   * The newest records of `kind` as rows: written from the segments' columns, or through the records when an
   * older version's table (`older`) has some in the range too.
   */
  private answerRows(kind: 'conn' | 'dns', q: HistoryQuery, older: Array<ConnRecord | DnsRecord>): RecordRows {
    const limit = limitOf(q);
    if (older.length === 0) return this.segmentQueries.rows(kind, q, limit);
    return rowsOf(mergeNewestFirst(this.segmentQueries.records(kind, q, limit), older, limit));
  }

  dns(q: HistoryQuery): DnsRecord[] {
    this.assertOpen();
    const limit = limitOf(q);
    return mergeNewestFirst(this.segmentQueries.records('dns', q, limit) as DnsRecord[], this.recordQueries.dns(q), limit);
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

  /** The batch's rows and rollups; returns the newest second stored. */
  private writeInTransaction(batch: WriteBatch): number {
    let latest = this.latestSecond;
    for (const s of batch.stats) {
      this.rollups.addSecond(s.second, s.counters);
      const minute = s.second - (s.second % MINUTE);
      for (const t of s.talkers) this.inserts.talker.run(minute, t.host, t.bytes, t.packets);
      if (s.second > latest) latest = s.second;
    }
    const alertSeconds: number[] = [];
    for (const a of batch.alerts) if (upsertAlert(this.inserts, a)) alertSeconds.push(Math.floor(a.ts));
    this.countInSeries(alertSeconds, ALERTS_COLUMN);
    // Flow rows get their host names, uid and community_id here, on the store's thread.
    if (batch.conn) this.segments.write(completeFlowRows(batch.conn));
    if (batch.dns) this.segments.write(batch.dns);
    // The series count records by their own ts (not the second the agent rolled them in), so a step's
    // flows, DNS and alerts are exactly the records a query over that step returns (docs/protocol.md).
    if (batch.conn) this.countInSeries(recordSeconds(batch.conn), FLOWS_COLUMN);
    if (batch.dns) this.countInSeries(recordSeconds(batch.dns), DNS_COLUMN);
    if (latest > -Infinity) this.rollups.rollUpTo(latest);
    return latest;
  }

  /** Adds one to `column` at each second (one upsert per distinct second, late ones to the rolled tables too). */
  private countInSeries(seconds: readonly number[], column: number): void {
    const perSecond = new Map<number, number>();
    for (const s of seconds) perSecond.set(s, (perSecond.get(s) ?? 0) + 1);
    for (const [second, n] of perSecond) {
      const counters: Counters = new Array(SERIES_COLUMNS.length).fill(0);
      counters[column] = n;
      this.rollups.addSecond(second, counters);
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new Error(`history store ${this.path} is closed`);
  }
}
