/**
 * The messages between the agent's thread and the store's worker (worker-store.ts ⇄ store-worker.ts): what
 * each side may send, and the handshake word both sides share to open and close synchronously. Plain data
 * only: it must stay cloneable, and never carry a function or a class instance.
 */
import type { MessagePort } from 'node:worker_threads';
import type { IdSeed } from '../analyze/flows/uid.js';
import type { HistoryStore } from './history-store.js';
import type { WriteBatch } from './write-buffer.js';
import type { HistoryStoreOptions } from './types.js';

/** The store's methods the worker answers (each one a call with an id and a reply). */
export type CallName = 'series' | 'flows' | 'dns' | 'flowRows' | 'dnsRows' | 'alerts' | 'alert' | 'topTalkers' | 'acknowledgeAlert' | 'enforceRetention' | 'usedBytes';
type Callable = Pick<HistoryStore, CallName>;
export type CallArgs<M extends CallName> = Parameters<Callable[M]>;
export type CallResult<M extends CallName> = ReturnType<Callable[M]>;

export type CallMessage = { [M in CallName]: { type: 'call'; id: number; method: M; args: CallArgs<M> } }[CallName];

export type ToWorker = { type: 'write'; seq: number; batch: WriteBatch } | CallMessage | { type: 'close' };

/** An error as it crosses threads. */
export interface StoreFault {
  name: string;
  message: string;
  code?: string;
}

export type FromWorker =
  | { type: 'written'; seq: number; records: number; error?: StoreFault }
  | { type: 'reply'; id: number; result?: unknown; error?: StoreFault }
  /** Something went wrong outside a write or a call (retention). */
  | { type: 'problem'; error: StoreFault };

/** What the worker is given: the store's options without the clock (the worker's is the wall clock). */
export type WorkerStoreOptions = Omit<HistoryStoreOptions, 'clock'>;

export interface WorkerInit {
  dir: string;
  options: WorkerStoreOptions;
  /** One Int32 the worker sets to a STATE value and notifies. */
  state: SharedArrayBuffer;
  /** Where the worker leaves the error when it cannot open the store (read synchronously). */
  openPort: MessagePort;
  /** The agent's id seed: the uids this thread makes for flow rows are those the agent's thread would make. */
  idSeed: IdSeed;
}

export const STATE = { starting: 0, open: 1, failed: 2, closed: 3 } as const;

/** The store's thread as /proc and `top -H` name it (Linux keeps 15 bytes). */
export const STORE_THREAD_NAME = 'loopy-store';

export function faultOf(err: unknown): StoreFault {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return { name: err.name, message: err.message, code: typeof code === 'string' ? code : undefined };
  }
  return { name: 'Error', message: String(err) };
}

/** The error a fault stands for, its code kept (STORE_OPEN_FAILED, SQLITE_FULL...) and RangeError kept a RangeError. */
export function errorOf(fault: StoreFault): Error & { code?: string } {
  const err: Error & { code?: string } = fault.name === 'RangeError' ? new RangeError(fault.message) : new Error(fault.message);
  if (fault.code !== undefined) err.code = fault.code;
  return err;
}
