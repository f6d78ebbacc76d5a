/** The detection bench's steady-state figure, from CPU seconds worked out by hand. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { steadyShare } from './detection.js';

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
