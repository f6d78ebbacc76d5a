import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dissectFrame, dissectHex, ipv4, ipv6, parseHex, weirdMap } from '../test-helpers.js';

// tshark -r corpus/ipv6/zeek__icmp-icmp6-ping.pcap -x, frame 1: ICMPv6 echo request (type 128) id 1 seq 3,
// 2620:0:e00:400e:d1d:db37:beb:5aac → 2001:4860:8006::63, payload length 40 (8 header + 32 data "abcd...").
const ECHO6 = `
0000  b0 c6 9a da 32 80 00 23 ae a0 0b 33 86 dd 60 00   ....2..#...3..\`.
0010  00 00 00 28 3a 80 26 20 00 00 0e 00 40 0e 0d 1d   ...(:.& ....@...
0020  db 37 0b eb 5a ac 20 01 48 60 80 06 00 00 00 00   .7..Z. .H\`......
0030  00 00 00 00 00 63 80 00 29 10 00 01 00 03 61 62   .....c..).....ab
0040  63 64 65 66 67 68 69 6a 6b 6c 6d 6e 6f 70 71 72   cdefghijklmnopqr
0050  73 74 75 76 77 61 62 63 64 65 66 67 68 69         stuvwabcdefghi
`;

// tshark -r corpus/mixed/pcpp__ipv4-options.pcap -x, frame 1: ICMP echo reply (type 0) 127.0.0.1 → 127.0.0.1
// behind a 44-byte IPv4 header; total length 108.
const ECHO4_REPLY = `
0000  00 00 00 00 00 00 00 00 00 00 00 00 08 00 4b 00   ..............K.
0010  00 6c 78 37 00 00 40 01 75 2d 7f 00 00 01 7f 00   .lx7..@.u-......
0020  00 01 86 16 00 00 00 02 02 10 00 02 00 00 00 02   ................
0030  00 04 00 05 00 06 00 ef 00 00 00 00 29 50 8c 0a   ............)P..
0040  00 01 92 4d ae 45 13 0e 0c 00 08 09 0a 0b 0c 0d   ...M.E..........
0050  0e 0f 10 11 12 13 14 15 16 17 18 19 1a 1b 1c 1d   ................
0060  1e 1f 20 21 22 23 24 25 26 27 28 29 2a 2b 2c 2d   .. !"#$%&'()*+,-
0070  2e 2f 30 31 32 33 34 35 36 37                     ./01234567
`;

// tshark -r corpus/ipv6/zeek__icmp-icmp6-destunreach-ip6ext-udp.pcap -x, frame 1: ICMPv6 destination
// unreachable (type 1, code 0) fe80::dead → fe80::beef quoting an IPv6 packet fe80::beef → fe80::dead with a
// hop-by-hop header and UDP 30000 → 13000 inside.
const DEST_UNREACH6 = `
0000  ff ff ff ff ff ff 00 00 00 00 00 00 86 dd 60 00   ..............\`.
0010  00 00 00 44 3a 40 fe 80 00 00 00 00 00 00 00 00   ...D:@..........
0020  00 00 00 00 de ad fe 80 00 00 00 00 00 00 00 00   ................
0030  00 00 00 00 be ef 01 00 f1 a6 00 00 00 00 60 00   ..............\`.
0040  00 00 00 14 00 40 fe 80 00 00 00 00 00 00 00 00   .....@..........
0050  00 00 00 00 be ef fe 80 00 00 00 00 00 00 00 00   ................
0060  00 00 00 00 de ad 11 00 01 04 00 00 00 00 75 30   ..............u0
0070  32 c8 00 0c 0c 8e 58 58 58 58                     2.....XXXX
`;

