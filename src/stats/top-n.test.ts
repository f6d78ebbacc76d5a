import { test } from 'node:test';
import assert from 'node:assert/strict';
import { firstSorted, Tally, TopN } from './top-n.js';

/** A seeded generator of whole numbers below n (an LCG). */
function seeded(seed: number): (n: number) => number {
  let x = seed;
  return (n) => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return (x >>> 8) % n;
  };
}

test('firstSorted is the stable sort cut to n, ties kept in input order (seeded items with many ties)', () => {
  const rand = seeded(99);
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

test('Tally past its capacity keeps the heavy keys, over-counted by at most total / capacity, and says so', () => {
  const t = new Tally(10);
  const truth = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < 5000; i++) {
    // Three heavy hitters among 2000 keys seen once or twice.
    const key = i % 5 === 0 ? 'heavy-a' : i % 7 === 0 ? 'heavy-b' : i % 11 === 0 ? 'heavy-c' : `light-${i % 2000}`;
    t.add(key, 1);
    truth.set(key, (truth.get(key) ?? 0) + 1);
    total++;
  }
  assert.equal(t.approximate, true);
  assert.equal(t.size, 10);
  const top = t.top(3);
  assert.deepEqual(top.map((e) => e.key).sort(), ['heavy-a', 'heavy-b', 'heavy-c']);
  for (const e of top) {
    assert.ok(e.value >= truth.get(e.key)! && e.value <= truth.get(e.key)! + total / 10, `${e.key}: ${e.value} for ${truth.get(e.key)}`);
  }
});

test('TopN fed one item at a time keeps what firstSorted keeps over all of them', () => {
  const rand = seeded(7);
  const items = Array.from({ length: 2000 }, (_, i) => ({ i, bytes: rand(30), packets: rand(4) }));
  const compare = (a: (typeof items)[0], b: (typeof items)[0]) => b.bytes - a.bytes || b.packets - a.packets;
  const top = new TopN(8, compare);
  for (const item of items) top.add(item);
  assert.deepEqual(top.items().map((c) => c.i), firstSorted(items, 8, compare).map((c) => c.i));
  assert.equal(top.count, 2000);
});
