import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { ConnRecord } from '../analyze/records.js';
import { Pipeline } from '../analyze/pipeline.js';
import { openCaptureFile } from '../capture/capture-file.js';
import { generateCapture } from '../synth/generate.js';
import { runEngineOnFile } from '../test-support/run-engine.js';
import { DATABASE_FILE, HistoryStore } from './history-store.js';
import { migrate } from './schema.js';
import { connRecord, tempDir } from './store-fixtures.test-util.js';

test("the engine's conn records come back from history as the very lines loopy read printed, from columns alone", async (t) => {
  const dir = tempDir(t);
  const capture = join(dir, '..', 'mix.pcap');
  // VLAN-tagged so that vlan is set; the mix has TCP with and without RTT, UDP, ICMP, services and none.
  await generateCapture({ seed: 3, packets: 4000, vlan: 12 }, capture);
  const conns = (await runEngineOnFile(capture)).records.filter((r): r is ConnRecord => r.type === 'conn');
  assert.ok(conns.length > 200);
  assert.ok(conns.some((c) => c.rtt !== undefined) && conns.some((c) => c.service === undefined) && conns.every((c) => c.vlan === 12));
  const store = HistoryStore.open(dir, { clock: () => 0 });
  for (const c of conns) store.appendConn(c);
  store.flush();
  const back = store.flows({ since: 0, until: 2 ** 31, limit: 100_000 });
  store.close();
  // Same lines, byte for byte (field order included); the store orders by start time, the engine by end.
  assert.deepEqual(back.map((c) => JSON.stringify(c)).sort(), conns.map((c) => JSON.stringify(c)).sort());
  const db = new Database(join(dir, DATABASE_FILE), { readonly: true });
  assert.equal(db.prepare('SELECT count(*) FROM segment_data WHERE instr(rest, CAST(? AS BLOB)) > 0').pluck().get('{"type":"conn"'), 0, 'no JSON kept beside the columns');
  assert.ok((db.prepare("SELECT count(*) FROM segments WHERE kind = 'conn'").pluck().get() as number) > 0);
  db.close();
});

test('flows appended from the flow table (no record object) come back as the very records, mixed with records in one batch', async (t) => {
  const dir = tempDir(t);
  const capture = join(dir, '..', 'mix6.pcap');
  await generateCapture({ seed: 5, packets: 4000, vlan: 12, ipv6Share: 0.3 }, capture);
  const store = HistoryStore.open(dir, { clock: () => 0 });
  const expected: ConnRecord[] = [];
  const pipeline = new Pipeline({}).observe({
    onConn: (conn) => {
      // Every third flow as a record, the rest from the table: a batch that mixes both kinds of row.
      if (expected.length % 3 === 0) store.appendConn(conn.record());
      else store.appendFlow(conn);
      expected.push(conn.record());
    },
  });
  await pipeline.run(openCaptureFile(capture));
  pipeline.finish();
  assert.ok(expected.length > 200);
  assert.ok(expected.some((c) => c['id.orig_h'].includes(':')) && expected.some((c) => c.proto === 'icmp') && expected.some((c) => c.service !== undefined));
  store.flush();
  const back = store.flows({ since: 0, until: 2 ** 31, limit: 100_000 });
  store.close();
  assert.deepEqual(back.map((c) => JSON.stringify(c)).sort(), expected.map((c) => JSON.stringify(c)).sort());
});

test('a conn record with a field the columns do not know keeps its JSON, and comes back whole', (t) => {
  const dir = tempDir(t);
  const store = HistoryStore.open(dir, { clock: () => 0 });
  const odd = { ...connRecord(100, '10.0.0.5', 40_000, '10.0.0.9', 22), tunnel_parents: ['Cabc'] } as ConnRecord;
  store.appendConn(odd);
  store.flush();
  assert.deepEqual(store.flows({ since: 0, until: 200 }), [JSON.parse(JSON.stringify(odd))]);
  store.close();
});

test('rows written before version 4 (JSON only) still read, beside new rows in columns', (t) => {
  const dir = tempDir(t);
  const db = new Database(join(dir, '..', DATABASE_FILE));
  migrate(db, 3);
  const old = connRecord(100, '10.0.0.5', 40_000, '10.0.0.9', 22);
  db.prepare("INSERT INTO conn (ts, uid, orig_h, orig_p, resp_h, resp_p, proto, record) VALUES (?, ?, ?, ?, ?, ?, 'tcp', ?)").run(
    old.ts, old.uid, old['id.orig_h'], old['id.orig_p'], old['id.resp_h'], old['id.resp_p'], JSON.stringify(old),
  );
  db.close();
  const store = HistoryStore.open(join(dir, '..'), { clock: () => 0 });
  const fresh = connRecord(101, '10.0.0.6', 40_001, '10.0.0.9', 22);
  store.appendConn(fresh);
  store.flush();
  assert.deepEqual(store.flows({ since: 0, until: 200 }), [JSON.parse(JSON.stringify(fresh)), JSON.parse(JSON.stringify(old))]);
  store.close();
});
