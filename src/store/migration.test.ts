import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DATABASE_FILE, HistoryStore } from './history-store.js';
import { migrate, SCHEMA_VERSION } from './schema.js';
import { connParams, CONN_COLUMNS } from './conn-columns.js';
import { alertRecord, connRecord, dnsRecord, statsSecond, tempDir } from './store-fixtures.test-util.js';

const H0 = 1_699_999_200;

test('a version 1 database (no top talkers) migrates forward and keeps its history', (t) => {
  const dir = tempDir(t);
  mkdirSync(dir, { mode: 0o700 });
  // What Loopy's first schema wrote: tables of version 1, some rows, a rollup watermark.
  const v1 = new Database(join(dir, DATABASE_FILE));
  migrate(v1, 1);
  assert.equal(v1.pragma('user_version', { simple: true }), 1);
  assert.equal(v1.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'talkers_1m'").pluck().get(), 0);
  v1.prepare('INSERT INTO stats_1s (ts, packets, bytes) VALUES (?, ?, ?)').run(H0 + 60, 5, 500);
  v1.prepare('INSERT INTO stats_1m (ts, packets, bytes) VALUES (?, ?, ?)').run(H0, 100, 10_000);
  v1.prepare("INSERT INTO meta (key, value) VALUES ('rolled_minute_until', ?)").run(H0 + 60);
  const conn = connRecord(H0 + 1, '10.0.0.5', 40_000, '10.0.0.9', 22);
  v1.prepare("INSERT INTO conn (ts, uid, orig_h, orig_p, resp_h, resp_p, proto, record) VALUES (?, ?, ?, ?, ?, ?, 'tcp', ?)").run(
    conn.ts, conn.uid, conn['id.orig_h'], conn['id.orig_p'], conn['id.resp_h'], conn['id.resp_p'], JSON.stringify(conn),
  );
  v1.close();

  const store = HistoryStore.open(dir, { clock: () => 0 });
  assert.equal(SCHEMA_VERSION, 5);
  assert.deepEqual(store.flows({ since: H0, until: H0 + 10 }).map((c) => c.uid), [conn.uid]);
  // The watermark came through: minute H0 from stats_1m, minute H0+60 from stats_1s, plus what we add now.
  store.appendStats(statsSecond(H0 + 61, 1, [['10.0.0.5', 42]]));
  store.flush();
  assert.deepEqual(store.series({ since: H0, until: H0 + 120, resolution: '1m' }).map((p) => [p.ts - H0, p.packets]), [[0, 100], [60, 6]]);
  assert.deepEqual(store.topTalkers({ since: H0, until: H0 + 120 }), [{ host: '10.0.0.5', bytes: 42, packets: 1 }]);
  store.close();
  const after = new Database(join(dir, DATABASE_FILE), { readonly: true });
  assert.equal(after.pragma('user_version', { simple: true }), SCHEMA_VERSION);
  after.close();
});

test('a version 2 database (no acknowledgement columns) migrates; its alerts read unacknowledged and can be acknowledged', (t) => {
  const dir = tempDir(t);
  mkdirSync(dir, { mode: 0o700 });
  const v2 = new Database(join(dir, DATABASE_FILE));
  migrate(v2, 2);
  const a = alertRecord('A1', H0 + 5, 'closed', H0 + 70);
  // The row as version 2 wrote it: no acknowledged_* columns exist yet.
  v2.prepare('INSERT INTO alerts (alert_id, ts, state_ts, detector, severity, state, src, dst, message, record) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').run(
    a.alert_id, a.ts, a.state_ts, a.detector, a.severity, a.state, a.src, a.dst, a.message, JSON.stringify(a),
  );
  v2.close();

  const store = HistoryStore.open(dir, { clock: () => 0 });
  const [before] = store.alerts({ since: H0, until: H0 + 100 });
  assert.equal(before.alert_id, 'A1');
  assert.equal(before.acknowledged, undefined);
  const acked = store.acknowledgeAlert('A1', { acknowledged: true, acknowledged_at: H0 + 200, acknowledged_by: 'loopy-ui 0.1.0' });
  assert.deepEqual([acked?.acknowledged, acked?.acknowledged_at, acked?.acknowledged_by], [true, H0 + 200, 'loopy-ui 0.1.0']);
  store.close();
  const after = new Database(join(dir, DATABASE_FILE), { readonly: true });
  assert.equal(after.pragma('user_version', { simple: true }), SCHEMA_VERSION);
  assert.deepEqual(after.prepare('SELECT acknowledged_at, acknowledged_by FROM alerts').get(), { acknowledged_at: H0 + 200, acknowledged_by: 'loopy-ui 0.1.0' });
  after.close();
});

test('a version 4 database (a row per flow and per DNS transaction) migrates; its rows read beside the new segments, newest first', (t) => {
  const dir = tempDir(t);
  mkdirSync(dir, { mode: 0o700 });
  const v4 = new Database(join(dir, DATABASE_FILE));
  migrate(v4, 4);
  // Rows as version 4 wrote them: flows in columns, DNS as JSON beside its filter columns.
  const insertConn = v4.prepare(`INSERT INTO conn (${CONN_COLUMNS.join(', ')}) VALUES (${CONN_COLUMNS.map(() => '?').join(', ')})`);
  const oldFlows = [connRecord(H0 + 1, '10.0.0.5', 40_001, '10.0.0.9', 22), connRecord(H0 + 3, '10.0.0.6', 40_003, '10.0.0.9', 443)];
  for (const c of oldFlows) insertConn.run(connParams(c));
  const oldDns = dnsRecord(H0 + 2, '10.0.0.5', 'old.example', 'NOERROR');
  v4.prepare("INSERT INTO dns (ts, uid, orig_h, orig_p, resp_h, resp_p, proto, record) VALUES (?, ?, ?, ?, ?, ?, 'udp', ?)").run(
    oldDns.ts, oldDns.uid, oldDns['id.orig_h'], oldDns['id.orig_p'], oldDns['id.resp_h'], oldDns['id.resp_p'], JSON.stringify(oldDns),
  );
  v4.close();

  const store = HistoryStore.open(dir, { clock: () => 0 });
  const newFlows = [connRecord(H0 + 2, '10.0.0.5', 40_002, '10.0.0.9', 22), connRecord(H0 + 4, '10.0.0.7', 40_004, '10.0.0.9', 22)];
  for (const c of newFlows) store.appendConn(c);
  store.appendDns(dnsRecord(H0 + 1, '10.0.0.5', 'new.example', 'NOERROR'));
  store.flush();
  const ports = (q: object) => store.flows({ since: H0, until: H0 + 10, ...q }).map((c) => c['id.orig_p']);
  assert.deepEqual(ports({}), [40_004, 40_003, 40_002, 40_001], 'old rows and segments, one list, newest first');
  assert.deepEqual(ports({ limit: 3 }), [40_004, 40_003, 40_002]);
  assert.deepEqual(ports({ host: '10.0.0.5' }), [40_002, 40_001]);
  assert.deepEqual(ports({ port: 443 }), [40_003]);
  assert.deepEqual(store.flows({ since: H0, until: H0 + 10 }).at(-1), JSON.parse(JSON.stringify(oldFlows[0])));
  assert.deepEqual(store.dns({ since: H0, until: H0 + 10 }).map((d) => d.query), ['old.example', 'new.example']);
  // An answer's rows hold the old table's records too, merged the same way.
  const range = { since: H0, until: H0 + 10 };
  assert.equal(`[${Buffer.from(store.flowRows(range).text).toString('utf8')}]`, JSON.stringify(store.flows(range)));
  assert.equal(`[${Buffer.from(store.dnsRows(range).text).toString('utf8')}]`, JSON.stringify(store.dns(range)));
  // Retention empties the old tables row by row; a segment goes whole once its newest record is past it.
  store.enforceRetention(H0 + 3.5 + 7 * 86_400);
  assert.deepEqual(ports({}), [40_004, 40_002]);
  store.enforceRetention(H0 + 4.5 + 7 * 86_400);
  assert.deepEqual(ports({}), []);
  store.close();
});

test('a database from a newer Loopy is refused, not guessed at', (t) => {
  const dir = tempDir(t);
  HistoryStore.open(dir).close();
  const db = new Database(join(dir, DATABASE_FILE));
  db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
  db.close();
  assert.throws(() => HistoryStore.open(dir), (err: Error & { code?: string }) => err.code === 'STORE_SCHEMA_TOO_NEW' && /upgrade Loopy/.test(err.message));
});
