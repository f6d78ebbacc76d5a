import { test } from 'node:test';
import assert from 'node:assert/strict';
import { idSeedFrom, randomIdSeed, setIdSeed, uidFor } from './uid.js';

/** The derivation, one character at a time, with a seed's digits added: what uidFor must give. */
function plainUid(serial: number, seedDigits: readonly number[], stream = 0x9e3779b9): string {
  const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
  const mix32 = (x: number) => {
    x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
    x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
    return (x ^ (x >>> 16)) >>> 0;
  };
  let a = mix32((serial >>> 0) ^ stream);
  let b = mix32(((serial / 4294967296) >>> 0) ^ a ^ 0x85ebca6b);
  let out = 'C';
  for (let i = 0; i < 17; i++) {
    out += BASE62[((a >>> 0) % 62 + seedDigits[i]) % 62];
    a = Math.floor((a >>> 0) / 62) + (b & 0x3f) * 69273666;
    b = mix32(b + i);
  }
  return out;
}

test('uidFor gives the plain derivation shifted by the seed, whatever the seed', () => {
  for (const seed of [idSeedFrom(0), idSeedFrom(7), randomIdSeed()]) {
    setIdSeed(seed);
    for (const serial of [1, 2, 62, 1000, 2 ** 32 + 5, 2 ** 40]) {
      assert.equal(uidFor(serial), plainUid(serial, seed));
      assert.equal(uidFor(serial, 7), plainUid(serial, seed, 7));
    }
    assert.match(uidFor(3), /^C[0-9A-Za-z]{17}$/);
  }
});

test('seed 0 adds nothing; other seeds are repeatable and differ from each other', () => {
  assert.deepEqual(idSeedFrom(0), new Array(17).fill(0));
  assert.deepEqual(idSeedFrom(12345), idSeedFrom(12345));
  const seen = new Set([0, 1, 2, 3, 2 ** 32, 2 ** 53 - 1].map((n) => idSeedFrom(n).join(',')));
  assert.equal(seen.size, 6);
});

test('random seeds are 17 base62 digits (about 101 bits) and do not repeat', () => {
  const seeds = Array.from({ length: 1000 }, () => randomIdSeed());
  assert.ok(seeds.every((s) => s.length === 17 && s.every((d) => Number.isInteger(d) && d >= 0 && d < 62)));
  assert.equal(new Set(seeds.map((s) => s.join(','))).size, seeds.length);
});
