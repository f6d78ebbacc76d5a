/**
 * The processes on conn records live through the history store: stored as labels (a busy process's JSON
 * once a segment), read back in the engine's field order; and a segment written before processes were
 * stored (its blob ends before their sections) still reads, and takes in new flows of its minute.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { ConnRecord, ProcessRecord } from '../analyze/records.js';
import { HistoryStore } from './history-store.js';
import { COLUMNS } from './record-batch.js';
import { BlobReader, BlobWriter } from './segment-codec.js';
import { connRecord, tempDir } from './store-fixtures.test-util.js';
import { DATABASE_FILE } from './types.js';

const T0 = 1_699_999_200;
const ALL = { since: 0, until: 2 ** 31, limit: 1000 };
const json = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

const curl: ProcessRecord = { pid: 4242, name: 'curl', exe: '/usr/bin/curl', user: 'alice', unit: 'session-3.scope' };
const nginx: ProcessRecord = { pid: 812, name: 'nginx', exe: '/usr/sbin/nginx', user: 'www-data', unit: 'nginx.service' };

function withProcesses(c: ConnRecord, orig?: ProcessRecord, resp?: ProcessRecord): ConnRecord {
  const r = { ...c };
  if (orig) r.orig_process = orig;
  if (resp) r.resp_process = resp;
  return r;
}

/** Rewrites every conn segment's `rest` blob without the sections added for processes: the format before them. */
function stripProcessSections(dir: string): void {
  const db = new Database(join(dir, DATABASE_FILE));
  const added = COLUMNS.conn.labels.length - COLUMNS.conn.storedFirst;
  for (const { id, rest } of db.prepare("SELECT id, rest FROM segment_data JOIN segments USING (id) WHERE kind = 'conn'").all() as Array<{ id: number; rest: Buffer }>) {
    const reader = new BlobReader(rest);
    const writer = new BlobWriter(reader.rows);
    for (let s = 0; s < reader.sectionCount - added; s++) {
      try {
        writer.numbers(reader.numbers(s));
      } catch {
        writer.text(reader.text(s));
      }
    }
    db.prepare('UPDATE segment_data SET rest = ? WHERE id = ?').run(writer.finish(), id);
  }
  db.close();
}

test('conn records keep their processes in history, in the order the engine writes them', (t) => {
  const store = HistoryStore.open(tempDir(t), { clock: () => 0 });
  const appended = [
    withProcesses(connRecord(T0, '10.0.0.1', 40_000, '10.0.0.2', 443), curl, nginx),
    withProcesses(connRecord(T0 + 1, '10.0.0.1', 40_001, '10.0.0.2', 443), curl, nginx),
    withProcesses(connRecord(T0 + 2, '192.0.2.7', 50_000, '10.0.0.2', 443), undefined, nginx),
    connRecord(T0 + 3, '10.0.0.3', 40_002, '192.0.2.8', 80),
  ];
  for (const c of appended) store.appendConn(c);
  store.flush();
  const back = store.flows(ALL);
  assert.deepEqual(back, appended.map(json).reverse());
  assert.deepEqual(Object.keys(back[0]).slice(-1), ['rtt'], 'no process: no field');
  assert.deepEqual(Object.keys(back[1]).slice(-1), ['resp_process']);
  assert.deepEqual(Object.keys(back[3]).slice(-2), ['orig_process', 'resp_process']);
  store.close();
});

test('a segment written before processes were stored still reads, and its minute takes new flows with processes', (t) => {
  const dir = tempDir(t);
  const before = [connRecord(T0, '10.0.0.1', 40_000, '10.0.0.2', 443), connRecord(T0 + 1, '10.0.0.1', 40_001, '10.0.0.2', 22)];
  let store = HistoryStore.open(dir, { clock: () => 0 });
  for (const c of before) store.appendConn(c);
  store.flush();
  store.close();
  stripProcessSections(dir);
  store = HistoryStore.open(dir, { clock: () => 0 });
  assert.deepEqual(store.flows(ALL), before.map(json).reverse());
  const after = withProcesses(connRecord(T0 + 2, '10.0.0.1', 40_002, '10.0.0.2', 443), curl, nginx);
  store.appendConn(after);
  store.flush();
  assert.deepEqual(store.flows(ALL), [after, ...before].map(json).sort((a, b) => b.ts - a.ts));
  store.close();
  const db = new Database(join(dir, DATABASE_FILE), { readonly: true });
  assert.equal(db.prepare("SELECT count(*) FROM segments WHERE kind = 'conn'").pluck().get(), 1, 'the old segment was extended, not left beside a new one');
  db.close();
});
