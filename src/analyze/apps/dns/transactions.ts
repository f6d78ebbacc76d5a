/**
 * Query ↔ response matching with Zeek's dns.log semantics: within one flow, a response pairs with the oldest
 * pending query of the same transaction id; the pair is one record (ts of the query, rtt to the response).
 * A response with no pending query is a record by itself; a query nobody answered becomes a record when it
 * times out (capture time, via advance), when its flow ends, or at finish.
 *
 * Pending queries live in columns (typed arrays, slots reused through a free list), each on three lists: the
 * queries of its flow and transaction id, oldest first (for matching: a PairIndex finds the head by flow and
 * id), the queries of its flow (for the flow's end), and one arrival-ordered list of all (for expiry, so
 * advance() looks only at the oldest instead of walking every flow). A query keeps only what its record
 * needs (DnsQueryFields and the flow's ConnId), not the message.
 */
import type { ConnId, DnsRecord } from '../../records.js';
import type { DnsWire } from './message.js';
import { grownColumn } from './columns.js';
import { PairIndex } from './pair-index.js';
import { buildDnsRecord, queryFieldsOf, type DnsQueryFields } from './zeek-record.js';

export const DEFAULT_QUERY_TIMEOUT = 10;
/** Beyond this many unanswered queries (a flood, or a capture seeing one direction only) the oldest are reported early. */
export const DEFAULT_MAX_PENDING = 100_000;

const NONE = -1;

export interface DnsTransactionSink {
  connId(flowId: number): ConnId;
  emit(record: DnsRecord): void;
}

export class DnsTransactions {
  /** (flowId, transaction id) → the oldest pending query of that id in that flow. */
  private readonly byId = new PairIndex();
  /** (flowId, 0) → a pending query of that flow (the head of its flow list). */
  private readonly byFlow = new PairIndex();
  private capacity = 0;
  private flowIdOf = new Float64Array(0);
  private tsOf = new Float64Array(0);
  private idOf = new Uint16Array(0);
  private flagsOf = new Uint16Array(0);
  private qtypeOf = new Int32Array(0);
  private qclassOf = new Uint16Array(0);
  private names: string[] = [];
  /** Taken when the query is seen: the flow may be gone, or in a new reporting period, when it is reported. */
  private conns: (ConnId | null)[] = [];
  /** Same flow and id, next younger (NONE at the tail); on the free list, the next free slot. */
  private sameNext = new Int32Array(0);
  /** At the head of a same-id list: its tail. */
  private sameTail = new Int32Array(0);
  /**
   * When the query's same-id list was started (a serial): a flow's end reports its queries by time, and
   * those of the same time in the order their ids first became pending, as the per-flow Map of ids did.
   */
  private idSerialOf = new Float64Array(0);
  private arrivalOf = new Float64Array(0);
  /** The flow's list (no order). */
  private flowPrev = new Int32Array(0);
  private flowNext = new Int32Array(0);
  /** The arrival-ordered list of every pending query. */
  private older = new Int32Array(0);
  private younger = new Int32Array(0);
  private oldest = NONE;
  private youngest = NONE;
  private freeHead = NONE;
  private idSerial = 0;
  private arrivals = 0;
  private pendingCount = 0;
  /** The pending query a record is being made of. */
  private readonly queryScratch: DnsQueryFields = { ts: 0, id: 0, flags: 0, name: '', qtype: -1, qclass: 0 };
  /** A flow's pending queries at its end, in report order. */
  private readonly leftScratch: number[] = [];
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

  /** A query (parsed in `w`) seen at `ts`. */
  query(flowId: number, ts: number, w: DnsWire): void {
    const conn = this.sink.connId(flowId);
    const q = queryFieldsOf(w, ts, this.queryScratch);
    const slot = this.allocate();
    this.flowIdOf[slot] = flowId;
    this.tsOf[slot] = ts;
    this.idOf[slot] = q.id;
    this.flagsOf[slot] = q.flags;
    this.qtypeOf[slot] = q.qtype;
    this.qclassOf[slot] = q.qclass;
    this.names[slot] = q.name;
    this.conns[slot] = conn;
    this.arrivalOf[slot] = this.arrivals++;
    // Last of its flow and id.
    this.sameNext[slot] = NONE;
    const head = this.byId.get(flowId, q.id);
    if (head === NONE) {
      this.byId.set(flowId, q.id, slot);
      this.sameTail[slot] = slot;
      this.idSerialOf[slot] = this.idSerial++;
    } else {
      this.sameNext[this.sameTail[head]] = slot;
      this.sameTail[head] = slot;
      this.idSerialOf[slot] = this.idSerialOf[head];
    }
    // First of its flow.
    const first = this.byFlow.get(flowId, 0);
    this.flowPrev[slot] = NONE;
    this.flowNext[slot] = first;
    if (first !== NONE) this.flowPrev[first] = slot;
    this.byFlow.set(flowId, 0, slot);
    // Youngest of all.
    this.older[slot] = this.youngest;
    this.younger[slot] = NONE;
    if (this.youngest !== NONE) this.younger[this.youngest] = slot;
    else this.oldest = slot;
    this.youngest = slot;
    this.pendingCount++;
    while (this.pendingCount > this.maxPending) this.reportUnanswered(this.oldest);
  }

