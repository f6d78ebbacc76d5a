/**
 * The store on its own thread, as the agent runs it: the same answers as HistoryStore, in the order things
 * were sent; open and close synchronous; and bounded: a store that is behind or a disk that is full drops
 * records and counts them, with one log line, never an exception on the caller's thread.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { HistoryStore } from './history-store.js';
import { SCHEMA_VERSION } from './schema.js';
import { alertRecord, connRecord, dnsRecord, statsSecond, tempDir } from './store-fixtures.test-util.js';
import { DATABASE_FILE } from './types.js';
import { HANDOVER_ROWS, MAX_IN_FLIGHT, type StoreLog, WorkerHistoryStore } from './worker-store.js';
import { STORE_THREAD_NAME } from './store-protocol.js';
import { captureAddonProblem } from '../capture/live-addon.js';

// Near the wall clock: the worker's store enforces retention by it.
const T0 = Math.floor(Date.now() / 3_600_000) * 3600 - 3600;
const json = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

function memoryLog(): StoreLog & { lines: Array<{ level: string; message: string; fields: object }> } {
  const lines: Array<{ level: string; message: string; fields: object }> = [];
  return {
    lines,
    warn: (fields, message) => lines.push({ level: 'warn', message, fields }),
    info: (fields, message) => lines.push({ level: 'info', message, fields }),
  };
}

test('the worker store answers what HistoryStore answers; a query sees everything flushed before it', async (t) => {
  const dir = tempDir(t);
  const store = WorkerHistoryStore.open(dir);
  const conns = [connRecord(T0 + 1, '10.0.0.5', 40_001, '10.0.0.9', 443), connRecord(T0 + 2, '10.0.0.6', 40_002, '10.0.0.9', 22)];
  const dns = dnsRecord(T0 + 1.5, '10.0.0.5', 'a.example', 'NOERROR');
  store.appendStats(statsSecond(T0 + 1, 10, [['10.0.0.5', 1000]]));
  for (const c of conns) store.appendConn(c);
  store.appendDns(dns);
  store.appendAlert(alertRecord('A1', T0 + 1, 'open'));
  store.flush();
  const range = { since: T0, until: T0 + 60 };
  assert.deepEqual(await store.flows(range), json([conns[1], conns[0]]));
  assert.deepEqual(await store.flows({ ...range, host: '10.0.0.5' }), json([conns[0]]));
  assert.deepEqual(await store.dns(range), json([dns]));
  // The records count at their own seconds: two flows, one DNS transaction, one alert.
  assert.deepEqual((await store.series({ ...range, resolution: '1s' })).map((p) => [p.ts, p.packets, p.flows_opened, p.dns_queries, p.alerts]), [[T0 + 1, 10, 1, 1, 1], [T0 + 2, 0, 1, 0, 0]]);
  assert.deepEqual(await store.topTalkers(range), [{ host: '10.0.0.5', bytes: 1000, packets: 10 }]);
  assert.deepEqual((await store.alerts(range)).map((a) => a.alert_id), ['A1']);
  // An alert appended but not flushed: acknowledging it flushes first.
  store.appendAlert(alertRecord('A2', T0 + 3, 'open'));
  const ack = { acknowledged: true as const, acknowledged_at: T0 + 9, acknowledged_by: 'ui 1' };
  assert.deepEqual(await store.acknowledgeAlert('A2', ack), { ...json(alertRecord('A2', T0 + 3, 'open')), ...ack });
  assert.equal(await store.acknowledgeAlert('nope', ack), undefined);
  // A bad query is the caller's error, of the same kind, and the store goes on.
  await assert.rejects(store.series({ ...range, resolution: '1s', host: '10.0.0.5' }), RangeError);
  assert.ok((await store.usedBytes()) > 0);
  store.close();
  // Closed means written: another connection reads it all at once.
  const after = HistoryStore.open(dir, { clock: () => 0 });
  assert.equal(after.flows(range).length, 2);
  assert.equal(after.alert('A2')?.acknowledged_by, 'ui 1');
  after.close();
  await assert.rejects(store.flows(range), /closed/);
  // Appended after the close: counted, never sent to a worker that is gone.
  store.appendConn(conns[0]);
  store.flush();
  assert.equal(store.droppedRecords, 1);
  await store.settled();
});

test('opening fails at once and in one line: not a database, a newer schema', (t) => {
  const dir = tempDir(t);
  mkdirSync(dir, { mode: 0o700 });
  writeFileSync(join(dir, DATABASE_FILE), 'this is not a database, it only has a database name'.repeat(100));
  assert.throws(() => WorkerHistoryStore.open(dir), (err: Error & { code?: string }) => err.code === 'STORE_OPEN_FAILED' && !err.message.includes('\n'));
  const newer = tempDir(t);
  HistoryStore.open(newer).close();
  const db = new Database(join(newer, DATABASE_FILE));
  db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
  db.close();
  assert.throws(() => WorkerHistoryStore.open(newer), (err: Error & { code?: string }) => err.code === 'STORE_SCHEMA_TOO_NEW' && /upgrade Loopy/.test(err.message));
});

test('a store that is behind drops what it cannot hold, counts it, and says so once; and once when it stores again', async (t) => {
  const log = memoryLog();
  const store = WorkerHistoryStore.open(tempDir(t), {}, log);
  // Three seconds of flows appended without yielding (handed over HANDOVER_ROWS at a time): the worker cannot
  // report any written meanwhile, so what passes MAX_IN_FLIGHT is dropped, a hand-over at a time.
  // Whole hand-overs, so that no smaller remainder slips in after the dropping has started.
  const perBatch = HANDOVER_ROWS * Math.ceil(MAX_IN_FLIGHT / 2.5 / HANDOVER_ROWS);
  for (let batch = 0; batch < 3; batch++) {
    for (let i = 0; i < perBatch; i++) store.appendConn(connRecord(T0 + batch + i / perBatch, '10.0.0.5', i % 60_000, '10.0.0.9', 443));
    store.flush();
  }
  await store.settled();
  const appended = 3 * perBatch;
  assert.ok(store.droppedRecords >= appended - MAX_IN_FLIGHT && store.droppedRecords <= appended - MAX_IN_FLIGHT + HANDOVER_ROWS, `${store.droppedRecords} dropped`);
  assert.deepEqual(log.lines.map((l) => l.level), ['warn']);
  assert.match(log.lines[0].message, /dropping records/);
  // The next second is stored, and that is said once.
  store.appendConn(connRecord(T0 + 5, '10.0.0.5', 1, '10.0.0.9', 443));
  store.flush();
  await store.settled();
  assert.deepEqual(log.lines.map((l) => l.level), ['warn', 'info']);
  assert.equal((await store.flows({ since: T0 + 5, until: T0 + 6 })).length, 1);
  store.close();
});

test('a full disk: each second is dropped and counted, one log line for all of them, queries still answer', async (t) => {
  const log = memoryLog();
  const store = WorkerHistoryStore.open(tempDir(t), { fileLimitBytes: 512 * 1024 }, log);
  let appended = 0;
  for (let second = 0; second < 8; second++) {
    for (let i = 0; i < 4000; i++) store.appendConn(connRecord(T0 + second + i / 4000, `10.0.${i >> 8}.${i & 255}`, 40_000 + i, '10.0.0.9', 443));
    appended += 4000;
    store.appendStats(statsSecond(T0 + second, 1));
    appended += 1;
    store.flush();
    await store.settled();
  }
  assert.ok(store.droppedRecords > 0 && store.droppedRecords < appended, `${store.droppedRecords} of ${appended} dropped`);
  assert.deepEqual(log.lines.map((l) => l.level), ['warn']);
  assert.match(JSON.stringify(log.lines[0].fields), /SQLITE_FULL/);
  const stored = await store.flows({ since: T0, until: T0 + 10, limit: 100_000 });
  assert.equal(stored.length + store.droppedRecords, appended - (await store.series({ since: T0, until: T0 + 10, resolution: '1s' })).length);
  store.close();
});

test("the store's thread is named loopy-store in /proc, as top -H shows it", { skip: captureAddonProblem() }, async (t) => {
  const dir = tempDir(t);
  const store = WorkerHistoryStore.open(dir);
  try {
    const threads = readdirSync('/proc/self/task').map((tid) => readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim());
    assert.equal(threads.filter((name) => name === STORE_THREAD_NAME).length, 1, `threads: ${threads.join(', ')}`);
  } finally {
    store.close();
  }
});
