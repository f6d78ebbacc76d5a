/** The detection bench's steady-state figure, from CPU seconds worked out by hand. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { medianOver, steadyShare } from './detection.js';

test('steady state: the warm-up\'s added seconds come off, the rest is spread over the packets after it', () => {
  // Whole run: detection adds 4.0 - 2.8 = 1.2 s; over the first 200,000 packets 1.3 - 1.0 = 0.3 s. The other
  // 0.9 s over 1,800,000 packets is 500 ns a packet: 15 % of a core at 300,000 packets/s.
  const cost = new Map([['detect', 4.0], ['detect@warm-up', 1.3], ['no-detect', 2.8], ['no-detect@warm-up', 1.0]]);
  assert.ok(Math.abs(steadyShare(cost, 2_000_000)! - 0.15) < 1e-12);
});

test('no steady-state figure without every run, or for a capture no longer than the warm-up', () => {
  assert.equal(steadyShare(new Map([['detect', 4.0], ['no-detect', 2.8]]), 2_000_000), null);
  assert.equal(steadyShare(new Map([['detect', 1], ['detect@warm-up', 1], ['no-detect', 1], ['no-detect@warm-up', 1]]), 200_000), null);
});

test('each pace\'s steady state comes from its own four runs', () => {
  const cost = new Map([
    ['detect', 4.0], ['detect@warm-up', 1.3], ['no-detect', 2.8], ['no-detect@warm-up', 1.0],
    // Retimed: detection adds 0.5 s over the whole run, 0.2 s over its warm-up, the first 1,000,000 packets
    // (at 300 kpps the first three detection seconds): 0.3 s over the other 1,000,000 packets, 9 % of a core.
    ['detect@300k', 4.1], ['detect@300k@warm-up', 1.4], ['no-detect@300k', 3.6], ['no-detect@300k@warm-up', 1.2],
  ]);
  assert.ok(Math.abs(steadyShare(cost, 2_000_000, '@300k')! - 0.09) < 1e-12);
  assert.equal(steadyShare(cost, 1_000_000, '@300k'), null, 'a capture no longer than its warm-up');
  assert.ok(Math.abs(steadyShare(cost, 2_000_000)! - 0.15) < 1e-12);
  assert.equal(steadyShare(new Map([...cost].filter(([k]) => !k.startsWith('detect@300k@'))), 2_000_000, '@300k'), null);
});

test('a figure per round: median of an odd or even count, range, rounds that gave none left out', () => {
  assert.deepEqual(medianOver([3, 1, 2], (x) => x), { median: 2, min: 1, max: 3, rounds: 3 });
  assert.deepEqual(medianOver([4, 1, null, 2, 3], (x) => x), { median: 2.5, min: 1, max: 4, rounds: 4 });
  assert.equal(medianOver([null], (x) => x), null);
});
