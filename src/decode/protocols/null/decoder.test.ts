import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dissectHex, ipv4, ipv6, weirdMap } from '../test-helpers.js';

// tshark -r corpus/mixed/pcpp__null_loopback.pcap -x, frame 2: LINKTYPE_NULL family 2 written little-endian
// (02 00 00 00), IPv4/UDP 172.16.1.117:55369 → 172.16.1.255:8612 (BJNP discovery, 16 bytes).
const NULL_V4 = `
0000  02 00 00 00 45 00 00 2c c1 69 00 00 40 11 5d c3   ....E..,.i..@.].
0010  ac 10 01 75 ac 10 01 ff d8 49 21 a4 00 18 17 ae   ...u.....I!.....
0020  42 4a 4e 42 02 01 00 00 00 00 00 00 00 00 00 00   BJNB............
`;

// Same file, frame 1 (first 80 of 479 bytes): family 30 (Darwin AF_INET6) little-endian, IPv6/TCP ::1 → ::1.
const NULL_V6 = `
0000  1e 00 00 00 60 00 00 00 01 b3 06 40 00 00 00 00   ....\`......@....
0010  00 00 00 00 00 00 00 00 00 00 00 01 00 00 00 00   ................
0020  00 00 00 00 00 00 00 00 00 00 00 01 c2 e0 00 51   ...............Q
0030  58 5d b6 86 61 6b e7 64 80 18 23 d7 01 bb 00 00   X]..ak.d..#.....
0040  01 01 08 0a af 0a 8d fe af 0a 8d fe 0a 20 20 20   .............   
`;

/** An IPv4 header 10.0.0.1 → 10.0.0.2, protocol 253, no payload. */
const IPV4_253 = '4500001400000000 40fd0000 0a000001 0a000002';
/** An IPv6 header ::1 → ::1, no next header, no payload. */
const IPV6_NONE = `6000000000003b40 ${'00'.repeat(15)}01 ${'00'.repeat(15)}01`;

test('NULL, little-endian family 2 → IPv4', () => {
  const { transports, weirds } = dissectHex(NULL_V4, { linkType: 0 });
  assert.equal(weirds.total(), 0);
  const t = transports[0];
  assert.equal(t.ipOffset, 4);
  assert.deepEqual([t.src[0], t.dst[0]], [ipv4('172.16.1.117'), ipv4('172.16.1.255')]);
  assert.equal(t.dstPort, 8612);
});

test('NULL, little-endian family 30 → IPv6', () => {
  const t = dissectHex(NULL_V6, { linkType: 0, wirelen: 479 }).transports[0];
  assert.equal(t.ipVersion, 6);
  assert.deepEqual(t.src, ipv6('::1'));
  assert.equal(t.srcPort, 49888);
  assert.equal(t.payloadLength, 4, 'the 4 captured of the 403 payload bytes');
  assert.equal(t.payloadWireLength, 403);
});

test('NULL in big-endian order, every IPv6 family, and an EtherType in the low half', () => {
  assert.equal(dissectHex(`00000002 ${IPV4_253}`, { linkType: 0 }).final.ipVersion, 4);
  for (const family of ['0000000a', '00000018', '0000001c', '0000001e', '0a000000', '18000000', '1c000000']) {
    assert.equal(dissectHex(`${family} ${IPV6_NONE}`, { linkType: 0 }).final.ipVersion, 6, family);
  }
  // As in corpus/mixed/pcpp__null_loopback.pcap frame 3, which tshark reads as IPv4: 0f 00 08 00.
  assert.equal(dissectHex(`0f000800 ${IPV4_253}`, { linkType: 0 }).final.ipVersion, 4);
});

test('LOOP is network byte order only', () => {
  assert.equal(dissectHex(`00000002 ${IPV4_253}`, { linkType: 108 }).final.ipVersion, 4);
  const swapped = dissectHex(`02000000 ${IPV4_253}`, { linkType: 108 });
  assert.equal(swapped.final.ipVersion, 0);
  assert.deepEqual(weirdMap(swapped.weirds), { null_unknown_family: 1 });
});

test('an unknown family: null_unknown_family; fewer than 4 bytes: null_analyzer_failed', () => {
  assert.deepEqual(weirdMap(dissectHex(`07000000 ${IPV4_253}`, { linkType: 0 }).weirds), { null_unknown_family: 1 });
  assert.deepEqual(weirdMap(dissectHex('020000', { linkType: 0 }).weirds), { null_analyzer_failed: 1 });
});