  /** A response (parsed in `w`) seen at `ts`: a record with the oldest pending query of its id, or alone. */
  response(flowId: number, ts: number, w: DnsWire): void {
    const slot = this.byId.get(flowId, w.id);
    if (slot === NONE) {
      this.emit(this.sink.connId(flowId), null, w, ts);
      return;
    }
    const conn = this.take(slot);
    this.emit(conn, this.queryScratch, w, ts);
  }

  /** Reports queries older than the timeout at capture time `now`. */
  advance(now: number): void {
    while (this.oldest !== NONE && !(this.tsOf[this.oldest] + this.queryTimeout > now)) this.reportUnanswered(this.oldest);
  }

  /** The flow is gone: report its unanswered queries (oldest first) and forget it. */
  flowEnd(flowId: number): void {
    const left = this.leftScratch;
    left.length = 0;
    for (let slot = this.byFlow.get(flowId, 0); slot !== NONE; slot = this.flowNext[slot]) left.push(slot);
    if (left.length === 0) return;
    left.sort(this.reportOrder);
    for (const slot of left) this.reportUnanswered(slot);
    left.length = 0;
  }

  finish(): void {
    while (this.oldest !== NONE) this.reportUnanswered(this.oldest);
  }

  /** By time, then by when the query's id became pending in its flow, then by arrival. */
  private readonly reportOrder = (a: number, b: number): number =>
    this.tsOf[a] - this.tsOf[b] || this.idSerialOf[a] - this.idSerialOf[b] || this.arrivalOf[a] - this.arrivalOf[b];

  private reportUnanswered(slot: number): void {
    const conn = this.take(slot);
    this.emit(conn, this.queryScratch, null, 0);
  }

  /** Takes a pending query off its lists into queryScratch, frees its slot, and returns its ConnId. */
  private take(slot: number): ConnId {
    const flowId = this.flowIdOf[slot];
    const id = this.idOf[slot];
    // Its same-id list: usually the head (the oldest), except when a flow's end reports by time.
    const head = this.byId.get(flowId, id);
    const next = this.sameNext[slot];
    if (head === slot) {
      if (next === NONE) this.byId.delete(flowId, id);
      else {
        this.byId.set(flowId, id, next);
        this.sameTail[next] = this.sameTail[slot];
      }
    } else {
      let before = head;
      while (this.sameNext[before] !== slot) before = this.sameNext[before];
      this.sameNext[before] = next;
      if (this.sameTail[head] === slot) this.sameTail[head] = before;
    }
    // Its flow's list.
    const prev = this.flowPrev[slot];
    const after = this.flowNext[slot];
    if (after !== NONE) this.flowPrev[after] = prev;
    if (prev !== NONE) this.flowNext[prev] = after;
    else if (after === NONE) this.byFlow.delete(flowId, 0);
    else this.byFlow.set(flowId, 0, after);
    // The arrival list.
    const older = this.older[slot];
    const younger = this.younger[slot];
    if (older !== NONE) this.younger[older] = younger;
    else this.oldest = younger;
    if (younger !== NONE) this.older[younger] = older;
    else this.youngest = older;
    this.pendingCount--;
    const q = this.queryScratch;
    q.ts = this.tsOf[slot];
    q.id = id;
    q.flags = this.flagsOf[slot];
    q.name = this.names[slot];
    q.qtype = this.qtypeOf[slot];
    q.qclass = this.qclassOf[slot];
    const conn = this.conns[slot] as ConnId;
    this.names[slot] = '';
    this.conns[slot] = null;
    this.sameNext[slot] = this.freeHead;
    this.freeHead = slot;
    return conn;
  }

  private allocate(): number {
    if (this.freeHead === NONE) this.grow();
    const slot = this.freeHead;
    this.freeHead = this.sameNext[slot];
    return slot;
  }

  /** Doubles the columns and puts the new slots on the free list. */
  private grow(): void {
    const old = this.capacity;
    const capacity = Math.max(64, old * 2);
    this.flowIdOf = grownColumn(this.flowIdOf, capacity);
    this.tsOf = grownColumn(this.tsOf, capacity);
    this.idSerialOf = grownColumn(this.idSerialOf, capacity);
    this.arrivalOf = grownColumn(this.arrivalOf, capacity);
    this.idOf = grownColumn(this.idOf, capacity);
    this.flagsOf = grownColumn(this.flagsOf, capacity);
    this.qclassOf = grownColumn(this.qclassOf, capacity);
    this.qtypeOf = grownColumn(this.qtypeOf, capacity);
    this.sameNext = grownColumn(this.sameNext, capacity);
    this.sameTail = grownColumn(this.sameTail, capacity);
    this.flowPrev = grownColumn(this.flowPrev, capacity);
    this.flowNext = grownColumn(this.flowNext, capacity);
    this.older = grownColumn(this.older, capacity);
    this.younger = grownColumn(this.younger, capacity);
    for (let slot = old; slot < capacity; slot++) {
      this.names.push('');
      this.conns.push(null);
    }
    for (let slot = capacity - 1; slot >= old; slot--) {
      this.sameNext[slot] = this.freeHead;
      this.freeHead = slot;
    }
    this.capacity = capacity;
  }

  private emit(conn: ConnId, query: DnsQueryFields | null, response: DnsWire | null, responseTs: number): void {
    this.records++;
    this.sink.emit(buildDnsRecord(conn, query, response, responseTs));
  }
}