// tshark -r corpus/ipv6/pcpp__IcmpV6_NeighAdvSoli.pcap -x, frame 1: a neighbour solicitation (type 135) from ::
// to ff02::1:fff5:0; neighbour discovery is plain ICMPv6.
const NEIGHBOUR_SOLICITATION = `
0000  33 33 ff f5 00 00 c2 00 54 f5 00 00 86 dd 6e 00   33......T.....n.
0010  00 00 00 18 3a ff 00 00 00 00 00 00 00 00 00 00   ....:...........
0020  00 00 00 00 00 00 ff 02 00 00 00 00 00 00 00 00   ................
0030  00 01 ff f5 00 00 87 00 67 3c 00 00 00 00 fe 80   ........g<......
0040  00 00 00 00 00 00 c0 00 54 ff fe f5 00 00         ........T.....
`;

test('ICMPv6 echo request: type, code, payload after the 8-byte header', () => {
  const { transports, weirds } = dissectHex(ECHO6);
  assert.equal(transports.length, 1);
  const t = transports[0];
  assert.equal(t.transport, 58);
  assert.equal(t.icmpType, 128);
  assert.equal(t.icmpCode, 0);
  assert.equal(t.srcPort, 0);
  assert.equal(t.dstPort, 0);
  assert.equal(t.ttl, 128);
  assert.deepEqual(t.src, ipv6('2620:0:e00:400e:d1d:db37:beb:5aac'));
  assert.equal(t.payloadOffset, 14 + 40 + 8);
  assert.equal(t.payloadLength, 32);
  assert.equal(t.payloadWireLength, 32);
  assert.equal(Buffer.from(t.payloadHex, 'hex').toString(), 'abcdefghijklmnopqrstuvwabcdefghi');
  assert.equal(weirds.total(), 0);
});

test('ICMP (IPv4) echo reply', () => {
  const t = dissectHex(ECHO4_REPLY).transports[0];
  assert.equal(t.transport, 1);
  assert.equal(t.icmpType, 0);
  assert.equal(t.icmpCode, 0);
  assert.deepEqual([t.src[0], t.dst[0]], [ipv4('127.0.0.1'), ipv4('127.0.0.1')]);
  assert.equal(t.payloadLength, 108 - 44 - 8);
});

test('an error message is one ICMP packet: the quoted packet is not decoded', () => {
  const { transports, layers } = dissectHex(DEST_UNREACH6);
  assert.equal(transports.length, 1);
  const t = transports[0];
  assert.equal(t.icmpType, 1);
  assert.equal(t.icmpCode, 0);
  assert.deepEqual(t.src, ipv6('fe80::dead'), 'the outer source, not the quoted one');
  assert.equal(t.ipProto, 58);
  assert.equal(t.payloadLength, 0x44 - 8);
  assert.equal(layers.ipv6, 1);
  assert.equal(layers.udp, undefined);
});

test('neighbour discovery is a plain ICMPv6 type', () => {
  const t = dissectHex(NEIGHBOUR_SOLICITATION).transports[0];
  assert.equal(t.icmpType, 135);
  assert.deepEqual(t.src, ipv6('::'));
  assert.deepEqual(t.dst, ipv6('ff02::1:fff5:0'));
  assert.equal(t.ttl, 255);
});

test('fewer than 8 bytes of ICMP: truncated_header / truncated_header', () => {
  // IPv4: the echo reply's IP packet cut to 4 bytes of ICMP (total length 48).
  const v4 = parseHex(ECHO4_REPLY).subarray(0, 14 + 44 + 4);
  v4.writeUInt16BE(48, 14 + 2);
  const r4 = dissectFrame(v4);
  assert.equal(r4.transports.length, 0);
  assert.deepEqual(weirdMap(r4.weirds), { truncated_header: 1 });
  // IPv6: payload length 4; the frame still carries the rest, which belongs to no packet.
  const v6 = parseHex(ECHO6);
  v6.writeUInt16BE(4, 14 + 4);
  const r6 = dissectFrame(v6);
  assert.equal(r6.transports.length, 0);
  assert.deepEqual(weirdMap(r6.weirds), { truncated_header: 1 });
});
