/**
 * isIPv4Text, isIPv6Text and isAddressText say exactly what node:net's isIPv4, isIPv6 and isIP say, over
 * hand-picked edge cases and a few hundred thousand random strings made of the characters an address (or a
 * DNS answer) holds, and random well-formed IPv6 addresses bent one character at a time.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isIP, isIPv4, isIPv6 } from 'node:net';
import { randomFractions } from '../test-support/random.js';
import { isAddressText, isIPv4Text, isIPv6Text, parseAddress } from './parse-address.js';

const EDGES = [
  '0.0.0.0', '255.255.255.255', '256.1.1.1', '1.2.3', '1.2.3.4.5', '01.2.3.4', '1.2.3.04', '1.2.3.0', '10.0.0.1',
  '1..2.3', '.1.2.3', '1.2.3.', '', '.', '...', '1.2.3.4 ', ' 1.2.3.4', '1.2.3.-4', '1e1.2.3.4', '١.٢.٣.٤',
  '199.255.255.249', '249.250.251.252', '300.300.300.300', '1234.1.1.1', '2001:db8::1', '::', '::ffff:1.2.3.4',
  'fe80::1%eth0', 'example.com', 'v=spf1 ip6:2001:db8::/32', 'a:b', '12:34',
  ':', ':::', '::1', '1::', '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7::', '::2:3:4:5:6:7:8', '1:2:3:4::5:6:7:8',
  '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:7:1.2.3.4', '1::2:3:4:5:6:1.2.3.4', '::1.2.3.4',
  '1::1.2.3.4', '::ffff:01.2.3.4', '::1.2.3.4:5', '12345::', 'ABCD:ef01::', 'fe80::1%', 'fe80::1%a%b',
  'fe80::1%e-t.h:0', 'fe80::1%eth 0', '::%eth0', '1:2', '1:2:', ':1:2::', '1::2::3', 'g::1', '::1 ', '1.2.3.4',
];

test('isIPv4Text and isAddressText agree with node:net on edge cases', () => {
  for (const s of EDGES) {
    assert.equal(isIPv4Text(s), isIPv4(s), JSON.stringify(s));
    assert.equal(isIPv6Text(s), isIPv6(s), JSON.stringify(s));
    assert.equal(isAddressText(s), isIP(s) !== 0, JSON.stringify(s));
  }
});

/** 300,000 random strings of 1 to `maxLength` characters of `alphabet`: ours and node:net's say the same of each. */
function agreeOnRandomStrings(seed: number, alphabet: string, maxLength: number, ours: (s: string) => boolean, nodes: (s: string) => boolean): void {
  const random = randomFractions(seed);
  for (let n = 0; n < 300_000; n++) {
    let s = '';
    const length = 1 + Math.floor(random() * maxLength);
    for (let i = 0; i < length; i++) s += alphabet[Math.floor(random() * alphabet.length)];
    assert.equal(ours(s), nodes(s), JSON.stringify(s));
  }
}

test('isIPv4Text agrees with node:net on random strings of digits and dots', () => {
  agreeOnRandomStrings(11, '0123456789.....:a', 17, isIPv4Text, isIPv4);
});

test('isIPv6Text agrees with node:net on random strings of hex digits, colons, dots and zones', () => {
  agreeOnRandomStrings(12, '0123456789abcdefABCDEF::::::...%g', 24, isIPv6Text, isIPv6);
});

test('isIPv6Text agrees with node:net on well-formed addresses and on each bent by one character', () => {
  const random = randomFractions(13);
  const pick = (n: number) => Math.floor(random() * n);
  const group = () => (pick(0x10000) >>> (4 * pick(4))).toString(16);
  for (let n = 0; n < 20_000; n++) {
    const v4 = pick(3) === 0;
    const groups = Array.from({ length: v4 ? 6 : 8 }, group);
    if (v4) groups.push([pick(256), pick(256), pick(256), pick(256)].join('.'));
    let text = groups.join(':');
    if (pick(2) === 0) {
      const from = pick(groups.length);
      const to = from + 1 + pick(groups.length - from);
      text = `${groups.slice(0, from).join(':')}::${groups.slice(to).join(':')}`;
    }
    if (pick(4) === 0) text += '%eth0';
    assert.equal(isIPv6Text(text), isIPv6(text), JSON.stringify(text));
    const at = pick(text.length + 1);
    const bent = text.slice(0, at) + ':.%0fg'[pick(6)] + text.slice(at + pick(2));
    assert.equal(isIPv6Text(bent), isIPv6(bent), JSON.stringify(bent));
  }
});

test('parseAddress still reads both versions', () => {
  assert.equal(parseAddress('192.0.2.1')?.words[0], 0xc0000201);
  assert.equal(parseAddress('2001:db8::1')?.version, 6);
  assert.equal(parseAddress('192.0.2.256'), undefined);
});
