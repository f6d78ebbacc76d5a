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

test('reading a file, the baseline is seeded from the host\'s first minute in it (default thresholds otherwise), and the alert says so', async () => {
  // 70 s at 20 kB/s, then 5 s at 20 MB/s: 1,000× the baseline, above the 10 MB/s floor.
  const frames: Frame[] = [];
  for (let s = 0; s < 70; s++) for (let i = 0; i < 20; i++) frames.push({ ts: 1000 + s + i * 0.05, bytes: udp4('10.0.0.5', '203.0.113.7', 5000, 6000, 958) });
  for (let s = 70; s < 75; s++) for (let i = 0; i < 1000; i++) frames.push({ ts: 1000 + s + i * 0.001, bytes: udp4('10.0.0.5', '203.0.113.7', 5000, 6000, 19958) });
  frames.push({ ts: 1076, bytes: udp4('10.0.0.5', '203.0.113.7', 5000, 6000, 100) });
  const live = await runFrames(frames, {});
  assert.deepEqual(live.alerts.filter((a) => a.detector === 'traffic_spike'), [], 'live: 70 s is inside the 600 s of learning');
  const file = await runFrames(frames, {}, { fromFile: true });
  const open = file.alerts.filter((a) => a.detector === 'traffic_spike' && a.state === 'open');
  assert.equal(open.length, 1);
  assert.equal(open[0].ts, 1073, 'the third second of the burst');
  assert.equal(open[0].evidence.baseline_source, 'file');
  const usual = open[0].evidence.baseline_bytes_per_second as number;
  assert.ok(usual > 19_000 && usual < 21_500, `the seeded baseline is the host's real rate, not a fraction of it: ${usual}`);
  assert.match(open[0].message, /^10\.0\.0\.5 moved 20\.\d MB\/s, \d+× its usual (19|20)\.\d kB\/s \(baseline of 70 s learned from this file\), for 3 s$/);
});

test('reading a file, a host as busy in its first minute as later raises nothing', async () => {
  const frames: Frame[] = [];
  for (let s = 0; s < 120; s++) for (let i = 0; i < 1000; i++) frames.push({ ts: 1000 + s + i * 0.001, bytes: udp4('10.0.0.5', '203.0.113.7', 5000, 6000, 19958) });
  const { alerts } = await runFrames(frames, {}, { fromFile: true });
  assert.deepEqual(alerts.filter((a) => a.detector === 'traffic_spike'), []);
});
