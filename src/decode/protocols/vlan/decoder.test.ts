import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dissectHex, weirdMap } from '../test-helpers.js';

// tshark -r corpus/mixed/zeek__icmp_dot1q.pcap -x, frame 1: one 802.1Q tag (TCI 0x007b: VLAN 123), then ARP.
const DOT1Q_ARP = `
0000  ff ff ff ff ff ff 00 19 06 ea b8 c1 81 00 00 7b   ...............{
0010  08 06 00 01 08 00 06 04 00 02 00 19 06 ea b8 c1   ................
0020  c0 a8 7b 01 ff ff ff ff ff ff c0 a8 7b 01 00 00   ..{.........{...
0030  00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00   ................
`;

// tshark -r corpus/mixed/tcpdump__802.1ad_QinQ.pcap -x, frame 1: an 802.1ad service tag (0x88a8, VLAN 200),
// an 802.1Q customer tag (TCI 0x07d1: priority 0, VLAN 2001), then ARP.
const QINQ_ARP = `
0000  ff ff ff ff ff ff 00 20 d2 5a fb 3f 88 a8 00 c8   ....... .Z.?....
0010  81 00 07 d1 08 06 00 01 08 00 06 04 00 01 00 20   ............... 
0020  d2 5a fb 3f ac 15 4f 61 00 00 00 00 00 00 ac 15   .Z.?..Oa........
0030  4f 64 00 00 00 00 00 00 00 00 00 00 00 00 00 00   Od..............
`;

// tshark -r corpus/mixed/zeek__vlan-qinqinq.pcap -x, frame 1: three 0x8100 tags
// (VLANs 30, 20, 10), then IPv4/TCP SYN 141.142.228.5:59856 → 192.150.187.43:80.
const QINQINQ_TCP = `
0000  00 10 db 88 d2 ef c8 bc c8 96 d2 a0 81 00 00 1e   ................
0010  81 00 00 14 81 00 00 0a 08 00 45 00 00 40 df 8e   ..........E..@..
0020  40 00 40 06 6d d3 8d 8e e4 05 c0 96 bb 2b e9 d0   @.@.m........+..
0030  00 50 fe 21 32 3a 00 00 00 00 b0 02 ff ff 3b c0   .P.!2:........;.
0040  00 00 02 04 05 b4 01 03 03 04 01 01 08 0a 16 4a   ...............J
0050  dd 20 00 00 00 00 04 02 00 00                     . ........
`;

test('one 802.1Q tag: vlan set, depth 1, the tag\'s EtherType followed', () => {
  const { final, weirds } = dissectHex(DOT1Q_ARP);
  assert.equal(final.vlan, 123);
  assert.equal(final.innerVlan, 0);
  assert.equal(final.vlanDepth, 1);
  assert.equal(final.etherType, 0x0806);
  assert.equal(final.arpOffset, 18);
  assert.equal(weirds.total(), 0);
});

test('802.1ad + 802.1Q: outer id in vlan, the priority bits masked off the inner id', () => {
  const { final } = dissectHex(QINQ_ARP);
  assert.equal(final.vlan, 200);
  assert.equal(final.innerVlan, 2001);
  assert.equal(final.vlanDepth, 2);
  assert.equal(final.arpOffset, 22);
});

test('three stacked tags: depth 3, the first two ids kept', () => {
  const { transports } = dissectHex(QINQINQ_TCP);
  const t = transports[0];
  assert.equal(t.vlan, 30);
  assert.equal(t.innerVlan, 20);
  assert.equal(t.vlanDepth, 3);
  assert.equal(t.ipOffset, 26);
  assert.equal(t.dstPort, 80);
});

test('the 0x9100 tag is a VLAN tag too', () => {
  const { final } = dissectHex('ffffffffffff 020000000001 9100 0064 8100 00c8 88b5 00');
  assert.equal(final.vlan, 100);
  assert.equal(final.innerVlan, 200);
  assert.equal(final.vlanDepth, 2);
  assert.equal(final.etherType, 0x88b5);
});

test('a tag cut short: truncated_VLAN_header', () => {
  const { weirds } = dissectHex('ffffffffffff 020000000001 8100 00');
  assert.deepEqual(weirdMap(weirds), { truncated_VLAN_header: 1 });
});
