/**
 * The history store as the agent's thread sees it: appends pack records into columns (write-buffer.ts), flush()
 * hands the batch to the store's worker (store-worker.ts, which owns SQLite) without copying it, and queries
 * return promises answered there. Opening and closing wait for the worker (bounded), so the file is open
 * before the agent drops privileges and written before the agent exits.
 *
 * It must never block the agent's thread outside open and close, nor hold more than MAX_IN_FLIGHT records:
 * what the worker cannot take (it is behind, the disk is full, it died) is dropped and counted in
 * droppedRecords, with one log line when dropping starts and one when storing resumes.
 */
import { join } from 'node:path';
import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { idSeed } from '../analyze/flows/uid.js';
import type { ConnRecord, DnsRecord } from '../analyze/records.js';
import {
  type CallArgs, type CallMessage, type CallName, type CallResult, errorOf, type FromWorker, STATE, type StoreFault, type ToWorker,
  type WorkerInit, type WorkerStoreOptions,
} from './store-protocol.js';
import {
  type AlertAck, type AlertLike, DATABASE_FILE, type HistoryQuery, type HostTotal, type Resolution, type SeriesPoint, type StorableAlert,
  type TalkersQuery,
} from './types.js';
import { batchRecords, BufferedAppends, writeBatchBuffers } from './write-buffer.js';
import type { RecordRows } from '../analyze/record-rows.js';

/**
 * Records handed to the worker and not yet written, at most: about four seconds of a very busy server
 * (35,000 flows a second), a second of a spoofed flood, ~30 MB of columns. Past it the store drops and counts:
 * a store that falls behind must not take the agent's memory with it.
 */
export const MAX_IN_FLIGHT = 131_072;
/**
 * Flows and DNS transactions handed over as soon as this many wait, without waiting for the second's flush:
 * during a flood of short flows, columns of a few thousand rows at a time instead of a second's worth, on this
 * thread and on the store's.
 */
export const HANDOVER_ROWS = 16_384;
const OPEN_TIMEOUT_MS = 30_000;
const CLOSE_TIMEOUT_MS = 30_000;
/** Dropping that stops and starts again within this long is not logged again (its count still is). */
const QUIET_MS = 60_000;

const WORKER_URL = new URL(`./store-worker.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`, import.meta.url);

/** Where the store reports what it cannot do (pino's argument order). */
export interface StoreLog {
  warn(fields: object, message: string): void;
  info(fields: object, message: string): void;
}

interface PendingCall {
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
}

/** One line when records start being dropped and one when they are stored again, not one a second. */
class DropLog {
  total = 0;
  private dropping = false;
  /** Only a batch sent after the drop shows that storing works again (earlier ones may still be in flight). */
  private resumesAt = 0;
  private warnedAt = -Infinity;
  private warned = false;

  constructor(private readonly log: StoreLog | undefined) {}

  /** `nextSeq`: the first batch that, written, ends this episode. */
  dropped(records: number, reason: string, nextSeq: number): void {
    this.total += records;
    this.resumesAt = Math.max(this.resumesAt, nextSeq);
    if (this.dropping) return;
    this.dropping = true;
    this.warned = Date.now() - this.warnedAt >= QUIET_MS;
    if (!this.warned) return;
    this.warnedAt = Date.now();
    this.log?.warn({ reason, dropped_records: this.total }, 'history store: dropping records it cannot store (counted in dropped_records)');
  }

  stored(seq: number): void {
    if (!this.dropping || seq < this.resumesAt) return;
    this.dropping = false;
    if (this.warned) this.log?.info({ dropped_records: this.total }, 'history store: storing records again');
  }
}

/**
 * `Alert`: the type of the alerts appended, which the store gives back as they were (their acknowledgement
 * merged); detection's AlertRecord in the agent.
 */
/**
 * The store's thread makes short-lived objects per batch and keeps little: a small young generation (V8's
 * default is 16 MB a semi-space, 48 MB in all) is enough, and is memory the agent does not hold for it.
 */
const WORKER_LIMITS = { maxYoungGenerationSizeMb: 6 };

