import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dissectHex, weirdMap } from '../test-helpers.js';

// tshark -r corpus/mixed/zeek__pbb.pcap -x, frame 1: a backbone VLAN tag (TCI 0xefd3: VLAN 4051), the 802.1ah
// I-TAG (0x88e7, I-SID 0x1ebb30), then the customer frame: MACs and EtherType 0x8102 (BOFL, not decoded).
const PBB = `
0000  c3 00 3a 1e bb 30 02 cc cc 00 3a 00 81 00 ef d3   ..:..0....:.....
0010  88 e7 00 1e bb 30 01 1c eb af 50 00 00 1c eb af   .....0....P.....
0020  52 01 81 02 01 00 0f a0 00 00 00 00 00 00 00 00   R...............
0030  00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00   ................
0040  00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00   ................
0050  00 00                                             ..
`;

test('802.1ah: after the I-TAG comes the customer Ethernet header', () => {
  const { final, layers, weirds } = dissectHex(PBB);
  assert.equal(final.vlan, 4051);
  assert.equal(final.macOffset, 22, 'the customer MAC header');
  assert.equal(final.etherType, 0x8102);
  assert.equal(layers.pbb, 1);
  assert.equal(layers.ethernet, 2);
  assert.equal(weirds.total(), 0);
});

test('an I-TAG cut short: truncated_PBB_header', () => {
  const { weirds } = dissectHex('ffffffffffff 020000000001 88e7 001e');
  assert.deepEqual(weirdMap(weirds), { truncated_PBB_header: 1 });
});

test('a frame that nests itself endlessly ends at the dissector\'s layer limit', () => {
  // Each customer header is again a PBB frame: MACs, 88e7, I-TAG, ... 30 times.
  const level = 'ffffffffffff 020000000001 88e7 00000001 ';
  const { weirds } = dissectHex(level.repeat(30));
  assert.deepEqual(weirdMap(weirds), { max_packet_analyzer_depth_exceeded: 1 });
});
