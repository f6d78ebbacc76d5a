/**
 * The flows marked as moved (moved-flows.ts) against a Set: random marks, many of one flow, past the list's
 * first length, each take in index order and each flow once, and nothing left for the next.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MovedFlows } from './moved-flows.js';

test('each take holds every flow marked since the last, once each, in index order, then starts empty', () => {
  const moved = new MovedFlows();
  moved.grow(100_000);
  let seed = 7;
  const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
  for (let round = 0; round < 50; round++) {
    const oracle = new Set<number>();
    // Up to 3,000 marks a round, often of the same flows (a flow counts many packets between two passes).
    const marks = next() % 3000;
    for (let i = 0; i < marks; i++) {
      const flow = next() % (i % 4 === 0 ? 100_000 : 500);
      moved.mark(flow);
      oracle.add(flow);
    }
    assert.deepEqual([...moved.take()], [...oracle].sort((a, b) => a - b), `round ${round}`);
  }
  assert.equal(moved.take().length, 0);
});