export class WorkerHistoryStore<Alert extends StorableAlert = AlertLike> extends BufferedAppends<Alert> {
  private readonly calls = new Map<number, PendingCall>();
  private readonly drops: DropLog;
  private settledWaiters: Array<() => void> = [];
  private nextId = 1;
  private nextSeq = 1;
  private inFlight = 0;
  private refusedSoFar = 0;
  /** Why the worker is gone, once it is. */
  private failure: string | undefined;
  private closed = false;

  private constructor(
    private readonly worker: Worker,
    private readonly state: Int32Array,
    readonly path: string,
    private readonly log: StoreLog | undefined,
  ) {
    super();
    this.drops = new DropLog(log);
    worker.on('message', (m: FromWorker) => this.receive(m));
    worker.on('error', (err: Error) => this.lost(`the store's thread failed: ${err.message}`));
    worker.on('exit', () => this.lost(this.closed ? 'the history store is closed' : "the store's thread exited"));
    worker.unref();
  }

  /**
   * Starts the worker and waits (at most 30 s) until it has opened and migrated the store in `dir`. Throws what
   * HistoryStore.open throws (code STORE_OPEN_FAILED or STORE_SCHEMA_TOO_NEW), or STORE_OPEN_FAILED on a timeout.
   */
  static open<Alert extends StorableAlert = AlertLike>(dir: string, options: WorkerStoreOptions = {}, log?: StoreLog): WorkerHistoryStore<Alert> {
    const state = new Int32Array(new SharedArrayBuffer(4));
    const { port1, port2 } = new MessageChannel();
    const init: WorkerInit = { dir, options, state: state.buffer as SharedArrayBuffer, openPort: port2, idSeed: idSeed() };
    const worker = new Worker(WORKER_URL, { workerData: init, transferList: [port2], resourceLimits: WORKER_LIMITS });
    Atomics.wait(state, 0, STATE.starting, OPEN_TIMEOUT_MS);
    if (Atomics.load(state, 0) === STATE.open) {
      port1.close();
      return new WorkerHistoryStore<Alert>(worker, state, join(dir, DATABASE_FILE), log);
    }
    const fault = receiveMessageOnPort(port1)?.message as StoreFault | undefined;
    port1.close();
    void worker.terminate();
    throw errorOf(fault ?? { name: 'Error', message: `the history store in ${dir} did not open within ${OPEN_TIMEOUT_MS / 1000} s`, code: 'STORE_OPEN_FAILED' });
  }

  /** Records appended that will never be stored: refused, behind, failed writes, the worker gone. */
  get droppedRecords(): number {
    return this.drops.total;
  }

  protected override appended(): void {
    if (this.pending.columnRows >= HANDOVER_ROWS) this.flush();
  }

  /** Hands everything appended since the last flush to the worker (transferred, not copied). Never blocks. */
  flush(): void {
    const refused = this.pending.dropped - this.refusedSoFar;
    this.refusedSoFar = this.pending.dropped;
    if (refused > 0) this.drops.dropped(refused, 'more records in one second than a batch holds', this.nextSeq);
    const batch = this.pending.take();
    if (batch === undefined) return;
    const records = batchRecords(batch);
    const gone = this.failure ?? (this.closed ? `history store ${this.path} is closed` : undefined);
    if (gone !== undefined) return this.drops.dropped(records, gone, this.nextSeq);
    if (this.inFlight + records > MAX_IN_FLIGHT) return this.drops.dropped(records, 'the store is behind: more than a few seconds of records wait to be written', this.nextSeq);
    this.inFlight += records;
    this.send({ type: 'write', seq: this.nextSeq++, batch }, writeBatchBuffers(batch));
  }

