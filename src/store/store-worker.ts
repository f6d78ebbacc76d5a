/**
 * The history store's own thread: it owns the SQLite connection and does every write, rollup, retention pass
 * and query, in the order the agent's thread sent them, so capture never waits on the disk or a broad query.
 * It opens the store first and says so through the shared state word (the agent waits for that, before it
 * drops privileges). It must never take work the agent's thread could do cheaper in place, and never stop on
 * a failed write: the batch is reported lost (the agent counts it) and the next one is tried.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { compactingCollector } from '../capture/heap-collector.js';
import { tryLoadCaptureAddon } from '../capture/live-addon.js';
import { setIdSeed } from '../analyze/flows/uid.js';
import type { HistoryStore } from './history-store.js';
import { type CallMessage, faultOf, type FromWorker, STATE, STORE_THREAD_NAME, type ToWorker, type WorkerInit } from './store-protocol.js';
import { batchRecords } from './write-buffer.js';
import { type RecordRows, rowBuffers } from '../analyze/record-rows.js';

const init = workerData as WorkerInit;
setIdSeed(init.idSeed);
// In `top -H` and /proc, this thread is the store's rather than one more "node" (and the bench counts it by name).
tryLoadCaptureAddon()?.nameThread?.(STORE_THREAD_NAME);
const state = new Int32Array(init.state);
const signal = (value: number) => {
  Atomics.store(state, 0, value);
  Atomics.notify(state, 0);
};
const post = (m: FromWorker, transfer: ArrayBuffer[] = []) => parentPort!.postMessage(m, transfer);

/**
 * After a burst the page cache stays full (up to 16 MB) while nothing needs it: every QUIET_CHECK_MS, a store
 * that wrote fewer than QUIET_RECORDS records and answered no query since the last check gives it back (the
 * agent's periodic malloc_trim then returns the pages to the system). A busy store keeps its cache. The first
 * quiet check after a busy spell also compacts this thread's heap, which the burst's batches grew and a quiet
 * thread would keep (capture/heap-collector.ts).
 */
const QUIET_CHECK_MS = 10_000;
const QUIET_RECORDS = 2_000;
let recordsSinceCheck = 0;
let callsSinceCheck = 0;
let cacheTimer: NodeJS.Timeout | undefined;
let busySinceCollection = false;
const collect = compactingCollector();

function releaseCacheWhenQuiet(store: HistoryStore): void {
  const quiet = recordsSinceCheck < QUIET_RECORDS && callsSinceCheck === 0;
  recordsSinceCheck = 0;
  callsSinceCheck = 0;
  if (!quiet) {
    busySinceCollection = true;
    return;
  }
  try {
    store.releaseCache();
  } catch (err) {
    post({ type: 'problem', error: faultOf(err) });
  }
  if (busySinceCollection) {
    busySinceCollection = false;
    collect?.();
  }
}

function answer(store: HistoryStore, m: CallMessage): unknown {
  switch (m.method) {
    case 'series':
      return store.series(...m.args);
    case 'flows':
      return store.flows(...m.args);
    case 'dns':
      return store.dns(...m.args);
    case 'flowRows':
      return store.flowRows(...m.args);
    case 'dnsRows':
      return store.dnsRows(...m.args);
    case 'alerts':
      return store.alerts(...m.args);
    case 'alert':
      return store.alert(...m.args);
    case 'topTalkers':
      return store.topTalkers(...m.args);
    case 'acknowledgeAlert':
      return store.acknowledgeAlert(...m.args);
    case 'enforceRetention':
      return store.enforceRetention(...m.args);
    case 'usedBytes':
      return store.usedBytes();
  }
}

function serve(store: HistoryStore, m: ToWorker): void {
  if (m.type === 'write') {
    recordsSinceCheck += batchRecords(m.batch);
    try {
      store.write(m.batch);
      post({ type: 'written', seq: m.seq, records: batchRecords(m.batch) });
    } catch (err) {
      post({ type: 'written', seq: m.seq, records: batchRecords(m.batch), error: faultOf(err) });
    }
    try {
      store.retainIfDue();
    } catch (err) {
      post({ type: 'problem', error: faultOf(err) });
    }
  } else if (m.type === 'call') {
    callsSinceCheck++;
    try {
      const result = answer(store, m);
      // Rows are handed over, not copied: the agent's thread gets them without a clone's cost.
      post({ type: 'reply', id: m.id, result }, m.method === 'flowRows' || m.method === 'dnsRows' ? rowBuffers(result as RecordRows) : []);
    } catch (err) {
      post({ type: 'reply', id: m.id, error: faultOf(err) });
    }
  } else {
    clearInterval(cacheTimer);
    try {
      store.close();
    } finally {
      signal(STATE.closed);
      parentPort!.close();
    }
  }
}

try {
  // Loaded here so that a module that cannot load (the native addon) is reported like a file that cannot open.
  const { HistoryStore } = await import('./history-store.js');
  const store = HistoryStore.open(init.dir, init.options);
  parentPort!.on('message', (m: ToWorker) => serve(store, m));
  cacheTimer = setInterval(() => releaseCacheWhenQuiet(store), QUIET_CHECK_MS).unref();
  signal(STATE.open);
} catch (err) {
  init.openPort.postMessage(faultOf(err));
  signal(STATE.failed);
  parentPort!.close();
}
