import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dissectFrame, dissectHex, ipv4, parseHex, weirdMap } from '../test-helpers.js';

// tshark -r corpus/tcp/zeek__tcp-syn-synack.pcap -x, frame 1: Ethernet, IPv4 (header 20, total 64, TTL 64,
// DF, id 0xdf8e) 141.142.228.5 → 192.150.187.43, TCP SYN 59856 → 80 with 24 bytes of options.
const SYN = `
0000  00 10 db 88 d2 ef c8 bc c8 96 d2 a0 08 00 45 00   ..............E.
0010  00 40 df 8e 40 00 40 06 6d d3 8d 8e e4 05 c0 96   .@..@.@.m.......
0020  bb 2b e9 d0 00 50 fe 21 32 3a 00 00 00 00 b0 02   .+...P.!2:......
0030  ff ff 3b c0 00 00 02 04 05 b4 01 03 03 04 01 01   ..;.............
0040  08 0a 16 4a dd 20 00 00 00 00 04 02 00 00         ...J. ........
`;

// tshark -r corpus/mixed/pcpp__ipv4-options.pcap -x, frame 1: IPv4 with a 44-byte header (IHL 11: 24 bytes
// of options, a CIPSO option first), total length 108, carrying an ICMP echo reply 127.0.0.1 → 127.0.0.1.
const WITH_OPTIONS = `
0000  00 00 00 00 00 00 00 00 00 00 00 00 08 00 4b 00   ..............K.
0010  00 6c 78 37 00 00 40 01 75 2d 7f 00 00 01 7f 00   .lx7..@.u-......
0020  00 01 86 16 00 00 00 02 02 10 00 02 00 00 00 02   ................
0030  00 04 00 05 00 06 00 ef 00 00 00 00 29 50 8c 0a   ............)P..
0040  00 01 92 4d ae 45 13 0e 0c 00 08 09 0a 0b 0c 0d   ...M.E..........
0050  0e 0f 10 11 12 13 14 15 16 17 18 19 1a 1b 1c 1d   ................
0060  1e 1f 20 21 22 23 24 25 26 27 28 29 2a 2b 2c 2d   .. !"#$%&'()*+,-
0070  2e 2f 30 31 32 33 34 35 36 37                     ./01234567
`;

// tshark -r corpus/mixed/zeek__ipv4-fragmented-1.pcap -x, frame 1: the first fragment (MF set, offset 0) of a
// UDP datagram 164.1.123.163:123 → 164.1.123.61:137; total length 38; 22 bytes of Ethernet padding follow.
const FIRST_FRAGMENT = `
0000  00 60 97 12 2f 58 00 20 af ba 78 65 08 00 45 00   .\`../X. ..xe..E.
0010  00 26 00 f2 20 00 40 11 1a f2 a4 01 7b a3 a4 01   .&.. .@.....{...
0020  7b 3d 00 7b 00 89 00 12 bf e2 00 00 00 00 00 00   {=.{............
0030  00 00 00 00 00 00 00 00 00 00 00 00               ............
`;

// Same file, frame 2 (first 48 bytes, enough for the headers): the last fragment, offset 6 × 8 = 48, MF clear,
// total length 136. Its first bytes look like a UDP header but are datagram bytes 48.., never a header.
const LATER_FRAGMENT = `
0000  00 60 97 12 2f 58 00 20 af ba 78 65 08 00 45 00   .\`../X. ..xe..E.
0010  00 88 00 f2 00 06 40 11 3a 8a a4 01 7b a3 a4 01   ......@.:...{...
0020  7b 3d 00 7b 00 89 00 74 bf 1e 00 00 00 00 00 00   {=.{...t........
`;

