import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dissectFrame, dissectHex, ipv4, parseHex, weirdMap } from '../test-helpers.js';

// tshark -r corpus/mixed/zeek__tunnels-geneve.pcap -x, frame 1: UDP 20.0.0.1:50901 → 20.0.0.2:6081, Geneve
// (version 0, option length 2 words, protocol 0x6558, VNI 0) with one 8-byte option, then Ethernet/IPv4 ICMP
// echo request 30.0.0.1 → 30.0.0.2.
const GENEVE_ICMP = `
0000  00 1b 21 3c ac 30 00 1b 21 3c ab 64 08 00 45 00   ..!<.0..!<.d..E.
0010  00 8e c4 73 40 00 40 11 4d e9 14 00 00 01 14 00   ...s@.@.M.......
0020  00 02 c6 d5 17 c1 00 7a 00 00 02 00 65 58 00 00   .......z....eX..
0030  00 00 00 00 00 01 00 00 00 0a 76 b5 d5 0a a6 41   ..........v....A
0040  b2 1a 43 d5 fa 4c 08 00 45 00 00 54 00 00 40 00   ..C..L..E..T..@.
0050  40 01 fe a6 1e 00 00 01 1e 00 00 02 08 00 c6 2b   @..............+
0060  41 b0 00 1c c7 98 9b 53 00 00 00 00 c6 48 08 00   A......S.....H..
0070  00 00 00 00 10 11 12 13 14 15 16 17 18 19 1a 1b   ................
0080  1c 1d 1e 1f 20 21 22 23 24 25 26 27 28 29 2a 2b   .... !"#$%&'()*+
0090  2c 2d 2e 2f 30 31 32 33 34 35 36 37               ,-./01234567
`;

test('Geneve with an option, carrying Ethernet: outer UDP, then the inner ICMP', () => {
  const { transports, weirds } = dissectHex(GENEVE_ICMP);
  assert.equal(weirds.total(), 0);
  assert.equal(transports.length, 2);
  assert.equal(transports[0].dstPort, 6081);
  const inner = transports[1];
  assert.equal(inner.macOffset, 14 + 20 + 8 + 16);
  assert.equal(inner.tunnelDepth, 1);
  assert.deepEqual([inner.src[0], inner.dst[0]], [ipv4('30.0.0.1'), ipv4('30.0.0.2')]);
  assert.equal(inner.icmpType, 8);
});

test('Geneve carrying IPv4 directly (protocol 0x0800)', () => {
  // Option length 0, protocol 0x0800, then the inner IPv4 packet of the frame above.
  const frame = parseHex(GENEVE_ICMP);
  const built = Buffer.concat([frame.subarray(0, 42), Buffer.from('000008000000000a', 'hex'), frame.subarray(72)]);
  built.writeUInt16BE(built.length - 14, 16);
  built.writeUInt16BE(built.length - 34, 38);
  const { transports, weirds } = dissectFrame(built);
  assert.equal(weirds.total(), 0);
  assert.equal(transports[1].ipOffset, 50);
  assert.equal(transports[1].macOffset, 0, 'no inner Ethernet: the outer MAC header stays');
});

test('Geneve weirds: geneve_invalid_version, geneve_truncated (options past the end)', () => {
  const badVersion = parseHex(GENEVE_ICMP);
  badVersion[42] = 0x42; // version 1
  assert.deepEqual(weirdMap(dissectFrame(badVersion).weirds), { geneve_invalid_version: 1 });
  const cut = parseHex(GENEVE_ICMP).subarray(0, 42 + 12); // 8 + 4 of the 16 header bytes
  cut.writeUInt16BE(20 + 8 + 12, 16);
  cut.writeUInt16BE(8 + 12, 38);
  assert.deepEqual(weirdMap(dissectFrame(cut).weirds), { geneve_truncated: 1 });
});
