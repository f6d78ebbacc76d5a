/** The alert lifecycle on its own: signals in, alert records out, capture time passed by hand. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AlertRecord } from '../analyze/records.js';
import { AlertBook } from './alerts.js';
import type { AlertSignal } from './types.js';

function book(overrides: Partial<ConstructorParameters<typeof AlertBook>[0]> = {}): { book: AlertBook; out: AlertRecord[] } {
  const out: AlertRecord[] = [];
  return { book: new AlertBook({ quietPeriod: 60, updateInterval: 10, maxCommunityIds: 20, idSeed: 1, onAlert: (a) => out.push(a), ...overrides }), out };
}

function signal(ts: number, n: number, extra: Partial<AlertSignal> = {}): AlertSignal {
  return { key: 'k', ts, severity: 'medium', message: `m${n}`, src: '10.0.0.5', counters: { n }, thresholds: { n: 1 }, hosts: [`10.0.1.${n}`], first_seen: ts - 1, last_seen: ts, ...extra };
}

test('open once, updates at most every updateInterval (the latest state), closed after quietPeriod', () => {
  const { book: b, out } = book();
  b.raise('d', signal(100, 1));
  b.raise('d', signal(101, 2));
  b.raise('d', signal(105, 3));
  assert.deepEqual(out.map((a) => a.state), ['open']);
  b.second(109);
  assert.equal(out.length, 1, 'less than 10 s since the open record');
  b.second(110);
  assert.deepEqual(out.map((a) => `${a.state}:${a.message}:${a.state_ts}`), ['open:m1:100', 'update:m3:110']);
  assert.deepEqual(out[1].evidence.hosts, ['10.0.1.1', '10.0.1.2', '10.0.1.3'], 'lists accumulate');
  assert.equal(out[1].evidence.first_seen, 99);
  assert.equal(out[1].evidence.last_seen, 105);
  b.second(130);
  assert.equal(out.length, 2, 'no update without news');
  b.second(164);
  assert.equal(out.length, 2, 'quiet for 59 s since the last signal at 105');
  b.second(165);
  assert.deepEqual(out.map((a) => a.state), ['open', 'update', 'closed']);
  assert.equal(out[2].closed_reason, 'quiet');
  assert.equal(out[2].ts, 100);
  assert.equal(b.openCount, 0);
});

test('a signal after the interval is written at once; severity only goes up', () => {
  const { book: b, out } = book();
  b.raise('d', signal(100, 1, { severity: 'high' }));
  b.raise('d', signal(111, 2, { severity: 'low' }));
  assert.deepEqual(out.map((a) => `${a.state}:${a.severity}`), ['open:high', 'update:high']);
  b.raise('d', signal(125, 3, { severity: 'critical' }));
  assert.equal(out[2].severity, 'critical');
});

test('different keys and detectors are different incidents; ids differ per seed and are stable per run', () => {
  const { book: b, out } = book();
  b.raise('d', signal(100, 1));
  b.raise('d', signal(100, 1, { key: 'other' }));
  b.raise('e', signal(100, 1));
  assert.equal(new Set(out.map((a) => a.alert_id)).size, 3);
  const again = book();
  again.book.raise('d', signal(100, 1));
  assert.equal(again.out[0].alert_id, out[0].alert_id, 'same seed, same sequence: same id (a file reads the same way twice)');
  const seeded = book({ idSeed: 2 });
  seeded.book.raise('d', signal(100, 1));
  assert.notEqual(seeded.out[0].alert_id, out[0].alert_id);
});

test('suppressions: by detector, src CIDR, dst; with expiry; a new one closes the open alerts it covers', () => {
  const { book: b, out } = book({ quietPeriod: 1000 });
  b.suppressions.add({ detector: 'd', src: '10.0.0.0/8', until: 200 });
  b.raise('d', signal(100, 1));
  b.raise('e', signal(100, 1));
  assert.deepEqual(out.map((a) => a.detector), ['e']);
  b.second(200);
  b.raise('d', signal(201, 1));
  assert.deepEqual(out.map((a) => a.detector), ['e', 'd'], 'expired');
  b.suppress({ dst: '192.0.2.1' }, 202);
  assert.equal(out.length, 2, 'no open alert has that dst');
  b.suppress({ detector: 'e' }, 203);
  assert.deepEqual(out.map((a) => `${a.detector}:${a.state}`), ['e:open', 'd:open', 'e:closed']);
  assert.equal(out[2].closed_reason, 'suppressed');
});

test('suppressions per unit: only the alerts whose process is of that unit, open ones closed at once', () => {
  const { book: b, out } = book({ quietPeriod: 1000 });
  b.raise('new_process_talker', signal(100, 1, { key: 'web', unit: 'nginx.service' }));
  b.raise('new_process_talker', signal(100, 1, { key: 'db', unit: 'postgresql.service' }));
  b.raise('new_listener', signal(100, 1, { key: 'plain' }));
  b.suppress({ unit: 'nginx.service' }, 101);
  assert.deepEqual(out.map((a) => `${a.detector}:${a.state}:${a.closed_reason ?? ''}`), [
    'new_process_talker:open:', 'new_process_talker:open:', 'new_listener:open:', 'new_process_talker:closed:suppressed',
  ]);
  assert.match(out[3].message, /m1/);
  b.suppressions.add({ detector: 'new_listener', unit: 'nginx.service' });
  b.raise('new_listener', signal(102, 2, { key: 'web:8080', unit: 'nginx.service' }));
  b.raise('new_listener', signal(102, 2, { key: 'db:5433', unit: 'postgresql.service' }));
  b.raise('new_listener', signal(102, 2, { key: 'none:9' }));
  assert.deepEqual(out.slice(4).map((a) => a.evidence.hosts[0]), ['10.0.1.2', '10.0.1.2'], 'the other unit and the alert without one open');
  assert.deepEqual(b.suppressions.list().map((r) => r.hits), [1, 0], 'the first rule that covers an alert takes it');
});

test('finish closes everything with end_of_input; openAlerts shows what is open', () => {
  const { book: b, out } = book();
  b.raise('d', signal(100, 1));
  b.raise('e', signal(101, 1));
  assert.equal(b.openAlerts().length, 2);
  b.finish(150);
  assert.deepEqual(out.slice(2).map((a) => `${a.detector}:${a.closed_reason}:${a.state_ts}`), ['d:end_of_input:150', 'e:end_of_input:150']);
});
