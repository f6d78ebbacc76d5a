/**
 * The child of crash.test.ts: the store as the agent runs it (its own thread). Every 100 ms it appends one stats
 * second plus a burst of flows, flushes, waits until the store's thread has written that batch, and only then
 * prints the second, so every printed second is one the store claims is on disk.
 * Usage: node crash-child.test-util.js DIR FIRST_SECOND
 */
import { connRecord, statsSecond } from './store-fixtures.test-util.js';
import { WorkerHistoryStore } from './worker-store.js';

const [dir, first] = process.argv.slice(2);
const store = WorkerHistoryStore.open(dir);
let second = Number(first);
const FLOWS_PER_FLUSH = 1500; // enough that a flush takes a while, so the kill often lands inside one

for (;;) {
  const started = Date.now();
  store.appendStats(statsSecond(second, (second % 1000) + 1));
  for (let i = 0; i < FLOWS_PER_FLUSH; i++) store.appendConn(connRecord(second + i / FLOWS_PER_FLUSH, '10.0.0.5', 40_000 + i, '10.0.0.9', 443));
  store.flush();
  await store.settled();
  if (store.droppedRecords > 0) throw new Error(`the store dropped ${store.droppedRecords} records`);
  process.stdout.write(`${second}\n`);
  second++;
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, 100 - (Date.now() - started))));
}
