import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dissectFrame, dissectHex, ipv4, parseHex, weirdMap } from '../test-helpers.js';

// tshark -r corpus/mixed/zeek__tunnels-vxlan.pcap -x, frame 1: UDP 192.168.56.11:39924 → 192.168.56.12:4789,
// VXLAN (flags 0x08, VNI 123), then an Ethernet ARP request "who has 10.0.0.2? tell 10.0.0.1".
const VXLAN_ARP = `
0000  08 00 27 f2 1d 8c 08 00 27 ae 4d 62 08 00 45 00   ..'.....'.Mb..E.
0010  00 4e d9 98 40 00 40 11 6f 9e c0 a8 38 0b c0 a8   .N..@.@.o...8...
0020  38 0c 9b f4 12 b5 00 3a 00 00 08 00 00 00 00 00   8......:........
0030  7b 00 ff ff ff ff ff ff ba 09 2b 6e f8 be 08 06   {.........+n....
0040  00 01 08 00 06 04 00 01 ba 09 2b 6e f8 be 0a 00   ..........+n....
0050  00 01 00 00 00 00 00 00 0a 00 00 02               ............
`;

// tshark -r corpus/tcp/zeek__tcp-syn-synack.pcap -x, frame 1: Ethernet/IPv4/TCP SYN 141.142.228.5:59856 →
// 192.150.187.43:80 (78 bytes), wrapped below in the VXLAN frame's outer headers.
const INNER_SYN = `
0000  00 10 db 88 d2 ef c8 bc c8 96 d2 a0 08 00 45 00   ..............E.
0010  00 40 df 8e 40 00 40 06 6d d3 8d 8e e4 05 c0 96   .@..@.@.m.......
0020  bb 2b e9 d0 00 50 fe 21 32 3a 00 00 00 00 b0 02   .+...P.!2:......
0030  ff ff 3b c0 00 00 02 04 05 b4 01 03 03 04 01 01   ..;.............
0040  08 0a 16 4a dd 20 00 00 00 00 04 02 00 00         ...J. ........
`;

/** The VXLAN frame's outer Ethernet/IPv4/UDP/VXLAN headers (50 bytes) around `inner`, lengths fixed up. */
function vxlan(inner: Buffer, ports = { src: 39924, dst: 4789 }, flags = 0x08): Buffer {
  const outer = parseHex(VXLAN_ARP).subarray(0, 50);
  const frame = Buffer.concat([outer, inner]);
  frame.writeUInt16BE(frame.length - 14, 16); // IP total length
  frame.writeUInt16BE(ports.src, 34);
  frame.writeUInt16BE(ports.dst, 36);
  frame.writeUInt16BE(frame.length - 34, 38); // UDP length
  frame[42] = flags;
  return frame;
}

test('VXLAN: the sink gets the outer UDP, then the inner TCP', () => {
  const { transports, weirds } = dissectFrame(vxlan(parseHex(INNER_SYN)));
  assert.equal(weirds.total(), 0);
  assert.equal(transports.length, 2);
  const [outer, inner] = transports;
  assert.equal(outer.transport, 17);
  assert.equal(outer.dstPort, 4789);
  assert.equal(outer.tunnelDepth, 0);
  assert.deepEqual([outer.src[0], outer.dst[0]], [ipv4('192.168.56.11'), ipv4('192.168.56.12')]);
  assert.equal(outer.payloadLength, 8 + 78);
  assert.equal(inner.transport, 6);
  assert.equal(inner.tunnelDepth, 1);
  assert.equal(inner.macOffset, 50);
  assert.equal(inner.ipOffset, 64);
  assert.deepEqual([inner.src[0], inner.dst[0]], [ipv4('141.142.228.5'), ipv4('192.150.187.43')]);
  assert.equal(inner.srcPort, 59856);
  assert.equal(inner.tcpOptions !== 0, true);
});

test('VXLAN carrying ARP: the outer UDP reaches the sink, the inner ARP is located', () => {
  const { transports, final } = dissectHex(VXLAN_ARP);
  assert.equal(transports.length, 1);
  assert.equal(final.macOffset, 50);
  assert.equal(final.arpOffset, 64);
});

test('sent *from* port 4789 is not VXLAN (an ephemeral port that collides)', () => {
  const { transports, weirds } = dissectFrame(vxlan(parseHex(INNER_SYN), { src: 4789, dst: 53 }));
  assert.equal(transports.length, 1);
  assert.equal(weirds.total(), 0);
});

test('VXLAN weirds: vxlan_bad_flags (I flag clear), vxlan_truncated', () => {
  assert.deepEqual(weirdMap(dissectFrame(vxlan(parseHex(INNER_SYN), undefined, 0x00)).weirds), { vxlan_bad_flags: 1 });
  const cut = vxlan(Buffer.alloc(0)).subarray(0, 46);
  cut.writeUInt16BE(32, 16);
  cut.writeUInt16BE(12, 38);
  assert.deepEqual(weirdMap(dissectFrame(cut).weirds), { vxlan_truncated: 1 });
});