test('IPv4 header fields of a plain TCP packet', () => {
  const { transports, weirds } = dissectHex(SYN);
  const t = transports[0];
  assert.equal(t.etherType, 0x0800);
  assert.equal(t.ipVersion, 4);
  assert.equal(t.ipOffset, 14);
  assert.equal(t.ipHeaderLength, 20);
  assert.equal(t.ipLength, 64);
  assert.equal(t.ttl, 64);
  assert.equal(t.ipProto, 6);
  assert.deepEqual(t.src, [ipv4('141.142.228.5'), 0, 0, 0]);
  assert.deepEqual(t.dst, [ipv4('192.150.187.43'), 0, 0, 0]);
  assert.equal(t.isFragment, false, 'DF alone is not a fragment');
  assert.equal(t.fragOffset, 0);
  assert.equal(t.moreFragments, false);
  assert.equal(t.tunnelDepth, 0);
  assert.equal(weirds.total(), 0);
});

test('options are skipped by the header length', () => {
  const t = dissectHex(WITH_OPTIONS).transports[0];
  assert.equal(t.ipHeaderLength, 44);
  assert.equal(t.ipLength, 108);
  assert.equal(t.transport, 1);
  assert.equal(t.payloadOffset, 14 + 44 + 8);
  assert.equal(t.payloadLength, 108 - 44 - 8);
});

test('a first fragment hands off to the transport and is marked', () => {
  const { transports, weirds } = dissectHex(FIRST_FRAGMENT);
  assert.equal(transports.length, 1);
  const t = transports[0];
  assert.equal(t.isFragment, true);
  assert.equal(t.moreFragments, true);
  assert.equal(t.fragOffset, 0);
  assert.equal(t.ipLength, 38);
  assert.equal(t.srcPort, 123);
  assert.equal(t.dstPort, 137);
  assert.equal(t.payloadLength, 10, 'bounded by the IP length, not the 60-byte frame');
  assert.equal(weirds.total(), 0);
});

test('a later fragment stops at IP: no transport, offset in bytes', () => {
  const { transports, final, weirds } = dissectHex(LATER_FRAGMENT, { wirelen: 150 });
  assert.equal(transports.length, 0);
  assert.equal(final.isFragment, true);
  assert.equal(final.moreFragments, false);
  assert.equal(final.fragOffset, 48);
  assert.equal(final.ipProto, 17);
  assert.equal(final.transport, 0);
  assert.equal(weirds.total(), 0, 'a snaplen cut is not truncation');
});

test('total length 0 (TCP segmentation offload) takes the length from the frame', () => {
  const frame = parseHex(SYN);
  frame.writeUInt16BE(0, 14 + 2);
  const { transports, weirds } = dissectFrame(frame);
  assert.equal(transports[0].ipLength, frame.length - 14);
  assert.equal(transports[0].payloadLength, 0);
  assert.equal(weirds.total(), 0);
});

test('total length past the frame: truncated_IP_len, but what is there is still decoded', () => {
  const frame = parseHex(SYN);
  frame.writeUInt16BE(100, 14 + 2); // 100 bytes claimed, 64 sent
  const { transports, weirds } = dissectFrame(frame);
  assert.deepEqual(weirdMap(weirds), { truncated_IP_len: 1 });
  assert.equal(transports.length, 1);
  assert.equal(transports[0].payloadLength, 0);
  assert.equal(transports[0].payloadWireLength, 100 - 20 - 44);
});

test('malformed IPv4 headers are named weirds and stop decoding', () => {
  const cases: Array<[string, (f: Buffer) => Buffer, string]> = [
    ['version 5', (f) => ((f[14] = 0x55), f), 'unknown_ip_version'],
    ['IHL 4 (16 bytes)', (f) => ((f[14] = 0x44), f), 'IPv4_min_header_size'],
    ['19 bytes of header captured', (f) => f.subarray(0, 14 + 19), 'truncated_IP'],
    ['IHL 15 (60 bytes) in a 50-byte packet', (f) => ((f[14] = 0x4f), f.subarray(0, 14 + 50)), 'internally_truncated_header'],
    ['total length 19 < header 20', (f) => (f.writeUInt16BE(19, 16), f), 'invalid_IP_header_size'],
  ];
  for (const [what, patch, weird] of cases) {
    const { transports, weirds } = dissectFrame(patch(parseHex(SYN)));
    assert.equal(transports.length, 0, what);
    assert.deepEqual(weirdMap(weirds), { [weird]: 1 }, what);
  }
});
