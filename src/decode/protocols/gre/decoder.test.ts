import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dissectHex, ipv4, parseHex, dissectFrame, weirdMap } from '../test-helpers.js';

// tshark -r corpus/mixed/zeek__tunnels-gre-sample.pcap -x, frame 1: IPv4 172.27.1.66 → 66.59.109.137 protocol 47,
// a bare GRE header (no flags, protocol 0x0800), then ICMP echo request 66.59.111.190 → 172.28.2.3.
const GRE_IPV4_ICMP = `
0000  00 c0 ca 14 b0 52 00 02 2d 56 4a fd 08 00 45 00   .....R..-VJ...E.
0010  00 6c 00 00 40 00 ff 2f 1e 41 ac 1b 01 42 42 3b   .l..@../.A...BB;
0020  6d 89 00 00 08 00 45 00 00 54 00 00 40 00 40 01   m.....E..T..@.@.
0030  da 90 42 3b 6f be ac 1c 02 03 08 00 46 c9 cb 68   ..B;o.......F..h
0040  01 00 70 72 e6 3e 97 19 0c 00 08 09 0a 0b 0c 0d   ..pr.>..........
0050  0e 0f 10 11 12 13 14 15 16 17 18 19 1a 1b 1c 1d   ................
0060  1e 1f 20 21 22 23 24 25 26 27 28 29 2a 2b 2c 2d   .. !"#$%&'()*+,-
0070  2e 2f 30 31 32 33 34 35 36 37                     ./01234567
`;

// tshark -r corpus/mixed/pcpp__GrePackets.pcap -x, frame 4: GRE with the checksum bit (flags 0x8000: 4 more
// bytes), protocol 0x0800, then ICMP echo reply 127.0.0.1 → 127.0.0.1 "valid 0".
const GRE_CHECKSUM = `
0000  00 01 01 00 00 01 00 01 01 00 00 02 08 00 45 00   ..............E.
0010  00 3f 00 01 00 00 40 2f 7c 8d 7f 00 00 01 7f 00   .?....@/|.......
0020  00 01 80 00 08 00 77 ff 00 00 45 00 00 23 4c 0f   ......w...E..#L.
0030  00 00 40 01 30 c9 7f 00 00 01 7f 00 00 01 00 00   ..@.0...........
0040  e2 26 a6 ec 00 01 76 61 6c 69 64 20 30            .&....valid 0
`;

// Same file, frame 7: GRE with a key (flags 0x2000), protocol 0x6558 (transparent Ethernet bridging), then
// an Ethernet frame with IPv4/TCP SYN 10.0.0.4:1232 → 10.0.0.5:80.
const GRE_KEY_ETHERNET = `
0000  00 ae f3 52 aa d1 00 02 15 37 a2 44 08 00 45 00   ...R.....7.D..E.
0010  00 52 00 01 00 00 40 2f 70 73 01 02 03 04 04 03   .R....@/ps......
0020  02 01 20 00 65 58 00 00 fd e8 00 01 02 03 04 05   .. .eX..........
0030  00 01 23 45 56 78 08 00 45 00 00 28 00 01 00 00   ..#EVx..E..(....
0040  40 06 66 c7 0a 00 00 04 0a 00 00 05 04 d0 00 50   @.f............P
0050  00 00 00 00 00 00 00 00 50 02 20 00 76 ba 00 00   ........P. .v...
`;

// Same file, frame 6 (first 128 of 268 bytes): VLAN 100, IPv6 → IPv4-in-IPv6 → enhanced GRE (version 1,
// flags 0x3001: key and sequence, protocol 0x880b PPP) → PPP FF03 0021 → IPv4/UDP 8.8.8.8:53 → 172.16.44.3:40768.
const PPTP_GRE = `
0000  0c 01 00 00 61 3d 00 19 06 e6 82 c4 81 00 00 64   ....a=.........d
0010  86 dd 60 00 00 00 00 d2 04 39 26 07 fc d0 01 00   ..\`......9&.....
0020  23 00 00 00 00 00 b1 08 2a 6b 24 02 f0 00 00 01   #.......*k$.....
0030  8e 01 00 00 00 00 00 00 55 55 45 00 00 d2 86 d7   ........UUE.....
0040  40 00 40 2f 3b 8f c0 34 a6 9a 10 00 00 c8 30 01   @.@/;..4......0.
0050  88 0b 00 b2 00 11 00 08 3a b8 ff 03 00 21 45 00   ........:....!E.
0060  00 ae 03 06 00 00 32 11 9d 16 08 08 08 08 ac 10   ......2.........
0070  2c 03 00 35 9f 40 00 9a bb da a6 2c 81 83 00 01   ,..5.@.....,....
`;

