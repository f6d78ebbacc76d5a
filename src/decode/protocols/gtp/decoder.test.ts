import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dissectFrame, dissectHex, ipv4, parseHex, weirdMap } from '../test-helpers.js';

// tshark -r corpus/mixed/zeek__tunnels-gtp-gtp1_gn_normal_incl_fragmentation.pcap -x, frame 1: UDP 2152 → 2152,
// GTPv1-U (flags 0x30: version 1, PT 1, no optional fields; type 0xff G-PDU, length 52, TEID 0x8c61be36), then
// IPv4/TCP SYN 10.131.47.185:1923 → 79.101.110.141:80.
const GTP_TCP = `
0000  00 00 0c 07 ac e8 88 e0 f3 c8 bf f0 08 00 45 00   ..............E.
0010  00 58 00 00 00 00 3d 11 1d a0 ef 72 9b 6f 3f 5e   .X....=....r.o?^
0020  95 b5 08 68 08 68 00 44 0b 2a 30 ff 00 34 8c 61   ...h.h.D.*0..4.a
0030  be 36 45 00 00 34 52 65 40 00 80 06 b0 30 0a 83   .6E..4Re@....0..
0040  2f b9 4f 65 6e 8d 07 83 00 50 cd 6c 69 b7 00 00   /.Oen....P.li...
0050  00 00 80 02 ff ff 37 f2 00 00 02 04 05 b4 01 03   ......7.........
0060  03 01 01 01 04 02                                 ......
`;

/** The frame above with `gtp` (hex) in place of its 8-byte GTP header; IP and UDP lengths fixed up. */
function withHeader(gtp: string): Buffer {
  const frame = parseHex(GTP_TCP);
  const built = Buffer.concat([frame.subarray(0, 42), Buffer.from(gtp.replace(/\s+/g, ''), 'hex'), frame.subarray(50)]);
  built.writeUInt16BE(built.length - 14, 16);
  built.writeUInt16BE(built.length - 34, 38);
  return built;
}

test('GTP-U G-PDU: outer UDP, then the user\'s TCP', () => {
  const { transports, weirds } = dissectHex(GTP_TCP);
  assert.equal(weirds.total(), 0);
  assert.equal(transports.length, 2);
  assert.equal(transports[0].dstPort, 2152);
  const inner = transports[1];
  assert.equal(inner.tunnelDepth, 1);
  assert.equal(inner.ipOffset, 50);
  assert.deepEqual([inner.src[0], inner.dst[0]], [ipv4('10.131.47.185'), ipv4('79.101.110.141')]);
  assert.equal(inner.dstPort, 80);
});

test('optional fields and an extension header chain are skipped', () => {
  // Flags 0x34 (E set): sequence 0001, N-PDU 00, next extension 0x85 (PDU session container), 1 word long
  // (01, 2 content bytes, next type 0x40 = UDP port), then that one, 1 word (01, port 0x0868, next type 00).
  const { transports, weirds } = dissectFrame(withHeader('34ff0034 8c61be36 0001 00 85 01 0000 40 01 0868 00'));
  assert.equal(weirds.total(), 0);
  assert.equal(transports[1].ipOffset, 50 + 4 + 4 + 4);
  assert.equal(transports[1].dstPort, 80);
});

test('signalling messages (echo request) carry no user packet', () => {
  const { transports, weirds } = dissectFrame(withHeader('30010034 8c61be36'));
  assert.equal(transports.length, 1);
  assert.equal(weirds.total(), 0);
});

test('GTP weirds: gtp_bad_version (GTPv0 / GTP\'), gtp_truncated (extension past the end)', () => {
  assert.deepEqual(weirdMap(dissectFrame(withHeader('10ff0034 8c61be36')).weirds), { gtp_bad_version: 1 });
  const cut = withHeader('34ff0034 8c61be36 0001 00 85').subarray(0, 42 + 12);
  cut.writeUInt16BE(40, 16);
  cut.writeUInt16BE(20, 38);
  assert.deepEqual(weirdMap(dissectFrame(cut).weirds), { gtp_truncated: 1 });
});
