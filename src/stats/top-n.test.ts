import { test } from 'node:test';
import assert from 'node:assert/strict';
import { firstSorted, Tally } from './top-n.js';

test('firstSorted is the stable sort cut to n, ties kept in input order (seeded items with many ties)', () => {
  let x = 99;
  const rand = (n: number) => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return (x >>> 8) % n;
  };
  const items = Array.from({ length: 3000 }, (_, i) => ({ i, bytes: rand(40), packets: rand(3) }));
  const byBytes = (a: (typeof items)[0], b: (typeof items)[0]) => b.bytes - a.bytes || b.packets - a.packets;
  for (const n of [0, 1, 2, 8, 50, 2999, 3000, 5000]) {
    assert.deepEqual(firstSorted(items, n, byBytes).map((c) => c.i), [...items].sort(byBytes).slice(0, n).map((c) => c.i), `n ${n}`);
  }
  assert.deepEqual(firstSorted([], 3, byBytes), []);
});

test('Tally.top: largest first, ties by key', () => {
  const t = new Tally();
  for (const [k, v] of [['b', 2], ['a', 2], ['c', 5], ['d', 1], ['a', 1]] as const) t.add(k, v);
  assert.deepEqual(t.top(3).map((e) => [e.key, e.value]), [['c', 5], ['a', 3], ['b', 2]]);
  assert.equal(t.size, 4);
});
