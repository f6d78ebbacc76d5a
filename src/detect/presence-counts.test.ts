/** PresenceCounts: never says "absent" of a key that is there, and says it of nearly every key that is not. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PresenceCounts } from './presence-counts.js';

test('every key added and not removed may be there; keys removed as often as added are absent again', () => {
  const counts = new PresenceCounts(1000);
  for (let k = 0; k < 1000; k++) counts.add(k * 7919);
  for (let k = 0; k < 1000; k++) assert.equal(counts.mayHave(k * 7919), true, `key ${k * 7919}`);
  for (let k = 0; k < 500; k++) counts.remove(k * 7919);
  for (let k = 500; k < 1000; k++) assert.equal(counts.mayHave(k * 7919), true, `key ${k * 7919} kept`);
  for (let k = 500; k < 1000; k++) counts.remove(k * 7919);
  for (let k = 0; k < 1000; k++) assert.equal(counts.mayHave(k * 7919), false, `key ${k * 7919} removed`);
});

test('keys never added are mostly told absent (1,000 held in 2,048 buckets)', () => {
  const counts = new PresenceCounts(1000);
  for (let k = 0; k < 1000; k++) counts.add(-k);
  let present = 0;
  for (let k = 1; k <= 10_000; k++) if (counts.mayHave(0x4000_0000 + k)) present++;
  // A bucket holds a key with probability about 1 - e^(-1000/2048) = 0.39.
  assert.ok(present > 2_000 && present < 6_000, `${present} of 10,000 absent keys looked present`);
});

test('a bucket that saturates stays present, whatever is removed', () => {
  const counts = new PresenceCounts(1);
  for (let i = 0; i < 300; i++) counts.add(42);
  for (let i = 0; i < 300; i++) counts.remove(42);
  assert.equal(counts.mayHave(42), true);
});
