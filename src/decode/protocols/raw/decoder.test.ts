import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dissectHex, ipv4, ipv6, weirdMap } from '../test-helpers.js';

// tshark -r corpus/mixed/tcpdump__LINKTYPE_RAW_ipv4.pcap -x, frame 1 (also the bytes of LINKTYPE_IPV4.pcap):
// IPv4/UDP 192.168.1.100:12345 → 9.9.9.9:53, a query for example.com.
const RAW_V4 = `
0000  45 00 00 39 00 01 00 00 40 11 a6 95 c0 a8 01 64   E..9....@......d
0010  09 09 09 09 30 39 00 35 00 25 19 76 12 34 01 00   ....09.5.%.v.4..
0020  00 01 00 00 00 00 00 00 07 65 78 61 6d 70 6c 65   .........example
0030  03 63 6f 6d 00 00 01 00 01                        .com.....
`;

// tshark -r corpus/ipv6/tcpdump__LINKTYPE_RAW_ipv6.pcap -x, frame 1: IPv6/UDP 2001:db8::1:12345 → 2620:fe::9:53.
const RAW_V6 = `
0000  60 00 00 00 00 25 11 40 20 01 0d b8 00 00 00 00   \`....%.@ .......
0010  00 00 00 00 00 00 00 01 26 20 00 fe 00 00 00 00   ........& ......
0020  00 00 00 00 00 00 00 09 30 39 00 35 00 25 98 b3   ........09.5.%..
0030  12 34 01 00 00 01 00 00 00 00 00 00 07 65 78 61   .4...........exa
0040  6d 70 6c 65 03 63 6f 6d 00 00 01 00 01            mple.com.....
`;

test('raw IP link types: the version nibble decides (101, 12, 14)', () => {
  for (const linkType of [101, 12, 14]) {
    const v4 = dissectHex(RAW_V4, { linkType }).transports[0];
    assert.equal(v4.ipOffset, 0);
    assert.deepEqual([v4.src[0], v4.dst[0]], [ipv4('192.168.1.100'), ipv4('9.9.9.9')]);
    assert.equal(v4.macOffset, -1);
    const v6 = dissectHex(RAW_V6, { linkType }).transports[0];
    assert.deepEqual(v6.dst, ipv6('2620:fe::9'));
    assert.equal(v6.dstPort, 53);
  }
});

test('LINKTYPE_IPV4 and LINKTYPE_IPV6 say the version; a mismatch is the IP decoder\'s weird', () => {
  assert.equal(dissectHex(RAW_V4, { linkType: 228 }).transports[0].ipVersion, 4);
  assert.equal(dissectHex(RAW_V6, { linkType: 229 }).transports[0].ipVersion, 6);
  // As corpus/malformed/tcpdump__LINKTYPE_IPV4_invalid.pcap: IPv6 bytes under LINKTYPE_IPV4.
  assert.deepEqual(weirdMap(dissectHex(RAW_V6, { linkType: 228 }).weirds), { unknown_ip_version: 1 });
});

test('raw frames that are empty or not IP: truncated_IP, unknown_ip_version', () => {
  assert.deepEqual(weirdMap(dissectHex('', { linkType: 101 }).weirds), { truncated_IP: 1 });
  assert.deepEqual(weirdMap(dissectHex('5500', { linkType: 101 }).weirds), { unknown_ip_version: 1 });
});