test('GRE carries IPv4: only the inner packet reaches the sink, one tunnel level deep', () => {
  const { transports, layers, weirds } = dissectHex(GRE_IPV4_ICMP);
  assert.equal(weirds.total(), 0);
  assert.equal(transports.length, 1);
  const t = transports[0];
  assert.equal(t.tunnelDepth, 1);
  assert.equal(t.ipOffset, 14 + 20 + 4);
  assert.deepEqual([t.src[0], t.dst[0]], [ipv4('66.59.111.190'), ipv4('172.28.2.3')]);
  assert.equal(t.transport, 1);
  assert.equal(t.icmpType, 8);
  assert.equal(layers.gre, 1);
  assert.equal(layers.ipv4, 2);
});

test('the checksum bit adds 4 bytes', () => {
  const t = dissectHex(GRE_CHECKSUM).transports[0];
  assert.equal(t.ipOffset, 14 + 20 + 8);
  assert.equal(t.icmpType, 0);
  assert.equal(Buffer.from(t.payloadHex, 'hex').toString(), 'valid 0');
});

test('a key, then transparent Ethernet bridging: the inner Ethernet header is decoded', () => {
  const { transports, weirds } = dissectHex(GRE_KEY_ETHERNET);
  assert.equal(weirds.total(), 0);
  const t = transports[0];
  assert.equal(t.macOffset, 14 + 20 + 8);
  assert.equal(t.ipOffset, 14 + 20 + 8 + 14);
  assert.equal(t.tunnelDepth, 1);
  assert.equal(t.srcPort, 1232);
  assert.equal(t.dstPort, 80);
});

test('PPTP (enhanced GRE, version 1) over IPv4-in-IPv6 reaches the PPP payload', () => {
  const { transports, weirds } = dissectHex(PPTP_GRE, { wirelen: 268 });
  assert.equal(weirds.total(), 0);
  assert.equal(transports.length, 1);
  const t = transports[0];
  assert.equal(t.tunnelDepth, 2, 'IPv6 → IPv4 → (GRE, PPP) → IPv4');
  assert.equal(t.vlan, 100);
  assert.deepEqual([t.src[0], t.dst[0]], [ipv4('8.8.8.8'), ipv4('172.16.44.3')]);
  assert.equal(t.srcPort, 53);
  assert.equal(t.ipOffset, 0x5e);
});

test('RFC 1701 source routing entries are skipped to the null entry', () => {
  // The gre-sample frame with R set (0x4000): checksum/offset (4 bytes), then one SRE (family 0x0800, offset
  // 0, length 4, one address), then the null SRE (0000 00 00). IP lengths grow by 16.
  const frame = parseHex(GRE_IPV4_ICMP);
  const sre = Buffer.from('00000000' + '0800 00 04 0a000001'.replace(/ /g, '') + '00000000', 'hex');
  const built = Buffer.concat([frame.subarray(0, 38), sre, frame.subarray(38)]);
  built.writeUInt16BE(0x6c + 16, 16);
  built[34] = 0x40;
  const { transports, weirds } = dissectFrame(built);
  assert.equal(weirds.total(), 0);
  assert.equal(transports[0].ipOffset, 14 + 20 + 4 + 16);
  assert.equal(transports[0].icmpType, 8);
});

test('GRE weirds: truncated_GRE, unknown_gre_version', () => {
  // The IP packet cut to 2 bytes of GRE (total length 22).
  const short = parseHex(GRE_IPV4_ICMP).subarray(0, 14 + 22);
  short.writeUInt16BE(22, 16);
  assert.deepEqual(weirdMap(dissectFrame(short).weirds), { truncated_GRE: 1 });
  // Key and sequence bits promise 8 more bytes than the 4 there are.
  const flags = parseHex(GRE_IPV4_ICMP).subarray(0, 14 + 28);
  flags.writeUInt16BE(28, 16);
  flags[34] = 0x30;
  assert.deepEqual(weirdMap(dissectFrame(flags).weirds), { truncated_GRE: 1 });
  for (const version of [2, 7]) {
    const frame = parseHex(GRE_IPV4_ICMP);
    frame[35] = version;
    const { transports, weirds } = dissectFrame(frame);
    assert.equal(transports.length, 0);
    assert.deepEqual(weirdMap(weirds), { unknown_gre_version: 1 });
  }
  // Version 1 is only PPTP, carrying PPP.
  const notPpp = parseHex(GRE_IPV4_ICMP);
  notPpp[35] = 1;
  assert.deepEqual(weirdMap(dissectFrame(notPpp).weirds), { unknown_gre_version: 1 });
});
