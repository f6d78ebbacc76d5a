/** Distinct counting in fixed memory, against exact counts. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DistinctCounter, DistinctKeys, groupDigits } from './distinct-count.js';
import { random } from './testing/random.js';

/** n distinct IPv4-like keys (signed 32-bit, as host keys), spread like spoofed sources. */
function keys(n: number, seed: number): number[] {
  const set = new Set<number>();
  const next = random(seed);
  // The same 32-bit values as the generator's, as signed integers.
  while (set.size < n) set.add((next() * 4294967296) | 0);
  return [...set];
}

for (const n of [1, 10, 100, 1000]) {
  test(`a 1024-bit linear counter estimates ${n} distinct keys within 10 %`, () => {
    for (const seed of [1, 2, 3]) {
      const c = new DistinctCounter(1024);
      for (const k of keys(n, seed)) {
        c.add(k);
        c.add(k); // repeats do not count
      }
      assert.equal(c.saturated, false);
      const e = c.estimate();
      assert.ok(Math.abs(e - n) <= Math.max(0.1 * n, 0.5), `seed ${seed}: estimated ${e} for ${n}`);
    }
  });
}

test('a 1024-bit linear counter says saturated at 10000 distinct keys, and counts at least its limit', () => {
  const c = new DistinctCounter(1024);
  for (const k of keys(10_000, 7)) c.add(k);
  assert.equal(c.saturated, true);
  assert.equal(c.limit, 3500);
  assert.equal(c.estimate(), 3500);
});

test('text keys (IPv6) are counted like numbers', () => {
  const c = new DistinctCounter(1024);
  for (let i = 0; i < 1000; i++) c.add(`2001:db8::${i.toString(16)}`);
  assert.ok(Math.abs(c.estimate() - 1000) <= 100, `estimated ${c.estimate()}`);
});

test('a 4096-bit counter stays within 5 % at 5000 keys', () => {
  const c = new DistinctCounter(4096);
  for (const k of keys(5000, 11)) c.add(k);
  assert.equal(c.saturated, false);
  assert.ok(Math.abs(c.estimate() - 5000) <= 250, `estimated ${c.estimate()}`);
});

test('DistinctKeys: exact and kept up to 20, then estimated; wording', () => {
  const d = new DistinctKeys<number>(20, 1024);
  assert.equal(d.add(5), true);
  assert.equal(d.add(5), false);
  assert.equal(d.count, 1);
  assert.equal(d.describe(), '1');
  for (let i = 1; i < 20; i++) d.add(5 + i);
  assert.equal(d.count, 20);
  assert.equal(d.estimated, false);
  assert.deepEqual(d.first, Array.from({ length: 20 }, (_, i) => 5 + i));
  for (const k of keys(1500, 5)) d.add(k);
  assert.equal(d.first.length, 20, 'the kept list stays bounded');
  assert.equal(d.estimated, true);
  assert.ok(Math.abs(d.count - 1520) <= 152, `estimated ${d.count}`);
  assert.match(d.describe(), /^about 1,[3-7]00$/);
  for (const k of keys(20_000, 6)) d.add(k);
  assert.equal(d.saturated, true);
  assert.equal(d.describe(), '3,500+');
  assert.equal(groupDigits(1234567), '1,234,567');
});
