/**
 * isIPv4Text and isAddressText say exactly what node:net's isIPv4 and isIP say, over hand-picked edge cases
 * and a few hundred thousand random strings made of the characters an address (or a DNS answer) holds.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isIP, isIPv4 } from 'node:net';
import { randomFractions } from '../test-support/random.js';
import { isAddressText, isIPv4Text, parseAddress } from './parse-address.js';

const EDGES = [
  '0.0.0.0', '255.255.255.255', '256.1.1.1', '1.2.3', '1.2.3.4.5', '01.2.3.4', '1.2.3.04', '1.2.3.0', '10.0.0.1',
  '1..2.3', '.1.2.3', '1.2.3.', '', '.', '...', '1.2.3.4 ', ' 1.2.3.4', '1.2.3.-4', '1e1.2.3.4', '١.٢.٣.٤',
  '199.255.255.249', '249.250.251.252', '300.300.300.300', '1234.1.1.1', '2001:db8::1', '::', '::ffff:1.2.3.4',
  'fe80::1%eth0', 'example.com', 'v=spf1 ip6:2001:db8::/32', 'a:b', '12:34',
];

test('isIPv4Text and isAddressText agree with node:net on edge cases', () => {
  for (const s of EDGES) {
    assert.equal(isIPv4Text(s), isIPv4(s), JSON.stringify(s));
    assert.equal(isAddressText(s), isIP(s) !== 0, JSON.stringify(s));
  }
});

test('isIPv4Text agrees with node:net on random strings of digits and dots', () => {
  const random = randomFractions(11);
  const alphabet = '0123456789.....:a';
  for (let n = 0; n < 300_000; n++) {
    let s = '';
    const length = 1 + Math.floor(random() * 17);
    for (let i = 0; i < length; i++) s += alphabet[Math.floor(random() * alphabet.length)];
    assert.equal(isIPv4Text(s), isIPv4(s), JSON.stringify(s));
  }
});

test('parseAddress still reads both versions', () => {
  assert.equal(parseAddress('192.0.2.1')?.words[0], 0xc0000201);
  assert.equal(parseAddress('2001:db8::1')?.version, 6);
  assert.equal(parseAddress('192.0.2.256'), undefined);
});