  /** Resolves once every batch flushed so far is written (or known lost). */
  settled(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.settledWaiters.push(resolve));
  }

  series(q: HistoryQuery & { resolution: Resolution }): Promise<SeriesPoint[]> {
    return this.call('series', [q]);
  }

  flows(q: HistoryQuery): Promise<ConnRecord[]> {
    return this.call('flows', [q]);
  }

  dns(q: HistoryQuery): Promise<DnsRecord[]> {
    return this.call('dns', [q]);
  }

  /** flows(q) as JSON rows, made on the store's thread and transferred (record-rows.ts). */
  flowRows(q: HistoryQuery): Promise<RecordRows> {
    return this.call('flowRows', [q]);
  }

  dnsRows(q: HistoryQuery): Promise<RecordRows> {
    return this.call('dnsRows', [q]);
  }

  alerts(q: HistoryQuery): Promise<Alert[]> {
    return this.call('alerts', [q]) as Promise<Alert[]>;
  }

  alert(alertId: string): Promise<Alert | undefined> {
    return this.call('alert', [alertId]) as Promise<Alert | undefined>;
  }

  topTalkers(q: TalkersQuery): Promise<HostTotal[]> {
    return this.call('topTalkers', [q]);
  }

  /** Flushes first, so an alert appended this second is in the table when the acknowledgement arrives. */
  acknowledgeAlert(alertId: string, ack: AlertAck): Promise<Alert | undefined> {
    this.flush();
    return this.call('acknowledgeAlert', [alertId, ack]) as Promise<Alert | undefined>;
  }

  /** Asks the worker to run retention now; a failure is logged, not thrown (nobody waits for it). */
  enforceRetention(now: number): void {
    this.call('enforceRetention', [now]).catch((err: Error) => this.log?.warn({ err: err.message }, 'history store: retention failed'));
  }

  usedBytes(): Promise<number> {
    return this.call('usedBytes', []);
  }

  /**
   * Flushes, then waits (at most 30 s) for the worker to write everything and close the file. Idempotent.
   * Blocks the calling thread: only for shutdown, when capture has stopped.
   */
  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    if (this.failure !== undefined) return;
    this.send({ type: 'close' });
    Atomics.wait(this.state, 0, STATE.open, CLOSE_TIMEOUT_MS);
    if (Atomics.load(this.state, 0) !== STATE.closed) {
      this.log?.warn({ path: this.path }, `history store: not closed within ${CLOSE_TIMEOUT_MS / 1000} s; stopping its thread (the last second may be lost)`);
      void this.worker.terminate();
    }
  }

  private call<M extends CallName>(method: M, args: CallArgs<M>): Promise<CallResult<M>> {
    if (this.failure !== undefined || this.closed) return Promise.reject(new Error(this.failure ?? `history store ${this.path} is closed`));
    const id = this.nextId++;
    return new Promise<CallResult<M>>((resolve, reject) => {
      this.calls.set(id, { resolve: (v) => resolve(v as CallResult<M>), reject });
      this.send({ type: 'call', id, method, args } as CallMessage);
    });
  }

  private send(m: ToWorker, transfer: ArrayBuffer[] = []): void {
    this.worker.postMessage(m, transfer);
    this.holdOpenWhileBusy();
  }

  private receive(m: FromWorker): void {
    if (m.type === 'written') {
      this.inFlight -= m.records;
      if (m.error) this.drops.dropped(m.records, `${m.error.code ?? m.error.name}: ${m.error.message}`, m.seq + 1);
      else this.drops.stored(m.seq);
      if (this.inFlight === 0) this.wakeSettled();
    } else if (m.type === 'reply') {
      const call = this.calls.get(m.id);
      this.calls.delete(m.id);
      if (m.error) call?.reject(errorOf(m.error));
      else call?.resolve(m.result);
    } else {
      this.log?.warn({ err: m.error.message, code: m.error.code }, 'history store: retention failed');
    }
    this.holdOpenWhileBusy();
  }

  /** The worker is gone: what it held is lost and counted, callers get the reason, later flushes drop. */
  private lost(reason: string): void {
    if (this.failure !== undefined) return;
    this.failure = reason;
    if (!this.closed) this.log?.warn({ path: this.path, reason }, 'history store: its thread stopped; records are dropped from now on');
    if (this.inFlight > 0) this.drops.dropped(this.inFlight, reason, Infinity);
    this.inFlight = 0;
    for (const call of this.calls.values()) call.reject(new Error(reason));
    this.calls.clear();
    this.wakeSettled();
  }

  private wakeSettled(): void {
    const waiters = this.settledWaiters;
    this.settledWaiters = [];
    for (const wake of waiters) wake();
  }

  /** The worker keeps the process alive only while it owes an answer or a write. */
  private holdOpenWhileBusy(): void {
    if (this.inFlight > 0 || this.calls.size > 0) this.worker.ref();
    else this.worker.unref();
  }
}
