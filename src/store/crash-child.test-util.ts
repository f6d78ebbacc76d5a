/**
 * The child of crash.test.ts: appends one stats second plus a burst of flows every 100 ms, flushes, and only
 * then prints the second it flushed, so every printed second is one the store claims is on disk.
 * Usage: node crash-child.test-util.js DIR FIRST_SECOND
 */
import { HistoryStore } from './history-store.js';
import { connRecord, statsSecond } from './store-fixtures.test-util.js';

const [dir, first] = process.argv.slice(2);
const store = HistoryStore.open(dir, { clock: () => 0 });
let second = Number(first);
const FLOWS_PER_FLUSH = 1500; // enough that a flush takes a while, so the kill often lands inside one

setInterval(() => {
  store.appendStats(statsSecond(second, (second % 1000) + 1));
  for (let i = 0; i < FLOWS_PER_FLUSH; i++) store.appendConn(connRecord(second + i / FLOWS_PER_FLUSH, '10.0.0.5', 40_000 + i, '10.0.0.9', 443));
  store.flush();
  process.stdout.write(`${second}\n`);
  second++;
}, 100);
