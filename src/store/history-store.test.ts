import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DATABASE_FILE, HistoryStore } from './history-store.js';
import { alertRecord, connRecord, dnsRecord, statsSecond, tempDir } from './store-fixtures.test-util.js';

const T0 = 1_700_000_000; // a minute boundary (1_700_000_000 % 60 = 20, so pick times relative to it below)
const json = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;
const frozenClock = () => T0;

test('the directory is 0700 and the database, WAL and shm files 0600', (t) => {
  const dir = tempDir(t);
  const store = HistoryStore.open(dir, { clock: frozenClock });
  store.appendStats(statsSecond(T0, 10));
  store.flush();
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  for (const f of [DATABASE_FILE, `${DATABASE_FILE}-wal`, `${DATABASE_FILE}-shm`]) assert.equal(statSync(join(dir, f)).mode & 0o777, 0o600, f);
  store.close();
});

test('stats round trip: each second comes back with its counters; dropped sums the interfaces', (t) => {
  const store = HistoryStore.open(tempDir(t), { clock: frozenClock });
  for (let i = 0; i < 5; i++) store.appendStats(statsSecond(T0 + i, 10 + i));
  // Nothing is visible before the flush: appends are buffered.
  assert.deepEqual(store.series({ since: T0, until: T0 + 5, resolution: '1s' }), []);
  store.flush();
  const points = store.series({ since: T0, until: T0 + 5, resolution: '1s' });
  assert.deepEqual(points.map((p) => p.ts), [T0, T0 + 1, T0 + 2, T0 + 3, T0 + 4]);
  const s = statsSecond(T0 + 3, 13);
  assert.deepEqual(points[3], {
    ts: T0 + 3,
    packets: 13,
    bytes: 1300,
    packets_in: s.packets_in,
    packets_out: s.packets_out,
    bytes_in: s.bytes_in,
    bytes_out: s.bytes_out,
    // The stats record says 3 flows and 6 queries, but the series counts records, and none were stored.
    flows_opened: 0,
    dns_queries: 0,
    dropped: 1,
    alerts: 0,
  });
  // since/until: since inclusive, until exclusive; limit keeps the newest.
  assert.deepEqual(store.series({ since: T0 + 1, until: T0 + 3, resolution: '1s' }).map((p) => p.packets), [11, 12]);
  assert.deepEqual(store.series({ since: T0, until: T0 + 5, resolution: '1s', limit: 2 }).map((p) => p.packets), [13, 14]);
  store.close();
});

test('conn, dns and alert records come back as they went in, and survive a reopen', (t) => {
  const dir = tempDir(t);
  let store = HistoryStore.open(dir, { clock: frozenClock });
  const conn = connRecord(T0 + 0.5, '10.0.0.5', 51_000, '93.184.216.34', 443);
  const dns = dnsRecord(T0 + 0.75, '10.0.0.5', 'example.com', 'NOERROR');
  const nx = dnsRecord(T0 + 0.8, '10.0.0.5', 'nope.example', 'NXDOMAIN');
  store.appendConn(conn);
  store.appendDns(dns);
  store.appendDns(nx);
  store.appendAlert(alertRecord('a1', T0 + 1, 'open'));
  store.close();
  store = HistoryStore.open(dir, { clock: frozenClock });
  const range = { since: T0, until: T0 + 10 };
  assert.deepEqual(store.flows(range), [json(conn)]);
  // Newest first.
  assert.deepEqual(store.dns(range), [json(nx), json(dns)]);
  assert.deepEqual(store.alerts(range), [json(alertRecord('a1', T0 + 1, 'open'))]);
  store.close();
});

