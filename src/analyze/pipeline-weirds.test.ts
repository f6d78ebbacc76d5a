/**
 * Live, the weirds that no flow took (truncated or malformed packet layers) are reported once a minute with
 * their count since the last report, not only when the agent stops; a file reports them once, at its end.
 * Each weird is in exactly one record either way.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { batchOf, udp4 } from '../test-support/frames.js';
import { Pipeline, WEIRD_REPORT_SECONDS } from './pipeline.js';
import type { LoopyRecord } from './records.js';

/** A UDP frame cut inside its IPv4 header (14 + 12 bytes): a truncated_IP weird, before any flow exists. */
function truncatedIp(ts: number) {
  return { bytes: udp4('192.0.2.1', '192.0.2.2', 5000, 53, 4).subarray(0, 26), ts };
}

function weirdsOf(records: LoopyRecord[]): Array<{ name: string; count: number; ts: number }> {
  return records.filter((r) => r.type === 'weird').map((r) => {
    const { name, count, ts } = r as unknown as { name: string; count: number; ts: number };
    return { name, count, ts };
  });
}

test('live: weirds without a flow are reported each minute with the count since the last report', () => {
  const records: LoopyRecord[] = [];
  const pipeline = new Pipeline().observe({ onRecord: (r) => records.push(r) });
  const t0 = 1_700_000_000;
  pipeline.tick(t0);
  pipeline.process(batchOf([truncatedIp(t0 + 1), truncatedIp(t0 + 2)]));
  pipeline.tick(t0 + 30);
  assert.deepEqual(weirdsOf(records), [], 'nothing before the minute is up');
  pipeline.tick(t0 + WEIRD_REPORT_SECONDS);
  assert.deepEqual(weirdsOf(records), [{ name: 'truncated_IP', count: 2, ts: t0 + WEIRD_REPORT_SECONDS }]);
  pipeline.process(batchOf([truncatedIp(t0 + 70)]));
  pipeline.tick(t0 + 2 * WEIRD_REPORT_SECONDS);
  pipeline.tick(t0 + 3 * WEIRD_REPORT_SECONDS);
  const counts = weirdsOf(records).map((w) => w.count);
  assert.deepEqual(counts, [2, 1], 'the second minute reports only its own weird; a quiet minute reports nothing');
  pipeline.finish();
  assert.deepEqual(weirdsOf(records).map((w) => w.count), [2, 1], 'the end adds nothing already reported');
  const summary = records.find((r) => r.type === 'summary') as unknown as { weirds: Record<string, number> };
  assert.equal(summary.weirds.truncated_IP, 3, 'the records add up to the summary');
});

test('a file: the weirds without a flow are one record per name at its end', () => {
  const records: LoopyRecord[] = [];
  const pipeline = new Pipeline().observe({ onRecord: (r) => records.push(r) });
  pipeline.process(batchOf([truncatedIp(10), truncatedIp(200), truncatedIp(400)]));
  pipeline.finish();
  assert.deepEqual(weirdsOf(records).map((w) => [w.name, w.count]), [['truncated_IP', 3]]);
});
