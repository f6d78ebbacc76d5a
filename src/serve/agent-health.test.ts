import { test } from 'node:test';
import assert from 'node:assert/strict';
import { memoryTrimmer } from './agent-health.js';

test('the C heap is trimmed every ten seconds of the roll clock, not every second', () => {
  const calls: number[] = [];
  const tick = memoryTrimmer(1000, () => (calls.push(calls.length), true));
  for (let now = 1001; now <= 1035; now++) tick(now);
  assert.equal(calls.length, 3); // at 1010, 1020, 1030
});