test('an alert is one row in its latest state, counted once in the series at the second it fired', (t) => {
  const store = HistoryStore.open(tempDir(t), { clock: frozenClock });
  store.appendStats(statsSecond(T0 + 1, 4));
  store.appendAlert(alertRecord('a1', T0 + 1.2, 'open'));
  store.flush();
  store.appendAlert(alertRecord('a1', T0 + 1.2, 'update', T0 + 30));
  store.appendAlert(alertRecord('a2', T0 + 2.5, 'open'));
  store.flush();
  store.appendAlert(alertRecord('a1', T0 + 1.2, 'closed', T0 + 90));
  // Replayed out of order: an older state does not overwrite the newer one.
  store.appendAlert(alertRecord('a1', T0 + 1.2, 'update', T0 + 60));
  store.flush();
  const alerts = store.alerts({ since: T0, until: T0 + 100 });
  // Newest first by the time each fired: a2 (T0 + 2.5) before a1 (T0 + 1.2).
  assert.deepEqual(alerts.map((a) => [a.alert_id, a.state, a.state_ts]), [['a2', 'open', T0 + 2.5], ['a1', 'closed', T0 + 90]]);
  const series = store.series({ since: T0, until: T0 + 10, resolution: '1s' });
  assert.deepEqual(series.map((p) => [p.ts, p.alerts, p.packets]), [[T0 + 1, 1, 4], [T0 + 2, 1, 0]]);
  assert.deepEqual(store.alerts({ since: T0, until: T0 + 100, host: '10.0.0.66' }).length, 2);
  assert.deepEqual(store.alerts({ since: T0, until: T0 + 100, host: '10.0.0.7' }), []);
  store.close();
});

test('flow and DNS filters: host (either side), port (either side), proto, since/until, limit', (t) => {
  const store = HistoryStore.open(tempDir(t), { clock: frozenClock });
  const flows = [
    connRecord(T0 + 1, '10.0.0.5', 51_000, '93.184.216.34', 443),
    connRecord(T0 + 2, '10.0.0.6', 51_001, '10.0.0.5', 22),
    connRecord(T0 + 3, '10.0.0.6', 53_000, '192.0.2.53', 53, 'udp'),
    connRecord(T0 + 4, '10.0.0.7', 443, '10.0.0.8', 40_000),
    connRecord(T0 + 5, '10.0.0.5', 0, '10.0.0.1', 0, 'icmp'),
  ];
  for (const f of flows) store.appendConn(f);
  store.appendDns(dnsRecord(T0 + 3, '10.0.0.6', 'a.example', 'NOERROR'));
  store.appendDns(dnsRecord(T0 + 6, '10.0.0.9', 'b.example', 'NXDOMAIN'));
  store.flush();
  const all = { since: T0, until: T0 + 10 };
  const ts = (rs: Array<{ ts: number }>) => rs.map((r) => r.ts - T0);
  // Newest first; a limit keeps the newest.
  assert.deepEqual(ts(store.flows(all)), [5, 4, 3, 2, 1]);
  assert.deepEqual(ts(store.flows({ ...all, host: '10.0.0.5' })), [5, 2, 1]);
  assert.deepEqual(ts(store.flows({ ...all, port: 443 })), [4, 1]);
  assert.deepEqual(ts(store.flows({ ...all, proto: 'udp' })), [3]);
  assert.deepEqual(ts(store.flows({ ...all, host: '10.0.0.6', proto: 'tcp' })), [2]);
  assert.deepEqual(ts(store.flows({ ...all, host: '10.0.0.6', port: 53, proto: 'udp' })), [3]);
  assert.deepEqual(ts(store.flows({ since: T0 + 2, until: T0 + 4 })), [3, 2]);
  assert.deepEqual(ts(store.flows({ ...all, limit: 2 })), [5, 4]);
  assert.deepEqual(ts(store.flows({ ...all, host: '203.0.113.1' })), []);
  assert.deepEqual(ts(store.dns(all)), [6, 3]);
  assert.deepEqual(store.dns({ ...all, host: '10.0.0.9' }).map((d) => d.query), ['b.example']);
  assert.deepEqual(store.dns({ ...all, port: 53, proto: 'tcp' }), []);
  store.close();
});

