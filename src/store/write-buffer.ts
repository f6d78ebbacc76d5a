/**
 * What the agent appends between two flushes, ready to write: each second's counters and top talkers, alerts
 * as they are, closed flows and DNS transactions packed into columns (record-batch.ts). Both stores use it:
 * HistoryStore writes the batch itself, the worker store transfers it to its thread. Bounded: past
 * MAX_BATCH_ROWS records of a kind (seconds, alerts, flows, DNS) in one batch, appends are dropped and counted, never buffered without end.
 */
import type { ConnView } from '../analyze/flows/conn-record.js';
import type { ConnRecord, DnsRecord } from '../analyze/records.js';
import type { StatsSecond } from '../stats/stats-record.js';
import { batchBuffers, ConnBatchBuilder, DnsBatchBuilder, type RecordBatch } from './record-batch.js';
import type { Counters } from './rollups.js';
import type { AlertLike, StorableAlert } from './types.js';
import { statsCounters } from './writes.js';

/** Records of one kind a batch holds at most: several seconds of a very busy server's flows. */
export const MAX_BATCH_ROWS = 131_072;

export interface PendingSecond {
  second: number;
  counters: Counters;
  talkers: Array<{ host: string; bytes: number; packets: number }>;
}

/** One flush's worth: what HistoryStore.writeBatch() stores in one transaction. */
export interface WriteBatch {
  stats: PendingSecond[];
  alerts: AlertLike[];
  conn?: RecordBatch;
  dns?: RecordBatch;
}

export function batchRecords(b: WriteBatch): number {
  return b.stats.length + b.alerts.length + (b.conn?.rows ?? 0) + (b.dns?.rows ?? 0);
}

/** The buffers to transfer with a batch. */
export function writeBatchBuffers(b: WriteBatch): ArrayBuffer[] {
  return [...(b.conn ? batchBuffers(b.conn) : []), ...(b.dns ? batchBuffers(b.dns) : [])];
}

export class WriteBuffer {
  /** Records refused because the batch was full. */
  dropped = 0;
  private stats: PendingSecond[] = [];
  private alerts: AlertLike[] = [];
  private readonly conn = new ConnBatchBuilder(MAX_BATCH_ROWS);
  private readonly dns = new DnsBatchBuilder(MAX_BATCH_ROWS);

  appendStats(rec: StatsSecond): void {
    if (this.stats.length >= MAX_BATCH_ROWS) {
      this.dropped++;
      return;
    }
    const talkers = rec.top_talkers.map((t) => ({ host: t.host, bytes: t.bytes, packets: t.packets }));
    this.stats.push({ second: Math.floor(rec.ts), counters: statsCounters(rec), talkers });
  }

  appendConn(rec: ConnRecord): void {
    if (!this.conn.add(rec)) this.dropped++;
  }

  appendFlow(conn: ConnView): void {
    if (!this.conn.addFlow(conn)) this.dropped++;
  }

  appendDns(rec: DnsRecord): void {
    if (!this.dns.add(rec)) this.dropped++;
  }

  appendAlert(rec: StorableAlert): void {
    if (this.alerts.length >= MAX_BATCH_ROWS) this.dropped++;
    // Stored whole: its other fields go into the JSON as they are.
    else this.alerts.push(rec as AlertLike);
  }

  /** Flows and DNS transactions waiting in columns. */
  get columnRows(): number {
    return this.conn.rows + this.dns.rows;
  }

  /** Everything appended since the last take (undefined when nothing was); the buffer starts afresh. */
  take(): WriteBatch | undefined {
    const batch: WriteBatch = { stats: this.stats, alerts: this.alerts, conn: this.conn.take(), dns: this.dns.take() };
    this.stats = [];
    this.alerts = [];
    return batchRecords(batch) > 0 ? batch : undefined;
  }
}

/** What both stores offer the agent to append with: each record goes into a WriteBuffer until the flush. */
export abstract class BufferedAppends<Alert extends StorableAlert> {
  protected readonly pending = new WriteBuffer();

  appendStats(rec: StatsSecond): void {
    this.pending.appendStats(rec);
  }

  appendConn(rec: ConnRecord): void {
    this.pending.appendConn(rec);
    this.appended();
  }

  /** A closed flow straight from the flow table: the same row appendConn(conn.record()) would store, for no object. */
  appendFlow(conn: ConnView): void {
    this.pending.appendFlow(conn);
    this.appended();
  }

  appendDns(rec: DnsRecord): void {
    this.pending.appendDns(rec);
    this.appended();
  }

  /** After each flow or DNS append: a store may hand a large batch over before the second's flush. */
  protected appended(): void {}

  /** Alerts are kept one row per alert_id in its latest state; the second it first fired counts it in the series. */
  appendAlert(rec: Alert): void {
    this.pending.appendAlert(rec);
  }
}
