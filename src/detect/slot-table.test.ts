/** SlotTable: its index under collisions and deletions, and TrackedKeys' bound kept slot for slot. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SLOT_FIELDS, SlotTable } from './slot-table.js';
import { TrackedKeys } from './tracked-keys.js';
import { random } from './testing/random.js';

function heldKeys(t: SlotTable): number[] {
  const keys: number[] = [];
  t.forEach((slot) => keys.push(t.rows[slot * t.stride + SLOT_FIELDS]));
  return keys;
}

test('keys sharing their index position, or their key with another check, are told apart; deleting one keeps the others found', () => {
  const t = new SlotTable('d', 't', 1000, { fields: 1 });
  // Same low bits (one probe chain), and one key with three checks.
  const keys: Array<[number, number]> = Array.from({ length: 40 }, (_, i): [number, number] => [i << 16, 7]).concat([[5 << 16, 8], [5 << 16, 9], [0x3fffffff, -1]]);
  for (const [k, c] of keys) {
    const slot = t.add(k, c);
    t.rows[slot * t.stride + SLOT_FIELDS] = k + c;
  }
  for (const [k, c] of keys) assert.equal(t.rows[t.find(k, c) * t.stride + SLOT_FIELDS], k + c, `key ${k}/${c}`);
  assert.equal(t.find(5 << 16, 10), -1);
  assert.equal(t.find(41 << 16, 7), -1);
  // Delete every third (the chain is shifted back each time): the rest are still found, the deleted not.
  for (const [i, [k, c]] of keys.entries()) if (i % 3 === 0) t.delete(t.find(k, c));
  for (const [i, [k, c]] of keys.entries()) {
    const slot = t.find(k, c);
    if (i % 3 === 0) assert.equal(slot, -1, `deleted ${k}/${c}`);
    else assert.equal(t.rows[slot * t.stride + SLOT_FIELDS], k + c, `kept ${k}/${c}`);
  }
  assert.equal(t.size, keys.length - Math.ceil(keys.length / 3));
});

test('at capacity the least hit of the oldest eight goes, never a protected one while another will do, as TrackedKeys lets go', () => {
  const protectedKeys = new Set([0, 2]);
  const t: SlotTable = new SlotTable('d', 't', 10, { fields: 1, protect: (slot: number): boolean => protectedKeys.has(t.rows[slot * t.stride + SLOT_FIELDS]) });
  for (let k = 0; k < 10; k++) {
    const slot = t.add(k * 1000, 1);
    t.rows[slot * t.stride + SLOT_FIELDS] = k;
  }
  // Keys 0..7 are the oldest eight: 0 and 2 protected, 1 hit twice, 3..7 hit once except 5.
  for (const k of [1, 1, 3, 4, 6, 7]) t.find(k * 1000, 1);
  t.add(10_000, 1);
  assert.equal(t.find(5000, 1), -1, 'key 5 (no hit, not protected) was let go');
  assert.equal(t.evicted, 1);
  assert.equal(t.size, 10);
  // The others looked at moved behind the newer keys, in order, before the new one came (its field is 0).
  assert.deepEqual(heldKeys(t), [8, 9, 0, 1, 2, 3, 4, 6, 7, 0]);
});

test('a flood of new pairs: the bound holds, and held keys, declines and evictions match TrackedKeys event for event', () => {
  const capacity = 2000;
  const slots: SlotTable = new SlotTable('d', 't', capacity, { fields: 1, protect: (slot: number): boolean => slots.rows[slot * slots.stride + SLOT_FIELDS] % 97 === 0 });
  const keys = new TrackedKeys<number>('d', 't', capacity, { protect: (k) => k % 97 === 0 });
  const rnd = random(5);
  let ts = 1000;
  for (let i = 0; i < 200_000; i++) {
    ts += 0.0001;
    // Nine events in ten a spoofed one-off pair; the rest among 3,000 recurring ones.
    const key = rnd() < 0.9 ? 0x100000 + i : Math.floor(rnd() * 3000);
    const check = key ^ 0x5a5a;
    if (slots.find(key, check) < 0 && slots.admit(key, ts)) {
      const slot = slots.add(key, check);
      slots.rows[slot * slots.stride + SLOT_FIELDS] = key;
    }
    if (keys.get(key) === undefined && keys.admit(key, ts)) keys.add(key, key);
    assert.ok(slots.size <= capacity);
  }
  const held: number[] = [];
  keys.forEach((k) => held.push(k));
  assert.deepEqual(heldKeys(slots), held);
  assert.deepEqual(slots.report(), keys.report());
  assert.ok(slots.report().declined > 100_000 && slots.report().evicted > 0, JSON.stringify(slots.report()));
  assert.equal(slots.slots, capacity, 'rows grew to the capacity and no further');
});
