/** ICMP flood from hand-built echo requests through the engine's icmp layer observer. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { icmpEcho, type Frame } from '../../test-support/frames.js';
import { runFrames } from '../testing/frames.js';

function pings(src: string, dst: string, t0: number, n: number, gap: number): Frame[] {
  return Array.from({ length: n }, (_, i) => ({ ts: t0 + i * gap, bytes: icmpEcho(src, dst, 8, 99, i & 0xffff) }));
}

test('1000 ICMP packets to one host within 2 s fire once, then update and close at end of input', async () => {
  const { alerts } = await runFrames(pings('10.0.0.5', '10.0.0.9', 1000, 3000, 0.001), { alerts: { updateInterval: 1 } });
  const open = alerts.filter((a) => a.state === 'open');
  assert.equal(open.length, 1);
  const a = open[0];
  assert.equal(a.detector, 'icmp_flood');
  assert.equal(a.src, '10.0.0.5');
  assert.equal(a.dst, '10.0.0.9');
  assert.ok(a.ts >= 1000.999 && a.ts < 1001.1, `fired at the 1000th packet (${a.ts})`);
  assert.equal(a.evidence.counters.packets, 1000);
  assert.equal(a.evidence.counters.echo_requests, 1000);
  assert.equal(a.evidence.thresholds.in_window_peak, 1000);
  const closed = alerts.filter((x) => x.state === 'closed');
  assert.equal(closed.length, 1);
  assert.equal(closed[0].alert_id, a.alert_id);
  assert.equal(closed[0].evidence.counters.packets, 3000);
  assert.match(closed[0].message, /^10\.0\.0\.9 received 3000 ICMP packets from 10\.0\.0\.5 in 3 s \(peak \d+\/s\)$/);
});

test('ping at one a second, and a fast burst below the threshold, stay quiet', async () => {
  const { alerts } = await runFrames([...pings('10.0.0.5', '10.0.0.9', 1000, 120, 1), ...pings('10.0.0.6', '10.0.0.9', 2000, 900, 0.001)]);
  assert.deepEqual(alerts, []);
});

test('an allow-listed target is not counted', async () => {
  const { alerts } = await runFrames(pings('10.0.0.5', '10.0.0.9', 1000, 2000, 0.001), { detectors: { icmp_flood: { allowTargets: ['10.0.0.0/24'] } } });
  assert.deepEqual(alerts, []);
});
