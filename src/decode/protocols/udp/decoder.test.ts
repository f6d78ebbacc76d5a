import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Handoff } from '../../registry.js';
import { dissectFrame, dissectHex, ipv4, ipv6, parseHex, weirdMap } from '../test-helpers.js';
import { udpDecoder } from './decoder.js';
import { Packet } from '../../packet.js';
import { WeirdCounter } from '../../weirds.js';

// tshark -r corpus/dns/tcpdump__dns_udp.pcap -x, frame 1: 192.168.1.11:43966 → 209.87.249.18:53, UDP length
// 64 (0x40): a DNS query for www.tcpdump.org (id 0x5934).
const DNS_QUERY = `
0000  00 11 22 33 44 66 00 11 22 33 44 55 08 00 45 00   .."3Df.."3DU..E.
0010  00 54 59 cd 00 00 40 11 94 ae c0 a8 01 0b d1 57   .TY...@........W
0020  f9 12 ab be 00 35 00 40 78 24 59 34 01 20 00 01   .....5.@x$Y4. ..
0030  00 00 00 00 00 01 03 77 77 77 07 74 63 70 64 75   .......www.tcpdu
0040  6d 70 03 6f 72 67 00 00 01 00 01 00 00 29 10 00   mp.org.......)..
0050  00 00 00 00 00 0c 00 0a 00 08 42 f5 d0 09 96 f9   ..........B.....
0060  0b 13                                             ..
`;

// tshark -r corpus/ipv6/dnscap__dns6.pcap -x, frame 1: 2a01:3f0:0:57::245:51972 → 2001:4860:4860::8888:53
// over IPv6 (payload length 47 = UDP length 47).
const DNS6_QUERY = `
0000  00 0c db fe 58 21 00 25 90 64 2b c6 86 dd 60 04   ....X!.%.d+...\`.
0010  2d 73 00 2f 11 40 2a 01 03 f0 00 00 00 57 00 00   -s./.@*......W..
0020  00 00 00 00 02 45 20 01 48 60 48 60 00 00 00 00   .....E .H\`H\`....
0030  00 00 00 00 88 88 cb 04 00 35 00 2f 6a 17 c8 dc   .........5./j...
0040  01 20 00 01 00 00 00 00 00 01 06 67 6f 6f 67 6c   . .........googl
0050  65 03 63 6f 6d 00 00 01 00 01 00 00 29 10 00 00   e.com.......)...
0060  00 00 00 00 00                                    .....
`;

test('a DNS query over IPv4: ports and payload bounds', () => {
  const { transports, weirds } = dissectHex(DNS_QUERY);
  assert.equal(transports.length, 1);
  const t = transports[0];
  assert.equal(t.transport, 17);
  assert.deepEqual([t.src[0], t.dst[0]], [ipv4('192.168.1.11'), ipv4('209.87.249.18')]);
  assert.equal(t.srcPort, 43966);
  assert.equal(t.dstPort, 53);
  assert.equal(t.payloadOffset, 14 + 20 + 8);
  assert.equal(t.payloadLength, 56);
  assert.equal(t.payloadWireLength, 56);
  assert.ok(t.payloadHex.startsWith('59340120'), 'the payload starts with the DNS id and flags');
  assert.equal(weirds.total(), 0);
});

test('a DNS query over IPv6', () => {
  const t = dissectHex(DNS6_QUERY).transports[0];
  assert.equal(t.ipVersion, 6);
  assert.deepEqual(t.src, ipv6('2a01:3f0:0:57::245'));
  assert.deepEqual(t.dst, ipv6('2001:4860:4860::8888'));
  assert.equal(t.srcPort, 51972);
  assert.equal(t.dstPort, 53);
  assert.equal(t.payloadOffset, 14 + 40 + 8);
  assert.equal(t.payloadLength, 39);
});

test('hands off on the destination port with the source port as the fallback key', () => {
  const frame = parseHex(DNS_QUERY);
  const pkt = new Packet();
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  pkt.reset(frame, view, 0, frame.length, frame.length, 0, 1, 0);
  pkt.ipVersion = 4;
  pkt.ipOffset = 14;
  pkt.ipLength = 0x54;
  const next = udpDecoder.decode(pkt, 34, frame.length, new WeirdCounter());
  assert.equal(next, 42);
  assert.equal(pkt.nextTable, Handoff.UdpPort);
  assert.equal(pkt.nextKey, 53);
  assert.equal(pkt.nextKeyAlt, 43966);
});

test('a UDP length shorter than the IP payload bounds the payload (the rest is not data)', () => {
  const frame = parseHex(DNS_QUERY);
  frame.writeUInt16BE(8 + 20, 34 + 4); // UDP length 28: 20 bytes of payload of the 56
  const { transports, weirds } = dissectFrame(frame);
  assert.equal(transports[0].payloadLength, 20);
  assert.equal(transports[0].payloadWireLength, 20);
  assert.equal(weirds.total(), 0);
});

test('a UDP length past the IP payload: UDP_datagram_length_mismatch, the IP bound is used', () => {
  const frame = parseHex(DNS_QUERY);
  frame.writeUInt16BE(200, 34 + 4);
  const { transports, weirds } = dissectFrame(frame);
  assert.deepEqual(weirdMap(weirds), { UDP_datagram_length_mismatch: 1 });
  assert.equal(transports[0].payloadLength, 56);
  assert.equal(transports[0].payloadWireLength, 56);
});

test('a UDP length under 8: UDP_datagram_length_mismatch, the IP bound is used', () => {
  const frame = parseHex(DNS_QUERY);
  frame.writeUInt16BE(4, 34 + 4);
  const { transports, weirds } = dissectFrame(frame);
  assert.deepEqual(weirdMap(weirds), { UDP_datagram_length_mismatch: 1 });
  assert.equal(transports[0].payloadLength, 56);
});

test('a first fragment: the UDP length covers the whole datagram, no weird', () => {
  // The query with MF set and the IP packet cut to 14 bytes of UDP payload (total length 42): the UDP
  // length (64) says the datagram goes on in the next fragment.
  const frame = parseHex(DNS_QUERY).subarray(0, 14 + 42);
  frame.writeUInt16BE(42, 14 + 2);
  frame.writeUInt16BE(0x2000, 14 + 6);
  const { transports, weirds } = dissectFrame(frame);
  assert.equal(weirds.total(), 0);
  assert.equal(transports[0].payloadLength, 14);
  assert.equal(transports[0].payloadWireLength, 56);
});

test('fewer than 8 bytes: truncated_header', () => {
  const frame = parseHex(DNS_QUERY).subarray(0, 14 + 20 + 6);
  frame.writeUInt16BE(26, 14 + 2);
  const { transports, weirds } = dissectFrame(frame);
  assert.equal(transports.length, 0);
  assert.deepEqual(weirdMap(weirds), { truncated_header: 1 });
});
