import { test } from 'node:test';
import assert from 'node:assert/strict';
import history, { bucketize } from './HistoryView.js';
import { FakeAgentClient } from '../testing/fake-agent-client.js';
import { ALERT_SCAN, CONN_TLS, DNS_NX } from '../testing/sample-records.js';
import { renderView, tick } from '../testing/render-view.js';
import type { SeriesPoint } from '../../client/agent-client.js';

const NOW = 1718003600; // 2024-06-10 07:13:20 UTC, an hour after the sample records
const point = (ts: number, bytes: number): SeriesPoint => ({ ts, bytes, packets: bytes / 100, packets_in: 0, packets_out: 0, bytes_in: 0, bytes_out: 0, flows_opened: 1, dns_queries: 2, dropped: 0, alerts: 0 });

test('bucketize sums agents per step and ignores points outside the range', () => {
  const range = { since: 1000, until: 1180, label: '' };
  const b = bucketize([[point(1000, 5), point(1060, 7), point(2000, 99)], [point(1065, 1)]], range, 60);
  assert.deepEqual(b.map((x) => [x.ts, x.bytes]), [[1000, 5], [1060, 8], [1120, 0]]);
});

test('history: last hour at 1m steps from every agent, cursor moves, Enter asks what happened then', async () => {
  const a = new FakeAgentClient('a');
  const b = new FakeAgentClient('b');
  a.history.series = [point(NOW - 3600, 60000), point(NOW - 60, 6000)];
  b.history.series = [point(NOW - 60, 6000)];
  a.history.flows = [{ ...CONN_TLS, ts: NOW - 3590 }];
  a.history.dns = [{ ...DNS_NX, ts: NOW - 3590 }];
  a.history.alerts = [ALERT_SCAN as never];
  const v = renderView(history, [a, b], { now: NOW, height: 20 });
  await tick();
  await v.refresh();
  assert.deepEqual(a.calls[0], { method: 'series', args: { since: NOW - 3600, until: NOW, resolution: '1m' } });
  assert.equal(b.calls[0].method, 'series');
  let frame = v.frame();
  assert.match(frame, /^last hour: 2024-06-10 06:13 → 2024-06-10 07:13 UTC, 1m steps/);
  // The cursor starts on the newest step: 12 000 bytes over 60 s = 1.60 kb/s, both agents summed.
  assert.match(frame, /cursor 2024-06-10 07:12\s+1\.60kb\/s  120 pkts  2 flows  4 dns  0 alerts/);
  // 60 steps in 78 columns: the cursor mark sits under the last one.
  assert.match(frame, /^ {59}\^$/m);
  await v.press('h');
  await v.press('\x1b[D'); // left arrow
  assert.match(v.frame(), /cursor 2024-06-10 07:10\s+0b\/s/);
  await v.press('H');
  assert.match(v.frame(), /cursor 2024-06-10 07:00\s+0b\/s/);
  for (let i = 0; i < 6; i++) await v.press('H');
  frame = v.frame();
  assert.match(frame, /cursor 2024-06-10 06:13\s+8\.00kb\/s/);
  assert.match(frame, /^\^$/m);
  await v.press('\r');
  await tick();
  assert.deepEqual(a.calls.find((c) => c.method === 'flows')?.args, { since: NOW - 3600, until: NOW - 3540, limit: 200 });
  frame = v.frame();
  assert.match(frame, /connections \(1\)/);
  assert.match(frame, /192\.168\.10\.22:51721 → 203\.0\.113\.10:443 ssl SF 8\.6K/);
  assert.match(frame, /wwww\.example\.com A NXDOMAIN/);
  assert.match(frame, /medium port_scan: 192\.168\.10\.250 scanned/);
  v.unmount();
});

test('history: r steps to the last day and week; t takes typed times, and a bad one is explained', async () => {
  const a = new FakeAgentClient('a');
  const v = renderView(history, [a], { now: NOW });
  await tick();
  await v.press('r');
  await tick();
  assert.deepEqual(a.calls.at(-1)?.args, { since: NOW - 86400, until: NOW, resolution: '1m' });
  await v.press('r');
  await tick();
  assert.deepEqual(a.calls.at(-1)?.args, { since: NOW - 7 * 86400, until: NOW, resolution: '1h' });
  await v.press('t');
  for (const c of 'yesterday') await v.press(c);
  await v.press('\r');
  assert.match(v.frame(), /type "-3h"/);
  for (let i = 0; i < 9; i++) await v.press('\x7f');
  for (const c of '2024-06-10 06:00 .. +5m') await v.press(c);
  await v.press('\r');
  await tick();
  assert.deepEqual(a.calls.at(-1)?.args, { since: 1717999200, until: 1717999500, resolution: '1s' });
  assert.match(v.frame(), /^2024-06-10 06:00 \.\. \+5m: 2024-06-10 06:00 → 2024-06-10 06:05 UTC, 1s steps/);
  v.unmount();
});

test('history: an agent that cannot answer is named, the others still show', async () => {
  const a = new FakeAgentClient('a');
  const b = new FakeAgentClient('b');
  b.failWith = 'history is not kept (no --data)';
  a.history.series = [point(NOW - 60, 6000)];
  const v = renderView(history, [a, b], { now: NOW });
  await tick();
  await v.refresh();
  assert.match(v.frame(), /b: history is not kept \(no --data\)/);
  assert.match(v.frame(), /800b\/s/);
  v.unmount();
});
