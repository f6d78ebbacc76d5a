import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PairIndex } from './pair-index.js';

test('agrees with a Map through growth and deletions (backward shifts across the wrap)', () => {
  const index = new PairIndex(4);
  const model = new Map<string, number>();
  let seed = 1;
  const rand = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8) % n;
  for (let step = 0; step < 200_000; step++) {
    // Flow ids as the flow table makes them (generation × 2^22 + slot), and 16-bit transaction ids.
    const a = rand(64) * 4_194_304 + rand(300);
    const b = rand(4);
    const key = `${a}/${b}`;
    const op = rand(3);
    if (op === 0) {
      index.set(a, b, step);
      model.set(key, step);
    } else if (op === 1) {
      index.delete(a, b);
      model.delete(key);
    } else {
      assert.equal(index.get(a, b), model.get(key) ?? -1);
    }
    assert.equal(index.size, model.size);
  }
  for (const [key, value] of model) {
    const [a, b] = key.split('/').map(Number);
    assert.equal(index.get(a, b), value);
  }
  index.clear();
  assert.equal(index.size, 0);
  assert.equal(index.get(0, 0), -1);
});

test('keys that differ only above 32 bits, or only in b, are different keys', () => {
  const index = new PairIndex();
  index.set(5, 0, 1);
  index.set(5 + 2 ** 32, 0, 2);
  index.set(5, 1, 3);
  assert.deepEqual([index.get(5, 0), index.get(5 + 2 ** 32, 0), index.get(5, 1), index.get(5, 2)], [1, 2, 3, -1]);
});
