import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dissectFrame, dissectHex, ipv6, parseHex } from '../test-helpers.js';

// tshark -r corpus/ipv6/zeek__tunnels-Teredo.pcap -x, frame 6: UDP 192.168.2.16:3797 → 65.55.158.80:3544, a
// Teredo authentication header (00 01, id and auth lengths 0, 8-byte nonce, confirmation 0), then an IPv6
// router solicitation fe80::8000:ffff:ffff:fffd → ff02::2.
const TEREDO_RS = `
0000  00 1d 5a dc cf f1 00 16 cf 41 9c 20 08 00 45 00   ..Z......A. ..E.
0010  00 69 87 c3 00 00 80 11 10 81 c0 a8 02 10 41 37   .i............A7
0020  9e 50 0e d5 0d d8 00 55 59 79 00 01 00 00 cd 56   .P.....UYy.....V
0030  69 40 0b 22 df 88 00 60 00 00 00 00 18 3a ff fe   i@."...\`.....:..
0040  80 00 00 00 00 00 00 80 00 ff ff ff ff ff fd ff   ................
0050  02 00 00 00 00 00 00 00 00 00 00 00 00 00 02 85   ................
0060  00 a9 1d 00 00 00 00 01 02 00 00 00 00 00 00 80   ................
0070  00 f1 2a b9 c8 28 15                              ..*..(.
`;

// Same file, frame 7: the server's answer from port 3544: authentication header, origin indication
// (00 00 + port and address), then an IPv6 router advertisement.
const TEREDO_RA = `
0000  00 16 cf 41 9c 20 00 1d 5a dc cf f1 08 00 45 00   ...A. ..Z.....E.
0010  00 89 39 b0 00 00 70 11 6e 73 41 37 9e 51 c0 a8   ..9...p.nsA7.Q..
0020  02 10 0d d8 0e d5 00 75 50 65 00 01 00 00 cd 56   .......uPe.....V
0030  69 40 0b 22 df 88 00 00 00 f1 2a b9 c8 28 15 60   i@."......*..(.\`
0040  00 00 00 00 30 3a ff fe 80 00 00 00 00 00 00 80   ....0:..........
0050  00 f2 27 be c8 61 af fe 80 00 00 00 00 00 00 80   ..'..a..........
0060  00 ff ff ff ff ff fd 86 00 1f 57 00 00 00 00 00   ..........W.....
0070  00 00 00 00 00 07 d0 03 04 40 40 ff ff ff ff ff   .........@@.....
0080  ff ff ff 00 00 00 00 20 01 00 00 41 37 9e 50 00   ....... ...A7.P.
0090  00 00 00 00 00 00 00                              .......
`;

test('Teredo to the server: authentication header skipped, IPv6 inside', () => {
  const { transports, weirds } = dissectHex(TEREDO_RS);
  assert.equal(weirds.total(), 0);
  assert.equal(transports.length, 2);
  assert.equal(transports[0].dstPort, 3544);
  const inner = transports[1];
  assert.equal(inner.ipVersion, 6);
  assert.equal(inner.tunnelDepth, 1);
  assert.equal(inner.ipOffset, 14 + 20 + 8 + 13);
  assert.deepEqual(inner.src, ipv6('fe80::8000:ffff:ffff:fffd'));
  assert.deepEqual(inner.dst, ipv6('ff02::2'));
  assert.equal(inner.icmpType, 133);
});

test('Teredo from the server (source port 3544): authentication and origin indication skipped', () => {
  const { transports } = dissectHex(TEREDO_RA);
  assert.equal(transports.length, 2);
  assert.equal(transports[0].srcPort, 3544);
  assert.equal(transports[1].ipOffset, 14 + 20 + 8 + 13 + 8);
  assert.equal(transports[1].icmpType, 134);
});

test('other traffic on port 3544 is left alone without a weird', () => {
  // The IPv6 payload length no longer fills the datagram: not one IPv6 packet, so not Teredo.
  const frame = parseHex(TEREDO_RS);
  frame.writeUInt16BE(0x10, 55 + 4);
  const { transports, weirds } = dissectFrame(frame);
  assert.equal(transports.length, 1);
  assert.equal(weirds.total(), 0);
  // Version nibble 4 where the IPv6 header should start.
  const v4 = parseHex(TEREDO_RS);
  v4[55] = 0x45;
  assert.equal(dissectFrame(v4).transports.length, 1);
});
