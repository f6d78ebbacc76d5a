import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dissectHex, ipv4, weirdMap } from '../test-helpers.js';

// tshark -r corpus/mixed/zeek__mpls-in-vlan.pcap -x, frame 2 (first 96 of 1522 bytes): VLAN 0, MPLS
// (label 16106, bottom of stack, TTL 44), then IPv4/TCP 65.65.65.65:80 → 65.65.65.65:32828.
const VLAN_MPLS_TCP = `
0000  00 08 e3 41 41 41 00 08 e3 41 41 41 81 00 00 00   ...AAA...AAA....
0010  88 47 03 ee a1 2c 45 00 05 dc 39 70 40 00 30 06   .G...,E...9p@.0.
0020  50 44 41 41 41 41 41 41 41 41 00 50 80 3c 18 5c   PDAAAAAAAA.P.<.\\
0030  a4 9e a0 30 c4 8f 80 10 00 36 36 85 00 00 01 01   ...0.....66.....
0040  08 0a 2f 8f ac bb 1f 10 6e 24 41 41 41 41 41 41   ../.....n$AAAAAA
0050  41 41 41 41 41 41 41 41 41 41 41 41 41 41 41 41   AAAAAAAAAAAAAAAA
`;

// tshark -r corpus/mixed/tcpdump__mpls-over-udp.pcap -x, frame 1: UDP 10.100.12.170:58699 → 10.100.13.157:6635
// carrying one MPLS label (16, bottom of stack) and IPv4 ICMP echo request 10.3.0.10 → 10.1.0.10.
const MPLS_OVER_UDP = `
0000  52 9a 00 c8 4f 88 52 9a 00 82 5c 62 08 00 45 00   R...O.R...\\b..E.
0010  00 74 67 6f 00 00 40 11 e3 fb 0a 64 0c aa 0a 64   .tgo..@....d...d
0020  0d 9d e5 4b 19 eb 00 60 00 00 00 01 51 3f 45 00   ...K...\`....Q?E.
0030  00 54 67 6f 40 00 3f 01 c0 22 0a 03 00 0a 0a 01   .Tgo@.?.."......
0040  00 0a 08 00 76 43 a6 eb 00 10 94 07 3f 5e 00 00   ....vC......?^..
0050  00 00 45 88 03 00 00 00 00 00 10 11 12 13 14 15   ..E.............
0060  16 17 18 19 1a 1b 1c 1d 1e 1f 20 21 22 23 24 25   .......... !"#$%
0070  26 27 28 29 2a 2b 2c 2d 2e 2f 30 31 32 33 34 35   &'()*+,-./012345
0080  36 37                                             67
`;

test('MPLS inside a VLAN: one label popped, IPv4 guessed from the version nibble', () => {
  const { transports, weirds } = dissectHex(VLAN_MPLS_TCP, { wirelen: 1522 });
  assert.equal(weirds.total(), 0);
  const t = transports[0];
  assert.equal(t.vlanDepth, 1);
  assert.equal(t.etherType, 0x0800);
  assert.equal(t.ipOffset, 22);
  assert.equal(t.src[0], ipv4('65.65.65.65'));
  assert.equal(t.srcPort, 80);
  assert.equal(t.dstPort, 32828);
});

test('a stack of labels is popped to the bottom; IPv6 is guessed too', () => {
  // Labels 100 and 200 (bottom bit only on the second), then an IPv6 header with nothing after it.
  const ipv6NoNext = '6000000000003b40' + '00'.repeat(15) + '01' + '00'.repeat(15) + '02';
  const { final, weirds } = dissectHex(`ffffffffffff 020000000001 8847 000640ff 000c81ff ${ipv6NoNext}`);
  assert.equal(weirds.total(), 0);
  assert.equal(final.ipVersion, 6);
  assert.equal(final.ipOffset, 22);
  assert.equal(final.ipProto, 59);
});

test('MPLS over UDP (port 6635): the outer UDP and the inner ICMP both reach the sink', () => {
  const { transports } = dissectHex(MPLS_OVER_UDP);
  assert.equal(transports.length, 2);
  assert.equal(transports[0].transport, 17);
  assert.equal(transports[0].dstPort, 6635);
  assert.equal(transports[1].transport, 1);
  assert.equal(transports[1].tunnelDepth, 1);
  assert.deepEqual([transports[1].src[0], transports[1].dst[0]], [ipv4('10.3.0.10'), ipv4('10.1.0.10')]);
});

test('a datagram merely sent *from* port 6635 is not taken for MPLS', () => {
  const frame = MPLS_OVER_UDP.replace('0d 9d e5 4b 19 eb', '0d 9d 19 eb e5 4b'); // swap the ports
  const { transports, weirds } = dissectHex(frame);
  assert.equal(transports.length, 1);
  assert.equal(transports[0].srcPort, 6635);
  assert.equal(weirds.total(), 0);
});

test('no bottom of stack before the end: truncated_link_header; a payload that is not IP: mpls_no_ip_payload', () => {
  const open = dissectHex('ffffffffffff 020000000001 8847 000640ff 000c80ff');
  assert.deepEqual(weirdMap(open.weirds), { truncated_link_header: 1 });
  const ethernetPw = dissectHex('ffffffffffff 020000000001 8847 000641ff 00000000 ffffffffffff');
  assert.deepEqual(weirdMap(ethernetPw.weirds), { mpls_no_ip_payload: 1 });
});
