import { test } from 'node:test';
import assert from 'node:assert/strict';
import history, { bucketize } from './HistoryView.js';
import { FakeAgentClient } from '../testing/fake-agent-client.js';
import { CONN_TLS, DNS_NX } from '../testing/sample-records.js';
import { renderView, tick } from '../testing/render-view.js';
import type { SeriesPoint } from '../../client/agent-client.js';

const NOW = 1718003600; // 2024-06-10 07:13:20 UTC, an hour after the sample records
const point = (ts: number, bytes: number): SeriesPoint => ({ ts, bytes, packets: bytes / 100, packets_in: 0, packets_out: 0, bytes_in: 0, bytes_out: 0, flows_opened: 1, dns_queries: 2, dropped: 0, alerts: 0 });

test('bucketize sums agents per step on the step boundaries, whatever second the range starts at', () => {
  // The range starts mid-minute (16:40 + 40 s); points come at whole minutes, as the store gives them.
  const range = { since: 1000, until: 1180, label: '' };
  const b = bucketize([[point(1020, 5), point(1080, 7), point(2000, 99)], [point(1080, 1)]], range, 60);
  // 1020 is filed under the minute it is (1020), not under a bucket that began at 1000.
  assert.deepEqual(b.map((x) => [x.ts, x.bytes]), [[960, 0], [1020, 5], [1080, 8], [1140, 0]]);
});

test('history: last hour at 1m steps from every agent, y-axis, cursor moves, Enter lists what happened then', async () => {
  const a = new FakeAgentClient('a');
  const b = new FakeAgentClient('b');
  const MIN = NOW - 20; // 07:13:00, the minute now is in: "last hour" is the 60 whole minutes before it
  a.history.series = [point(MIN - 3600, 60000), point(MIN - 60, 6000)];
  b.history.series = [point(MIN - 60, 6000)];
  a.history.flows = [{ ...CONN_TLS, ts: MIN - 3590 }];
  a.history.dns = [{ ...DNS_NX, ts: MIN - 3590 }, { ...DNS_NX, ts: MIN - 3570 }];
  a.history.alerts = [];
  const v = renderView(history, [a, b], { now: NOW, height: 20 });
  await tick();
  await v.refresh();
  assert.deepEqual(a.calls[0], { method: 'series', args: { since: MIN - 3600, until: MIN, resolution: '1m' } });
  assert.equal(b.calls[0].method, 'series');
  let frame = v.frame();
  assert.match(frame, /^last hour: 2024-06-10 06:13 → 2024-06-10 07:13 UTC, 1m steps/);
  // The y-axis: the top is the busiest minute, 60 000 B in 60 s = 8.00 kb/s.
  assert.match(frame, /^8\.00kb\/s ┤█/m);
  assert.match(frame, /^ {7}0 ┤█/m);
  assert.match(frame, /^ {10}2024-06-10 06:13 +2024-06-10 07:13$/m);
  // The cursor starts on the newest step: 12 000 bytes over 60 s = 1.60 kb/s, both agents summed.
  assert.match(frame, /^2024-06-10 07:12  1\.60kb\/s  120 pkts  2 connections  4 DNS  0 alerts/m);
  // 60 steps in 70 columns: the cursor mark sits under the last one.
  assert.match(frame, /^ {9}└ {59}\^$/m);
  assert.ok(frame.split('\n').every((l) => l.length <= 80), frame);
  await v.press('h');
  await v.press('\x1b[D'); // left arrow
  assert.match(v.frame(), /^2024-06-10 07:10  0b\/s/m);
  await v.press('H');
  assert.match(v.frame(), /^2024-06-10 07:00  0b\/s/m);
  for (let i = 0; i < 6; i++) await v.press('H');
  frame = v.frame();
  assert.match(frame, /^2024-06-10 06:13  8\.00kb\/s  600 pkts  1 connections  2 DNS/m);
  await v.press('\r');
  await tick();
  assert.deepEqual(a.calls.find((c) => c.method === 'flows')?.args, { since: MIN - 3600, until: MIN - 3540, limit: 10_000 });
  frame = v.frame();
  // The details count what the cursor line counted, in the same words.
  assert.match(frame, /At 2024-06-10 06:13 \+60s: 1 connections  2 DNS  0 alerts/);
  assert.match(frame, /connections \(1, biggest first\)/);
  assert.match(frame, /192\.168\.10\.22:51721 → 203\.0\.113\.10:443 ssl SF 8\.6K/);
  assert.match(frame, /wwww\.example\.com A NXDOMAIN/);
  v.unmount();
});

test('history: r steps to the last day and week; t takes typed times, and a bad one is explained', async () => {
  const a = new FakeAgentClient('a');
  const v = renderView(history, [a], { now: NOW });
  await tick();
  // The view asks after it renders: wait (bounded) for the question, a busy machine renders late.
  const asked = async (args: object) => {
    for (let i = 0; i < 100 && JSON.stringify(a.calls.at(-1)?.args) !== JSON.stringify(args); i++) await tick(20);
    return a.calls.at(-1)?.args;
  };
  await v.press('r');
  assert.deepEqual(await asked({ since: NOW - 20 - 86400, until: NOW - 20, resolution: '1m' }), { since: NOW - 20 - 86400, until: NOW - 20, resolution: '1m' });
  await v.press('r');
  assert.deepEqual(await asked({ since: 1718002800 - 7 * 86400, until: 1718002800, resolution: '1h' }), { since: 1718002800 - 7 * 86400, until: 1718002800, resolution: '1h' });
  await v.press('t');
  assert.match(v.frame(), /range: █ 30m  2h  -30m/);
  for (const c of 'yesterday') await v.press(c);
  await v.press('\r');
  assert.match(v.frame(), /start 'yesterday' is not a time/);
  for (let i = 0; i < 9; i++) await v.press('\x7f');
  for (const c of '2024-06-10 06:00 .. +5m') await v.press(c);
  await v.press('\r');
  assert.deepEqual(await asked({ since: 1717999200, until: 1717999500, resolution: '1s' }), { since: 1717999200, until: 1717999500, resolution: '1s' });
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
