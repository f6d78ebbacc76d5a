import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatIPv4, formatIPv6, formatIPv6Bytes } from './format-address.js';

test('IPv4 dotted quad from an unsigned word', () => {
  assert.equal(formatIPv4(0xc0a8010b), '192.168.1.11');
  assert.equal(formatIPv4(0xffffffff), '255.255.255.255');
});

test('IPv6 per RFC 5952, as tshark writes it', () => {
  assert.equal(formatIPv6([0x20010db8, 0, 0, 1]), '2001:db8::1');
  assert.equal(formatIPv6([0, 0, 0, 1]), '::1');
  assert.equal(formatIPv6([0, 0, 0, 0]), '::');
  assert.equal(formatIPv6([0xfe800000, 0, 0x020c29ff, 0xfe9a0001]), 'fe80::20c:29ff:fe9a:1');
  // a single zero group is not compressed; the first of two equal runs is
  assert.equal(formatIPv6([0x20010db8, 0x00000001, 0x00010001, 0x00010001]), '2001:db8:0:1:1:1:1:1');
  assert.equal(formatIPv6([0x20010000, 0x00010000, 0x00000001, 0x00000001]), '2001:0:1::1:0:1');
  assert.equal(formatIPv6([0x20010000, 0, 0x00010000, 0]), '2001::1:0:0:0');
  assert.equal(formatIPv6([0, 0, 0xffff, 0xc0000201]), '::ffff:192.0.2.1');
  assert.equal(formatIPv6Bytes(Uint8Array.from([0x26, 0x07, 0xf0, 0xb0, 0, 0x0f, 0, 0, 0, 0, 0, 0, 0xba, 0xbe, 0xf0, 0x0d])), '2607:f0b0:f::babe:f00d');
});
