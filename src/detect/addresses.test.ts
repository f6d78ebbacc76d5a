import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatIPv6 } from '../analyze/format-address.js';
import { AddressSet, hostKeyOf, hostKeyOfText, hostText, isGroupAddress, parseAddress, parseCidr } from './addresses.js';
import { SlidingCounter, WindowedSet, formatDuration, formatRate } from './windows.js';

test('host keys: IPv4 as a number, IPv6 as RFC 5952 text', () => {
  assert.equal(hostKeyOfText('10.0.0.5'), 0x0a000005);
  assert.equal(hostText(0x0a000005), '10.0.0.5');
  assert.equal(hostKeyOfText('2001:DB8:0:0:0:0:0:1'), '2001:db8::1');
  assert.equal(hostKeyOfText('::ffff:10.0.0.1'), '::ffff:10.0.0.1');
  assert.equal(hostKeyOfText('nope'), undefined);
});

test('CIDRs and address sets, IPv4 and IPv6', () => {
  assert.equal(parseCidr('10.1.2.3/8')?.words[0], 0x0a000000);
  assert.equal(parseCidr('10.0.0.0/33'), undefined);
  assert.equal(parseCidr('2001:db8::/129'), undefined);
  const set = AddressSet.of(['10.0.0.0/8', '192.168.1.7', '2001:db8::/32', 'fe80::1']);
  for (const yes of ['10.255.0.1', '192.168.1.7', '2001:db8:ffff::1', 'fe80::1']) assert.ok(set.containsText(yes), yes);
  for (const no of ['11.0.0.1', '192.168.1.8', '2001:db9::1', 'fe80::2']) assert.ok(!set.containsText(no), no);
  assert.ok(set.containsKey(0x0a010203));
  assert.ok(set.containsKey('2001:db8::5'));
  assert.throws(() => AddressSet.of(['10.0.0.0/8', 'ten']), /"ten" is not an IP address or CIDR/);
  const v4only = AddressSet.of(['0.0.0.0/0']);
  assert.ok(v4only.containsText('1.2.3.4'));
  assert.ok(!v4only.containsText('::1'));
});

test('group addresses: multicast, broadcast, unspecified', () => {
  const w = (t: string) => parseAddress(t)!;
  for (const g of ['224.0.0.251', '239.255.255.250', '255.255.255.255', '10.0.0.255', '0.0.0.0', 'ff02::1', '::']) assert.ok(isGroupAddress(w(g).version, w(g).words), g);
  for (const u of ['10.0.0.1', '8.8.8.8', '2001:db8::1']) assert.ok(!isGroupAddress(w(u).version, w(u).words), u);
});

test('WindowedSet keeps distinct items by last sighting; SlidingCounter estimates a sliding count', () => {
  const s = new WindowedSet<number>();
  s.add(1, 10);
  s.add(2, 11);
  s.add(1, 12);
  assert.equal(s.oldest(), 11);
  s.prune(11.5);
  assert.deepEqual([...s.keys()], [1]);
  const c = new SlidingCounter(2);
  for (let i = 0; i < 100; i++) c.add(100 + i * 0.01); // 100 events in [100, 101)
  assert.equal(c.value(101), 100);
  // [100.5, 102.5] overlaps three quarters of the previous window [100, 102): its count weighs 0.75.
  assert.equal(c.value(102.5), 75);
  assert.equal(c.value(105), 0);
});

test('durations and rates for messages', () => {
  assert.equal(formatDuration(3.04), '3 s');
  assert.equal(formatDuration(0.33), '330 ms');
  assert.equal(formatDuration(0.014), '14 ms');
  assert.equal(formatDuration(1.44), '1.4 s');
  assert.equal(formatDuration(95), '95 s');
  assert.equal(formatDuration(600), '10 min');
  assert.equal(formatRate(48_200_000), '48.2 MB/s');
  assert.equal(formatRate(950), '950 B/s');
});

test('IPv6 keys from words are their RFC 5952 texts, remembered or not (thousands of addresses, asked twice, at an offset too)', () => {
  const words = new Uint32Array(8);
  for (let round = 0; round < 2; round++) {
    for (let i = 0; i < 3000; i++) {
      words.set([0x20010db8, i >>> 7, 0, (i * 2654435761) >>> 0], round * 4);
      const expected = formatIPv6(words.subarray(round * 4, round * 4 + 4));
      assert.equal(hostKeyOf(6, words, round * 4), expected);
      assert.equal(hostKeyOf(6, words, round * 4), expected);
    }
  }
  assert.equal(hostKeyOf(6, Uint32Array.of(0x20010db8, 0, 0, 1)), '2001:db8::1');
  assert.equal(hostKeyOf(6, Uint32Array.of(0x20010db8, 0, 0, 2)), '2001:db8::2');
});
