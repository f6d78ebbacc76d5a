/**
 * Traffic spike against a learned baseline, end to end: hand-built UDP frames through the engine (per-host
 * bytes come from the flow table's columns each second). Learning is shortened by config.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { udp4, type Frame } from '../../test-support/frames.js';
import { runFrames } from '../testing/frames.js';

const CONFIG = { detectors: { traffic_spike: { learnSeconds: 30, baselineSeconds: 30, minBytesPerSecond: 50_000, sustainSeconds: 3 } } };

/** 10.0.0.5 sends one 128-byte datagram a second to 203.0.113.7 from t0 for `quiet` seconds, then `burst` seconds of 100 × 1028 bytes. */
function traffic(t0: number, quiet: number, burst: number): Frame[] {
  const frames: Frame[] = [];
  for (let s = 0; s < quiet; s++) frames.push({ ts: t0 + s, bytes: udp4('10.0.0.5', '203.0.113.7', 5000, 6000, 100) });
  for (let s = 0; s < burst; s++) for (let i = 0; i < 100; i++) frames.push({ ts: t0 + quiet + s + i * 0.009, bytes: udp4('10.0.0.5', '203.0.113.7', 5000, 6000, 1000) });
  frames.push({ ts: t0 + quiet + burst + 1, bytes: udp4('10.0.0.5', '203.0.113.7', 5000, 6000, 100) });
  return frames;
}

test('after learning, three seconds far above the baseline fire for the local host only', async () => {
  const { alerts } = await runFrames(traffic(1000, 40, 5), CONFIG);
  const open = alerts.filter((a) => a.state === 'open');
  assert.equal(open.length, 1);
  const a = open[0];
  assert.equal(a.detector, 'traffic_spike');
  assert.equal(a.src, '10.0.0.5', '203.0.113.7 is not local: not followed');
  assert.ok(a.ts >= 1042 && a.ts <= 1044, `third second of the burst (${a.ts})`);
  assert.ok(a.evidence.counters.bytes_per_second >= 100_000, String(a.evidence.counters.bytes_per_second));
  assert.ok((a.evidence.baseline_bytes_per_second as number) < 200);
  assert.match(a.message, /^10\.0\.0\.5 moved \d+ kB\/s, \d+× its usual \d+ B\/s \(baseline of \d+ s\), for 3 s$/);
});

test('the same burst during the learning period, or shorter than sustainSeconds, stays quiet', async () => {
  assert.deepEqual((await runFrames(traffic(1000, 10, 5), CONFIG)).alerts, []);
  assert.deepEqual((await runFrames(traffic(1000, 40, 2), CONFIG)).alerts, []);
});

test('a capture that jumps a year does not count the jump as learning', async () => {
  const frames = traffic(1000, 5, 0);
  frames.push(...traffic(1000 + 365 * 86400, 5, 5));
  assert.deepEqual((await runFrames(frames, CONFIG)).alerts, []);
});
