import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dissectHex, ipv4, ipv6, weirdMap } from '../test-helpers.js';

// tshark -r corpus/mixed/pcpp__SllPacket.pcap -x, frame 1 (first 96 of 1296 bytes; the capture was limited):
// LINUX_SLL packet type 0 (to us), ARPHRD 1, address length 6, protocol 0x86dd, then IPv6/TCP
// 2404:6800:8004::68:80 → 2404:138:4002:4000:230:48ff:fedd:53:50243.
const SLL_TCP6 = `
0000  00 00 00 01 00 06 00 12 44 1e 74 00 f6 7f 86 dd   ........D.t.....
0010  60 00 00 00 04 d8 06 37 24 04 68 00 80 04 00 00   \`......7$.h.....
0020  00 00 00 00 00 00 00 68 24 04 01 38 40 02 40 00   .......h$..8@.@.
0030  02 30 48 ff fe dd 00 53 00 50 c4 43 56 eb 0a 40   .0H....S.P.CV..@
0040  2d 0b 40 34 80 10 02 0f d8 49 00 00 01 01 08 0a   -.@4.....I......
0050  27 a9 b4 79 04 02 38 26 48 54 54 50 2f 31 2e 31   '..y..8&HTTP/1.1
`;

// tshark -r corpus/mixed/pcpp__Sll2Packet.pcap -x, frame 1: LINUX_SLL2 protocol 0x0800, interface index 20,
// ARPHRD 1, packet type 4 (outgoing), then IPv4/TCP 7.249.151.114:57292 → 116.63.66.108:443 ACK.
const SLL2_TCP = `
0000  08 00 00 00 00 00 00 14 00 01 04 06 d2 cf c2 50   ...............P
0010  15 ea 00 00 45 00 00 28 8b 22 40 00 40 06 59 97   ....E..(."@.@.Y.
0020  07 f9 97 72 74 3f 42 6c df cc 01 bb a7 ab 9f bf   ...rt?Bl........
0030  aa ce b5 e9 50 10 04 22 56 31 00 00               ....P.."V1..
`;

test('Linux cooked v1: protocol field → IPv6; no Ethernet header', () => {
  const { transports, weirds } = dissectHex(SLL_TCP6, { linkType: 113, wirelen: 1296 });
  assert.equal(weirds.total(), 0);
  const t = transports[0];
  assert.equal(t.macOffset, -1);
  assert.equal(t.etherType, 0x86dd);
  assert.equal(t.ipOffset, 16);
  assert.deepEqual(t.src, ipv6('2404:6800:8004::68'));
  assert.equal(t.srcPort, 80);
  assert.equal(t.payloadWireLength, 0x4d8 - 32);
  assert.equal(t.payloadLength, 96 - 16 - 40 - 32);
});

test('Linux cooked v2: protocol field first → IPv4', () => {
  const { transports, weirds } = dissectHex(SLL2_TCP, { linkType: 276 });
  assert.equal(weirds.total(), 0);
  const t = transports[0];
  assert.equal(t.ipOffset, 20);
  assert.deepEqual([t.src[0], t.dst[0]], [ipv4('7.249.151.114'), ipv4('116.63.66.108')]);
  assert.equal(t.dstPort, 443);
  assert.equal(t.payloadLength, 0, 'a 40-byte IP packet: nothing after the TCP header');
});

test('an ip_gre device (ARPHRD 778) names a GRE protocol type; small protocol values stop quietly', () => {
  // SLL: outgoing, ARPHRD 778, no address, protocol 0x6558 (bridged Ethernet: a GRE type, no EtherType),
  // then Ethernet and an IPv4 header with protocol 253.
  const eth = '020000000002 020000000001 0800 4500001400000000 40fd0000 0a000001 0a000002';
  const gre = dissectHex(`0004 030a 0000 0000000000000000 6558 ${eth}`, { linkType: 113 });
  assert.equal(gre.final.macOffset, 16);
  assert.equal(gre.final.ipProto, 253);
  // Protocol 0x0004: raw 802.2 LLC frames.
  const llc = dissectHex('0000 0001 0006 020000000001 0000 0004 424203', { linkType: 113 });
  assert.equal(llc.final.etherType, 0);
  assert.equal(llc.weirds.total(), 0);
});

test('cooked headers cut short: truncated_Linux_SLL_header', () => {
  assert.deepEqual(weirdMap(dissectHex('0000 0001 0006 0012441e', { linkType: 113 }).weirds), { truncated_Linux_SLL_header: 1 });
  assert.deepEqual(weirdMap(dissectHex('0800 0000 00000014 0001 04 06 d2cfc250', { linkType: 276 }).weirds), { truncated_Linux_SLL_header: 1 });
});
