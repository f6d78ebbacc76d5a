/** capture_loss: a second with more than 0.1 % dropped by the kernel is an incident, one alert per interface. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DetectionHarness } from '../testing/harness.js';

const ONLY = { detectors: { capture_loss: { enabled: true } } };

function second(h: DetectionHarness, now: number, received: number, dropped: number, name = 'eth0'): void {
  h.tick(now);
  h.detection.captureSecond(now, [{ name, received, dropped }]);
}

test('loss above 0.1 % opens one alert per interface, updated while it lasts, with the total and the worst second', () => {
  const h = new DetectionHarness(ONLY);
  second(h, 1000, 300_000, 0);
  second(h, 1001, 300_000, 200); // 0.067 %: under the threshold
  assert.equal(h.alerts.length, 0);
  second(h, 1002, 300_000, 3_000); // 1 %
  second(h, 1003, 300_000, 30_000, 'eth1'); // 10 %, another interface
  const open = h.alerts.filter((a) => a.state === 'open');
  assert.deepEqual(open.map((a) => a.detector), ['capture_loss', 'capture_loss']);
  assert.match(open[0].message, /^capture on eth0 lost 3000 packets \(1\.00 %, worst second 1\.0 %\)/);
  assert.match(open[1].message, /^capture on eth1 lost 30000 packets \(10\.00 %/);
  for (let t = 1004; t < 1020; t++) second(h, t, 300_000, 6_000);
  h.detection.finish();
  const last = h.alerts.filter((a) => a.message.startsWith('capture on eth0')).at(-1)!;
  assert.equal(last.state, 'closed');
  assert.equal(last.evidence.counters.dropped, 3_000 + 16 * 6_000);
  assert.equal(last.evidence.counters.lossy_seconds, 17);
});

test('reading a file, or a live link that loses nothing, raises nothing', () => {
  const h = new DetectionHarness(ONLY);
  for (let t = 0; t < 30; t++) second(h, t, 50_000, 0);
  second(h, 31, 0, 0);
  h.detection.finish();
  assert.equal(h.alerts.length, 0);
});
