import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffDelay } from './backoff.js';

test('doubles from the initial delay, caps, and jitters within [half, full]', () => {
  const policy = { initialMs: 100, maxMs: 1000 };
  const low = () => 0;
  const high = () => 0.999999;
  assert.deepEqual([1, 2, 3, 4, 5, 6].map((a) => backoffDelay(a, policy, high)), [100, 200, 400, 800, 1000, 1000]);
  assert.deepEqual([1, 2, 3, 4, 5, 6].map((a) => backoffDelay(a, policy, low)), [50, 100, 200, 400, 500, 500]);
  assert.equal(backoffDelay(10_000, policy, low), 500);
});