test('records of the same time come back newest appended first, every time', (t) => {
  const store = HistoryStore.open(tempDir(t), { clock: frozenClock });
  // Three flows closing in the same microsecond (a burst of resets): append order is the only order there is.
  for (const port of [1001, 1002, 1003]) store.appendConn(connRecord(T0 + 1, '10.0.0.5', port, '10.0.0.9', 80));
  store.flush();
  assert.deepEqual(store.flows({ since: T0, until: T0 + 2 }).map((c) => c['id.orig_p']), [1003, 1002, 1001]);
  assert.deepEqual(store.flows({ since: T0, until: T0 + 2, limit: 1 }).map((c) => c['id.orig_p']), [1003]);
  store.close();
});

test('an acknowledgement is kept beside the alert: later states keep it, the first one wins, it survives a reopen', (t) => {
  const dir = tempDir(t);
  let store = HistoryStore.open(dir, { clock: frozenClock });
  const ack = { acknowledged: true as const, acknowledged_at: T0 + 40, acknowledged_by: 'loopy-ui 0.1.0' };
  // Not stored: nothing to acknowledge.
  assert.equal(store.acknowledgeAlert('nope', ack), undefined);
  // Appended but not flushed yet (the agent flushes once a second): acknowledging writes it first.
  store.appendAlert(alertRecord('a1', T0 + 1, 'open'));
  store.appendAlert(alertRecord('a2', T0 + 2, 'open'));
  assert.deepEqual(store.acknowledgeAlert('a1', ack), { ...json(alertRecord('a1', T0 + 1, 'open')), ...ack });
  // A later state from detection, which knows nothing of acknowledgements, does not erase it.
  store.appendAlert(alertRecord('a1', T0 + 1, 'closed', T0 + 90));
  store.flush();
  // A second acknowledgement does not replace the first.
  assert.equal(store.acknowledgeAlert('a1', { ...ack, acknowledged_at: T0 + 95, acknowledged_by: 'other 1' })?.acknowledged_by, 'loopy-ui 0.1.0');
  store.close();
  store = HistoryStore.open(dir, { clock: frozenClock });
  const alerts = store.alerts({ since: T0, until: T0 + 100 });
  assert.deepEqual(alerts.map((a) => [a.alert_id, a.state, a.acknowledged, a.acknowledged_at, a.acknowledged_by]), [
    ['a2', 'open', undefined, undefined, undefined],
    ['a1', 'closed', true, T0 + 40, 'loopy-ui 0.1.0'],
  ]);
  assert.deepEqual(store.alert('a1'), { ...json(alertRecord('a1', T0 + 1, 'closed', T0 + 90)), ...ack });
  store.close();
});

test('an alert record that already carries an acknowledgement (the agent stamps later states) stores it', (t) => {
  const store = HistoryStore.open(tempDir(t), { clock: frozenClock });
  const stamped = { ...alertRecord('a3', T0 + 3, 'update', T0 + 20), acknowledged: true, acknowledged_at: T0 + 10, acknowledged_by: 'loopy-query 0.1.0' };
  store.appendAlert(stamped);
  store.flush();
  assert.deepEqual(store.alerts({ since: T0, until: T0 + 100 }), [json(stamped)]);
  store.close();
});

test('the series refuses a host, port or proto filter instead of ignoring it', (t) => {
  const store = HistoryStore.open(tempDir(t), { clock: frozenClock });
  store.appendStats(statsSecond(T0, 10));
  store.flush();
  assert.throws(() => store.series({ since: T0, until: T0 + 1, resolution: '1s', host: '10.0.0.5' }), /cannot be filtered by host/);
  assert.throws(() => store.series({ since: T0, until: T0 + 1, resolution: '1s', port: 443 }), /cannot be filtered by port/);
  assert.throws(() => store.series({ since: T0, until: T0 + 1, resolution: '1s', proto: 'udp' }), /cannot be filtered by proto/);
  assert.equal(store.series({ since: T0, until: T0 + 1, resolution: '1s' })[0].packets, 10);
  store.close();
});

