/** Large transfers from hand-built TCP transfers through the engine's flow deltas and pair tallies. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runFrames } from '../testing/frames.js';
import { tcpTransfer } from '../testing/tcp-transfer.js';
import { parseDetectionConfig } from '../config.js';

/** A smaller threshold than the default 1 GB, so a test builds 20,000 frames, not 700,000. */
const TEN_MB = { detectors: { large_transfer: { minBytes: 10_000_000 } } };

test('a transfer between two local hosts past the threshold: one alert naming sender, receiver and bytes', async () => {
  // 8,000 segments of 1448 bytes (+40 of headers): 11.9 MB of IP bytes from the client in 2 s.
  const { alerts } = await runFrames(tcpTransfer('10.0.0.5', '10.0.0.9', 8000, 1000.5, 0.000125), TEN_MB);
  const open = alerts.filter((a) => a.state === 'open');
  assert.deepEqual(open.map((a) => [a.detector, a.src, a.dst]), [['large_transfer', '10.0.0.5', '10.0.0.9']]);
  const closed = alerts.at(-1)!;
  assert.equal(closed.state, 'closed');
  assert.equal(closed.evidence.counters.bytes, 40 + 40 + 8000 * 1488 + 40, 'SYN, ACK, the segments and the FIN');
  assert.equal(closed.message, '10.0.0.5 sent 11.9 MB to 10.0.0.9 (e.g. tcp/5201) in 2 s (6.0 MB/s)'); // 11.9 MB over 2.0006 s
});

test('below the threshold, and the receiver\'s ACKs (the other direction), raise nothing', async () => {
  const { alerts } = await runFrames(tcpTransfer('10.0.0.5', '10.0.0.9', 6000, 1000, 0.0001), TEN_MB);
  assert.deepEqual(alerts, []);
});

test('the default threshold is 1 GB within 10 minutes', () => {
  const { minBytes, window } = parseDetectionConfig({}).detectors.large_transfer;
  assert.deepEqual([minBytes, window], [1_000_000_000, 600]);
});
