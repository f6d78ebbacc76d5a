/**
 * The byte writers against JSON.stringify itself (the oracle: the NDJSON output must not change by a byte).
 * Numbers: the kinds a record holds (capture times to the microsecond, durations, counters) plus the edges
 * of each fast path, and pseudo-random values from a fixed seed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_NUMBER_TEXT, putJsonString, putNumber } from './json-bytes.js';
import { randomFractions } from '../../test-support/random.js';

const buf = Buffer.alloc(256);

function numberText(x: number): string {
  const end = putNumber(buf, 0, x);
  assert.ok(end <= MAX_NUMBER_TEXT, `${x} took ${end} bytes`);
  return buf.toString('latin1', 0, end);
}

function stringText(s: string): string {
  return buf.toString('utf8', 0, putJsonString(buf, 0, s));
}

const random = randomFractions;

test('putNumber writes the edges of its fast paths as JSON.stringify does', () => {
  const edges = [
    0, -0, 1, 9, 10, 99, 100, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1, 2 ** 53, 2 ** 53 + 2, 1e21, 1e22,
    -1, -(2 ** 31), -0.5, 1e-6, 1e-7, 9.99e-7, 0.000001, 0.0000015, 0.1, 0.5, 0.999999, 0.9999995, 1.5, 1718000000.122927,
    1718000000.1, 1718000000.000001, 4294967295.999999, 4294967295.9999995, 4294967296.5, 2 ** 31 + 0.25,
    NaN, Infinity, -Infinity, Number.MIN_VALUE, Number.MAX_VALUE, -Number.MAX_VALUE, 1 / 3, 2 / 3, Math.PI * 1e9,
  ];
  for (const x of edges) assert.equal(numberText(x), JSON.stringify(x), `value ${x}`);
});

test('putNumber writes capture times, durations and counters as JSON.stringify does (seeded values)', () => {
  const next = random(0x5eed);
  for (let i = 0; i < 20_000; i++) {
    const sec = Math.floor(next() * 4294967296);
    const us = Math.floor(next() * 1e6);
    const ns = Math.floor(next() * 1e9);
    const values = [
      sec + us / 1e6, // a pcap µs timestamp, as the reader computes it
      sec + ns / 1e9, // a pcap ns timestamp
      Math.round((sec + us / 1e6 - (sec - Math.floor(next() * 100))) * 1e6) / 1e6, // round6(duration)
      (sec + us / 1e6) - (sec + Math.floor(next() * 1e6) / 1e6), // a raw difference of two times
      us / 1e6,
      Math.floor(next() * 2 ** 53),
      Math.floor(next() * 1e6),
      next() * 10 ** (next() * 40 - 20),
      -next() * 1e9,
    ];
    for (const x of values) assert.equal(numberText(x), JSON.stringify(x), `value ${x}`);
  }
});

test('putJsonString copies plain ASCII and escapes the rest as JSON.stringify does', () => {
  const cases = ['', 'dns', 'ssl,http', 'a"b', 'back\\slash', 'tab\there', 'nl\n', '\u0000\u001f\u007f', 'café', '日本', '😀', '\ud800', 'x\udc00y', '</script>'];
  for (const s of cases) assert.equal(stringText(s), JSON.stringify(s), `string ${JSON.stringify(s)}`);
});
