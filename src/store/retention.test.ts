import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HistoryStore } from './history-store.js';
import { alertRecord, connRecord, dnsRecord, statsSecond, tempDir } from './store-fixtures.test-util.js';

const NOW = 1_699_999_200; // an hour boundary
const DAY = 86_400;
const noRetention = () => 0;

test('default retention: seconds 24 h, minutes 30 days, hours a year, flows and DNS 7 days, alerts 90 days', (t) => {
  const store = HistoryStore.open(tempDir(t), { clock: noRetention });
  const ages = [366 * DAY, 31 * DAY, 25 * 3600, 3600];
  for (const age of ages) store.appendStats(statsSecond(NOW - age, 100));
  store.appendStats(statsSecond(NOW, 1)); // completes every earlier minute and hour
  for (const age of [8 * DAY, 6 * DAY]) {
    store.appendConn(connRecord(NOW - age, '10.0.0.5', 50_000, '10.0.0.9', 80));
    store.appendDns(dnsRecord(NOW - age, '10.0.0.5', 'x.example', 'NOERROR'));
  }
  store.appendAlert(alertRecord('old', NOW - 91 * DAY, 'closed'));
  store.appendAlert(alertRecord('kept', NOW - 89 * DAY, 'closed'));
  store.flush();
  const everything = { since: NOW - 400 * DAY, until: NOW + 1 };
  const before = (r: '1s' | '1m' | '1h') => store.series({ ...everything, resolution: r }).length;
  // Each alert's first second is a point too (it counts the alert), and each flow's and DNS transaction's
  // (the flows at 8 and 6 days share their seconds with the DNS transactions).
  assert.deepEqual([before('1s'), before('1m'), before('1h')], [9, 9, 9]);

  store.enforceRetention(NOW);
  const ages1s = store.series({ ...everything, resolution: '1s' }).map((p) => NOW - p.ts);
  const ages1m = store.series({ ...everything, resolution: '1m' }).map((p) => NOW - p.ts);
  const ages1h = store.series({ ...everything, resolution: '1h' }).map((p) => NOW - p.ts);
  assert.deepEqual(ages1s, [3600, 0]);
  // The series keep counting records their own retention has removed (flows at 8 days): each table its own age.
  assert.deepEqual(ages1m, [8 * DAY, 6 * DAY, 25 * 3600, 3600, 0]);
  assert.deepEqual(ages1h, [91 * DAY, 89 * DAY, 31 * DAY, 8 * DAY, 6 * DAY, 25 * 3600, 3600, 0]);
  assert.deepEqual(store.flows(everything).map((c) => NOW - c.ts), [6 * DAY]);
  assert.deepEqual(store.dns(everything).map((d) => NOW - d.ts), [6 * DAY]);
  assert.deepEqual(store.alerts(everything).map((a) => a.alert_id), ['kept']);
  store.close();
});

test('seconds not yet rolled into a minute are kept whatever their age', (t) => {
  const store = HistoryStore.open(tempDir(t), { clock: noRetention, retention: { stats1s: 10 } });
  for (let i = 0; i < 30; i++) store.appendStats(statsSecond(NOW + i, i + 1));
  store.flush();
  store.enforceRetention(NOW + 1000);
  assert.equal(store.series({ since: NOW, until: NOW + 30, resolution: '1s' }).length, 30);
  // Once the minute is complete (a later second arrives) they roll up and may go; the minute keeps the sum.
  store.appendStats(statsSecond(NOW + 60, 1));
  store.flush();
  store.enforceRetention(NOW + 1000);
  assert.deepEqual(store.series({ since: NOW, until: NOW + 61, resolution: '1s' }).map((p) => p.ts), [NOW + 60]);
  assert.deepEqual(store.series({ since: NOW, until: NOW + 61, resolution: '1m' }).map((p) => p.packets), [(30 * 31) / 2, 1]);
  store.close();
});

test('flush runs retention by the store clock', (t) => {
  let clock = NOW;
  const store = HistoryStore.open(tempDir(t), { clock: () => clock, retention: { conn: 100 } });
  store.appendConn(connRecord(NOW - 50, '10.0.0.5', 50_000, '10.0.0.9', 80));
  store.flush();
  assert.equal(store.flows({ since: 0, until: NOW }).length, 1);
  clock = NOW + 200; // a minute or more later: flush looks again
  store.appendConn(connRecord(NOW + 150, '10.0.0.5', 50_001, '10.0.0.9', 80));
  store.flush();
  assert.deepEqual(store.flows({ since: 0, until: NOW + 1000 }).map((c) => c.ts), [NOW + 150]);
  store.close();
});

test('the size cap deletes the oldest flows first and keeps the series', (t) => {
  const maxBytes = 160 * 1024;
  const store = HistoryStore.open(tempDir(t), { clock: noRetention, maxBytes });
  for (let i = 0; i < 120; i++) store.appendStats(statsSecond(NOW + i, 10));
  for (let i = 0; i < 6000; i++) store.appendConn(connRecord(NOW + i / 50, `10.0.${i >> 8}.${i & 255}`, 40_000 + (i % 1000), '10.9.9.9', 443));
  // flush() enforces retention (and so the cap) itself.
  store.flush();
  assert.ok(store.usedBytes() <= maxBytes, `${store.usedBytes()} > ${maxBytes}`);
  const left = store.flows({ since: 0, until: NOW + 1000, limit: 100_000 });
  assert.ok(left.length > 0 && left.length < 3000, `${left.length} flows left`);
  // What is left is the newest (listed newest first): a contiguous tail ending at the last flow.
  assert.equal(left[0].ts, NOW + 5999 / 50);
  assert.equal(left.length, 6000 - Math.round((left.at(-1)!.ts - NOW) * 50));
  assert.equal(store.series({ since: NOW, until: NOW + 120, resolution: '1s' }).length, 120);
  store.close();
});
