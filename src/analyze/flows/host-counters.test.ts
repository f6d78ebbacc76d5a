/** HostCounters against a Map model: exact under its capacity; past it, Space-Saving's guarantees. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HostCounters } from './host-counters.js';
import { xorshift32 } from '../../test-support/random.js';

const v4 = (n: number) => Uint32Array.of(n >>> 0, 0, 0, 0);

const random = xorshift32;

test('under its capacity every host is counted exactly, IPv4 and IPv6 apart, with its text', () => {
  const t = new HostCounters(4096);
  const model = new Map<string, number>();
  const next = random(3);
  for (let i = 0; i < 20_000; i++) {
    const host = next() % 3000;
    const six = host % 7 === 0;
    const words = six ? Uint32Array.of(0x20010db8, 0, host, 1) : v4(0x0a000000 + host);
    const bytes = 1 + (next() % 1500);
    t.add(six ? 6 : 4, words, 0, bytes, 1, 0, host < 10);
    const key = `${six ? 6 : 4}/${host}`;
    model.set(key, (model.get(key) ?? 0) + bytes);
  }
  assert.equal(t.size, model.size);
  assert.equal(t.replaced, 0);
  for (let slot = 0; slot < t.size; slot++) {
    const w = t.addressOf(slot, new Uint32Array(4));
    const six = t.versionOf(slot) === 6;
    const host = six ? w[2] : w[0] - 0x0a000000;
    assert.equal(t.bytes[slot], model.get(`${six ? 6 : 4}/${host}`));
    assert.equal(t.local[slot], host < 10 ? 1 : 0);
    assert.equal(t.slotOf(t.versionOf(slot), w), slot);
    if (!six) assert.equal(t.textOf(slot), `10.0.${host >> 8}.${host & 255}`);
  }
  assert.equal(t.textOf(t.slotOf(6, Uint32Array.of(0x20010db8, 0, 7, 1))), '2001:db8::7:0:1');
  assert.equal(t.slotOf(4, v4(0x0b000000)), -1);
});

test('a flood of one-off hosts past the capacity keeps the heavy hitters, never undercounting them', () => {
  const capacity = 1000;
  const t = new HostCounters(capacity);
  const truth = new Map<number, number>();
  const next = random(11);
  let total = 0;
  for (let i = 0; i < 200_000; i++) {
    // Ten real talkers among 200k spoofed one-packet sources.
    const heavy = i % 20 === 0;
    const host = heavy ? 0x0a000001 + (i % 200) / 20 : 0x50000000 + next();
    const bytes = heavy ? 1500 : 40;
    t.add(4, v4(host), 0, bytes, 1, 0, heavy);
    truth.set(host | 0, (truth.get(host | 0) ?? 0) + bytes);
    total += bytes;
  }
  assert.equal(t.size, capacity);
  assert.ok(t.replaced > 180_000, `${t.replaced} replaced`);
  const bound = total / capacity;
  for (let h = 0; h < 10; h++) {
    const slot = t.slotOf(4, v4(0x0a000001 + h));
    assert.ok(slot >= 0, `talker ${h} kept`);
    const exact = truth.get((0x0a000001 + h) | 0)!;
    assert.ok(t.bytes[slot] >= exact && t.bytes[slot] <= exact + bound, `talker ${h}: ${t.bytes[slot]} vs ${exact}`);
  }
  // Every host the table holds can be found, and no two slots hold the same host.
  const seen = new Set<number>();
  for (let slot = 0; slot < t.size; slot++) {
    const w = t.addressOf(slot, new Uint32Array(4));
    assert.equal(t.slotOf(4, w), slot);
    assert.ok(!seen.has(w[0]));
    seen.add(w[0]);
  }
});

test('clear starts a new interval with nothing in it', () => {
  const t = new HostCounters(8);
  for (let i = 0; i < 20; i++) t.add(4, v4(i), 0, i, 1, 1, false);
  assert.ok(t.replaced > 0);
  t.clear();
  assert.equal(t.size, 0);
  assert.equal(t.replaced, 0);
  assert.equal(t.slotOf(4, v4(19)), -1);
  t.add(4, v4(5), 0, 10, 2, 1, true);
  assert.equal(t.size, 1);
  assert.deepEqual([t.bytes[0], t.packets[0], t.flows[0], t.local[0]], [10, 2, 1, 1]);
});
