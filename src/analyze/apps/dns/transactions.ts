/**
 * Query ↔ response matching with Zeek's dns.log semantics: within one flow, a response pairs with the oldest
 * pending query of the same transaction id; the pair is one record (ts of the query, rtt to the response).
 * A response with no pending query is a record by itself; a query nobody answered becomes a record when it
 * times out (capture time, via advance), when its flow ends, or at finish.
 *
 * Pending queries sit both in a per-flow table (for matching) and in one arrival-ordered queue (for expiry),
 * so advance() looks only at the oldest entries instead of walking every flow.
 */
import type { ConnId, DnsRecord } from '../../records.js';
import type { DnsMessage } from './message.js';
import { buildDnsRecord } from './zeek-record.js';

export const DEFAULT_QUERY_TIMEOUT = 10;
/** Beyond this many unanswered queries (a flood, or a capture seeing one direction only) the oldest are reported early. */
export const DEFAULT_MAX_PENDING = 100_000;

interface PendingQuery {
  flowId: number;
  /** Taken when the query is seen: the flow may be gone by the time the query is reported. */
  conn: ConnId;
  ts: number;
  msg: DnsMessage;
  /** Matched, or already reported: the expiry queue skips it. */
  done: boolean;
}

export interface DnsTransactionSink {
  connId(flowId: number): ConnId;
  emit(record: DnsRecord): void;
}

export class DnsTransactions {
  /** flowId → transaction id → queries waiting for an answer, oldest first. */
  private readonly byFlow = new Map<number, Map<number, PendingQuery[]>>();
  private readonly expiry: PendingQuery[] = [];
  private expiryHead = 0;
  private pendingCount = 0;
  /** Records emitted so far (for the summary's dns_transactions). */
  records = 0;

  constructor(
    private readonly sink: DnsTransactionSink,
    private readonly queryTimeout = DEFAULT_QUERY_TIMEOUT,
    private readonly maxPending = DEFAULT_MAX_PENDING,
  ) {}

  /** Queries currently waiting for a response. */
  get pending(): number {
    return this.pendingCount;
  }

  query(flowId: number, ts: number, msg: DnsMessage): void {
    let ids = this.byFlow.get(flowId);
    if (!ids) this.byFlow.set(flowId, (ids = new Map()));
    const entry: PendingQuery = { flowId, conn: this.sink.connId(flowId), ts, msg, done: false };
    const queue = ids.get(msg.id);
    if (queue) queue.push(entry);
    else ids.set(msg.id, [entry]);
    this.expiry.push(entry);
    this.pendingCount++;
    while (this.pendingCount > this.maxPending) this.expireOldest();
  }

  response(flowId: number, ts: number, msg: DnsMessage): void {
    const ids = this.byFlow.get(flowId);
    const queue = ids?.get(msg.id);
    if (!ids || !queue) {
      this.emit(this.sink.connId(flowId), null, { ts, msg });
      return;
    }
    const entry = queue.shift() as PendingQuery;
    if (queue.length === 0) ids.delete(msg.id);
    entry.done = true;
    this.pendingCount--;
    this.emit(entry.conn, { ts: entry.ts, msg: entry.msg }, { ts, msg });
  }

  /** Reports queries older than the timeout at capture time `now`. */
  advance(now: number): void {
    while (this.expiryHead < this.expiry.length) {
      const entry = this.expiry[this.expiryHead];
      if (!entry.done && entry.ts + this.queryTimeout > now) break;
      this.expiryHead++;
      if (!entry.done) this.reportUnanswered(entry);
    }
    this.compact();
  }

  /** The flow is gone: report its unanswered queries (oldest first) and forget it. */
  flowEnd(flowId: number): void {
    const ids = this.byFlow.get(flowId);
    if (!ids) return;
    const left: PendingQuery[] = [];
    for (const queue of ids.values()) left.push(...queue);
    left.sort((a, b) => a.ts - b.ts);
    for (const entry of left) this.reportUnanswered(entry);
    this.byFlow.delete(flowId);
  }

  finish(): void {
    for (const entry of this.expiry.slice(this.expiryHead)) {
      if (!entry.done) this.reportUnanswered(entry);
    }
    this.expiry.length = 0;
    this.expiryHead = 0;
    this.byFlow.clear();
  }

  private expireOldest(): void {
    while (this.expiryHead < this.expiry.length) {
      const entry = this.expiry[this.expiryHead++];
      if (!entry.done) {
        this.reportUnanswered(entry);
        return;
      }
    }
  }

  private reportUnanswered(entry: PendingQuery): void {
    entry.done = true;
    this.pendingCount--;
    const ids = this.byFlow.get(entry.flowId);
    const queue = ids?.get(entry.msg.id);
    if (ids && queue) {
      const at = queue.indexOf(entry);
      if (at >= 0) queue.splice(at, 1);
      if (queue.length === 0) ids.delete(entry.msg.id);
      if (ids.size === 0) this.byFlow.delete(entry.flowId);
    }
    this.emit(entry.conn, { ts: entry.ts, msg: entry.msg }, null);
  }

  private emit(conn: ConnId, query: { ts: number; msg: DnsMessage } | null, response: { ts: number; msg: DnsMessage } | null): void {
    this.records++;
    this.sink.emit(buildDnsRecord(conn, query, response));
  }

  /** Drops the reported prefix of the expiry queue once it is most of the array. */
  private compact(): void {
    if (this.expiryHead > 1024 && this.expiryHead * 2 > this.expiry.length) {
      this.expiry.splice(0, this.expiryHead);
      this.expiryHead = 0;
    }
  }
}
