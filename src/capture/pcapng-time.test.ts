import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clockFor, pcapngSeconds } from './pcapng-time.js';
import { xorshift32 } from '../test-support/random.js';

/** The oracle: exact integer division with BigInt, rounded once at the end (what pcapngSeconds promises). */
function oracle(hi: number, lo: number, divisor: number): number {
  const t = (BigInt(hi) << 32n) | BigInt(lo);
  const d = BigInt(divisor);
  return Number(t / d) + Number(t % d) / divisor;
}

const rng = xorshift32;

test('decimal resolutions: 16-bit long division matches exact BigInt division', () => {
  const next = rng(20240611);
  for (let exp = 0; exp <= 11; exp++) {
    const clock = clockFor(exp, 0);
    for (let i = 0; i < 2000; i++) {
      const hi = next();
      const lo = next();
      assert.equal(pcapngSeconds(hi, lo, clock), oracle(hi, lo, 10 ** exp), `10^-${exp} hi=${hi} lo=${lo}`);
    }
  }
});

test('counts one unit short of a whole second stay below it (no rounding up inside the division)', () => {
  // t = k * 10^9 - 1 ns: the seconds must be k - 1 plus .999999999; the final float may round to k only when
  // k is so large that one ns is below half its ulp, which the oracle shows too.
  for (const k of [1, 2, 1000, 1700000000, 4294967296, 18446744073]) {
    const t = BigInt(k) * 1000000000n - 1n;
    const hi = Number(t >> 32n);
    const lo = Number(t & 0xffffffffn);
    assert.equal(pcapngSeconds(hi, lo, clockFor(9, 0)), oracle(hi, lo, 1e9), `k=${k}`);
  }
  assert.equal(pcapngSeconds(0, 999999999, clockFor(9, 0)), 0.999999999);
});

test('binary resolutions 2^-n and an offset', () => {
  // 2^-3: 8005 units = 1000.625 s; 2^-32 (high word = whole seconds): 5 s + 2^31/2^32 = 5.5 s.
  assert.equal(pcapngSeconds(0, 8005, clockFor(0x83, 0)), 1000.625);
  assert.equal(pcapngSeconds(5, 0x80000000, clockFor(0xa0, 0)), 5.5);
  assert.equal(pcapngSeconds(0, 1000000, clockFor(6, -100)), -99);
  assert.equal(pcapngSeconds(0, 1000000, clockFor(6, 1600000000)), 1600000001);
});

test('the default microsecond resolution with the largest count does not throw', () => {
  const s = pcapngSeconds(0xffffffff, 0xffffffff, clockFor(6, 0));
  assert.ok(Math.abs(s - 18446744073709.551615) < 2 ** -7);
});