test('appending goes on after close and reopen; close is idempotent and later use is refused', (t) => {
  const dir = tempDir(t);
  let store = HistoryStore.open(dir, { clock: frozenClock });
  store.appendStats(statsSecond(T0, 1));
  store.close();
  store.close();
  assert.throws(() => store.flows({ since: 0, until: T0 }), /closed/);
  store = HistoryStore.open(dir, { clock: frozenClock });
  store.appendStats(statsSecond(T0 + 1, 2));
  store.flush();
  assert.deepEqual(store.series({ since: T0, until: T0 + 2, resolution: '1s' }).map((p) => p.packets), [1, 2]);
  store.close();
});

test('a file that is not a database is refused with a one-line error and a code', (t) => {
  const dir = tempDir(t);
  HistoryStore.open(dir).close();
  // Overwrite the header: SQLite must refuse it.
  writeFileSync(join(dir, DATABASE_FILE), Buffer.alloc(8192, 0x41));
  assert.throws(() => HistoryStore.open(dir), (err: Error & { code?: string }) => err.code === 'STORE_OPEN_FAILED' && !err.message.includes('\n'));
});


test('flows and DNS in the series are the stored records counted at their own ts, late ones too', (t) => {
  const store = HistoryStore.open(tempDir(t), { clock: frozenClock });
  const minute = T0 - (T0 % 60) + 60;
  // The stats rolled at minute+61 say 4 flows and 4 queries: the series must not take them from there.
  store.appendStats(statsSecond(minute + 61, 4));
  store.appendConn(connRecord(minute + 59.9, '10.0.0.5', 51_000, '93.184.216.34', 443));
  store.appendDns(dnsRecord(minute + 0.1, '10.0.0.5', 'example.com', 'NOERROR'));
  store.appendDns(dnsRecord(minute + 60, '10.0.0.5', 'example.org', 'NOERROR'));
  store.flush();
  // A flow of the first minute that ends (is stored) after that minute was rolled up.
  store.appendStats(statsSecond(minute + 130, 4));
  store.appendConn(connRecord(minute + 3, '10.0.0.6', 51_001, '93.184.216.34', 443));
  store.flush();
  const range = { since: minute, until: minute + 180 };
  const points = store.series({ ...range, resolution: '1m' });
  const counts = points.map((p) => [p.ts - minute, p.flows_opened, p.dns_queries]);
  assert.deepEqual(counts, [[0, 2, 1], [60, 0, 1], [120, 0, 0]]);
  // Exactly what the record queries give for each minute.
  for (const p of points) {
    const step = { since: p.ts, until: p.ts + 60 };
    assert.equal(store.flows(step).length, p.flows_opened);
    assert.equal(store.dns(step).length, p.dns_queries);
  }
  store.close();
});

test('after the page cache is given back (a quiet store), records read back and writing goes on', (t) => {
  const store = HistoryStore.open(tempDir(t), { clock: frozenClock });
  const range = { since: T0, until: T0 + 100 };
  const conns = Array.from({ length: 2_000 }, (_, i) => connRecord(T0 + i / 100, `10.0.${i >> 8}.${i & 255}`, 40_000 + i, '93.184.216.34', 443));
  for (const c of conns) store.appendConn(c);
  store.flush();
  store.releaseCache();
  assert.equal(store.flows({ ...range, limit: 5_000 }).length, 2_000);
  const late = connRecord(T0 + 50, '10.9.9.9', 50_000, '93.184.216.34', 443);
  store.appendConn(late);
  store.flush();
  store.releaseCache();
  assert.deepEqual(store.flows({ ...range, host: '10.9.9.9' }), [json(late)]);
  store.close();
  assert.throws(() => store.releaseCache(), /closed/);
});
