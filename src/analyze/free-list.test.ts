import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FreeList } from './free-list.js';

test('a free list keeps what a steady stream takes and gives, and lets a burst\'s leftovers go within two periods', () => {
  const list = new FreeList<object>(4096);
  let now = 1000;
  list.settle(now);
  // A burst ends 3,000 flows, then a steady stream: each second 20 flows start (taking) and 20 end (giving).
  for (let i = 0; i < 3000; i++) list.give({});
  for (let s = 0; s < 25; s++) {
    now++;
    const taken: object[] = [];
    for (let i = 0; i < 20; i++) taken.push(list.take() ?? {});
    for (const item of taken) list.give(item);
    list.settle(now);
  }
  // Trims at 1010 (the first period: the burst's objects sat in it from its start) and 1020.
  assert.ok(list.size <= 20, `${list.size} kept after two periods of a stream needing 20`);
  assert.ok(list.size >= 1, 'the stream\'s own objects stay');
  // The stream keeps cycling through what is kept: nothing more goes.
  const kept = list.size;
  for (let s = 0; s < 30; s++) {
    now++;
    const taken: object[] = [];
    for (let i = 0; i < kept; i++) taken.push(list.take()!);
    for (const item of taken) list.give(item);
    list.settle(now);
  }
  assert.equal(list.size, kept);
  // Quiet: what is kept goes at the next trims.
  for (let s = 0; s < 25; s++) list.settle(++now);
  assert.equal(list.size, 0);
});

test('a free list holds at most its capacity', () => {
  const list = new FreeList<object>(8);
  for (let i = 0; i < 20; i++) list.give({});
  assert.equal(list.size, 8);
});
