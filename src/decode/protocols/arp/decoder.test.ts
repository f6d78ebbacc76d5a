import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dissectHex, weirdMap } from '../test-helpers.js';

// tshark -r corpus/mixed/zeek__linuxsll-arp.pcap -x, frame 1 (LINKTYPE_LINUX_SLL): an ARP request
// "who has 192.168.22.160? tell 192.168.22.1" (hardware 1, protocol 0800, lengths 6 and 4, opcode 1).
const SLL_ARP = `
0000  00 01 00 01 00 06 cc 2d e0 26 19 99 00 00 08 06   .......-.&......
0010  00 01 08 00 06 04 00 01 cc 2d e0 26 19 99 c0 a8   .........-.&....
0020  16 01 00 00 00 00 00 00 c0 a8 16 a0 00 00 00 00   ................
0030  00 00 00 00 00 00 00 00 00 00 00 00 00 00         ..............
`;

test('ARP: arpOffset points at the ARP header; nothing goes to the transport sink', () => {
  const { transports, final, weirds } = dissectHex(SLL_ARP, { linkType: 113 });
  assert.equal(transports.length, 0);
  assert.equal(final.etherType, 0x0806);
  assert.equal(final.arpOffset, 16);
  assert.equal(final.macOffset, -1, 'a cooked header is not an Ethernet header');
  assert.equal(weirds.total(), 0);
});

test('an ARP message shorter than its address lengths say: truncated_ARP', () => {
  // Ethernet + ARP fixed part + sender MAC only: 8 + 6 of the 28 bytes the lengths call for.
  const { final, weirds } = dissectHex('ffffffffffff 020000000001 0806 0001 0800 06 04 0001 020000000001');
  assert.deepEqual(weirdMap(weirds), { truncated_ARP: 1 });
  assert.equal(final.arpOffset, -1);
  const tiny = dissectHex('ffffffffffff 020000000001 0806 0001 0800');
  assert.deepEqual(weirdMap(tiny.weirds), { truncated_ARP: 1 });
});
