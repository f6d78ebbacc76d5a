/** The runFrames harness; the frame builders it is fed are checked against tshark in src/test-support/frames.test.ts. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ACK, SYN, tcp4 } from '../../test-support/frames.js';
import { runFrames } from './frames.js';

test('runFrames: the engine sees the frames (a conn record per flow) and detection runs beside it', async () => {
  const run = await runFrames([
    { ts: 100, bytes: tcp4('10.0.0.5', '10.0.0.9', 40000, 22, SYN, 1000, 0) },
    { ts: 100.001, bytes: tcp4('10.0.0.9', '10.0.0.5', 22, 40000, SYN | ACK, 5000, 1001) },
  ]);
  const conns = run.records.filter((r) => r.type === 'conn');
  assert.equal(conns.length, 1);
  assert.deepEqual(run.alerts, []);
  assert.ok(run.detection.detectors.includes('port_scan'));
});
