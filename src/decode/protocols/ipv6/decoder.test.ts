import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dissectFrame, dissectHex, ipv6, parseHex, weirdMap } from '../test-helpers.js';

// tshark -r corpus/ipv6/zeek__ipv6-hbh-routing0.pcap -x, frame 1: IPv6 payload length 59,
// 2001:4f8:4:7:2e0:81ff:fe52:ffff → 2001:4f8:4:7:2e0:81ff:fe52:9a6b, then hop-by-hop (8 bytes, PadN), then a
// type 0 routing header (40 bytes, segments left 2, addresses 2001:78:1:32::1 and ::2), then UDP 53 → 53.
const HBH_ROUTING0_UDP = `
0000  ff ff ff ff ff ff 00 00 00 00 00 00 86 dd 60 00   ..............\`.
0010  00 00 00 3b 00 40 20 01 04 f8 00 04 00 07 02 e0   ...;.@ .........
0020  81 ff fe 52 ff ff 20 01 04 f8 00 04 00 07 02 e0   ...R.. .........
0030  81 ff fe 52 9a 6b 2b 00 01 04 00 00 00 00 11 04   ...R.k+.........
0040  00 02 00 00 00 00 20 01 00 78 00 01 00 32 00 00   ...... ..x...2..
0050  00 00 00 00 00 01 20 01 00 78 00 01 00 32 00 00   ...... ..x...2..
0060  00 00 00 00 00 02 00 35 00 35 00 0b 86 31 58 58   .......5.5...1XX
0070  58                                                X
`;

// tshark -r corpus/ipv6/zeek__chksums-ip6-hoa-tcp-good-chksum.pcap -x, frame 1: destination options (24 bytes)
// holding a Home Address option (0xc9) 2001:78:1:32::1, then TCP 30000 → 80 SYN.
const HOME_ADDRESS_TCP = `
0000  ff ff ff ff ff ff 00 00 00 00 00 00 86 dd 60 00   ..............\`.
0010  00 00 00 2c 3c 40 20 01 04 f8 00 04 00 07 02 e0   ...,<@ .........
0020  81 ff fe 52 ff ff 20 01 04 f8 00 04 00 07 02 e0   ...R.. .........
0030  81 ff fe 52 9a 6b 06 02 01 02 00 00 c9 10 20 01   ...R.k........ .
0040  00 78 00 01 00 32 00 00 00 00 00 00 00 01 75 30   .x...2........u0
0050  00 50 00 00 00 00 00 00 00 00 50 02 20 00 b7 13   .P........P. ...
0060  00 00                                             ..
`;

// tshark -r corpus/ipv6/tcpdump__ipv6-srh-ext-header.pcap -x, frame 1: a segment routing header (type 4,
// 40 bytes, segments left 1) whose next header is IPv6 (41): an ICMPv6 echo request a:b:c:12::1 → b2::2 inside.
const SRH_IPV6_ICMP6 = `
0000  08 00 27 20 6b cf 08 00 27 c2 2d a5 86 dd 60 08   ..' k...'.-...\`.
0010  89 ad 00 90 2b 40 00 0a 00 0b 00 0c 00 12 00 00   ....+@..........
0020  00 00 00 00 00 01 00 0a 00 0b 00 0c 00 02 00 00   ................
0030  00 00 00 f1 00 00 29 04 04 01 01 00 00 00 00 0a   ......).........
0040  00 0b 00 0c 00 03 00 00 00 00 00 00 00 d6 00 0a   ................
0050  00 0b 00 0c 00 02 00 00 00 00 00 f1 00 00 60 08   ..............\`.
0060  89 ad 00 40 3a 40 00 0a 00 0b 00 0c 00 12 00 00   ...@:@..........
0070  00 00 00 00 00 01 00 b2 00 00 00 00 00 00 00 00   ................
0080  00 00 00 00 00 02 80 00 63 5e 06 ee 00 01 03 c5   ........c^......
0090  47 5a 00 00 00 00 0a 5e 00 00 00 00 00 00 10 11   GZ.....^........
00a0  12 13 14 15 16 17 18 19 1a 1b 1c 1d 1e 1f 20 21   .............. !
00b0  22 23 24 25 26 27 28 29 2a 2b 2c 2d 2e 2f 30 31   "#$%&'()*+,-./01
00c0  32 33 34 35 36 37                                 234567
`;

// tshark -r corpus/ipv6/libpcap__ipv6_ah_modes.pcap -x, frame 1: AH in transport mode (payload length 3 →
// (3 + 2) × 4 = 20 bytes), then UDP 12345 → 54321 with "Hello, this is a test payload!".
const AH_UDP = `
0000  aa bb cc dd ee ff 00 11 22 33 44 55 86 dd 60 00   ........"3DU..\`.
0010  00 00 00 3a 33 40 20 01 0d b8 00 00 00 00 00 00   ...:3@ .........
0020  00 00 00 00 00 01 20 01 0d b8 00 00 00 00 00 00   ...... .........
0030  00 00 00 00 00 02 11 03 00 00 12 34 56 78 00 00   ...........4Vx..
0040  00 00 01 01 01 01 01 01 01 01 30 39 d4 31 00 26   ..........09.1.&
0050  3e 99 48 65 6c 6c 6f 2c 20 74 68 69 73 20 69 73   >.Hello, this is
0060  20 61 20 74 65 73 74 20 70 61 79 6c 6f 61 64 21    a test payload!
`;

// tshark -r corpus/ipv6/pcpp__ipv6-frag.pcap -x, frames 3 and 4, first 80 of 1510 bytes: fragments of one
// UDP datagram (id 0xf88eb466). Frame 3: offset 0, M set, UDP 6363 → 6363 length 5387. Frame 4: offset 1448.
const FIRST_FRAGMENT = `
0000  00 1d 09 94 65 38 68 5b 35 c0 61 b6 86 dd 60 02   ....e8h[5.a...\`.
0010  12 89 05 b0 2c 40 26 07 f0 10 03 f9 00 00 00 00   ....,@&.........
0020  00 00 00 00 10 01 26 07 f0 10 03 f9 00 00 00 00   ......&.........
0030  00 00 00 11 00 00 11 00 00 01 f8 8e b4 66 18 db   .............f..
0040  18 db 15 0b 79 16 06 fd 14 ff 07 29 08 07 65 78   ....y......)..ex
`;
const SECOND_FRAGMENT = `
0000  00 1d 09 94 65 38 68 5b 35 c0 61 b6 86 dd 60 02   ....e8h[5.a...\`.
0010  12 89 05 b0 2c 40 26 07 f0 10 03 f9 00 00 00 00   ....,@&.........
0020  00 00 00 00 10 01 26 07 f0 10 03 f9 00 00 00 00   ......&.........
0030  00 00 00 11 00 00 11 00 05 a9 f8 8e b4 66 68 68   .............fhh
0040  68 68 68 68 68 68 68 68 68 68 68 68 68 68 68 68   hhhhhhhhhhhhhhhh
`;

// tshark -r corpus/ipv6/zeek__ip6_esp.pcap -x, frame 2, first 64 of 170 bytes: ESP (50) directly after IPv6.
const ESP = `
0000  00 00 00 00 00 02 00 11 43 4a d7 0a 86 dd 60 00   ........CJ....\`.
0010  00 00 00 74 32 40 3f fe 00 00 00 00 00 00 00 00   ...t2@?.........
0020  00 00 00 00 00 01 3f fe 00 00 00 00 00 00 00 00   ......?.........
0030  00 00 00 00 00 02 00 00 00 0a 00 00 00 01 97 1f   ................
`;

// tshark -r corpus/ipv6/tcpdump__ipv6_mobility_1.pcap -x, frame 1 (LINKTYPE_IPV6): a Mobility header (135).
const MOBILITY = `
0000  60 00 00 00 00 08 87 40 20 01 0d b8 00 00 00 00   \`......@ .......
0010  00 00 00 00 00 00 00 01 20 01 0d b8 00 00 00 00   ........ .......
0020  00 00 00 00 00 00 00 02 3b 00 00 00 00 00 00 00   ........;.......
`;

test('hop-by-hop and a type 0 routing header: walked to UDP; the final destination is the last address', () => {
  const { transports, weirds } = dissectHex(HBH_ROUTING0_UDP);
  assert.equal(transports.length, 1);
  const t = transports[0];
  assert.equal(t.ipVersion, 6);
  assert.equal(t.ipOffset, 14);
  assert.equal(t.ipHeaderLength, 40 + 8 + 40);
  assert.equal(t.ipLength, 59 + 40);
  assert.equal(t.ipProto, 17);
  assert.equal(t.ttl, 64);
  assert.deepEqual(t.src, ipv6('2001:4f8:4:7:2e0:81ff:fe52:ffff'));
  assert.deepEqual(t.dst, ipv6('2001:78:1:32::2'), 'as tshark and Zeek key the connection');
  assert.equal(t.srcPort, 53);
  assert.equal(t.payloadOffset, 14 + 88 + 8);
  assert.equal(t.payloadLength, 3);
  assert.equal(t.isFragment, false);
  assert.equal(weirds.total(), 0);
});

test('a Home Address destination option names the real source', () => {
  const t = dissectHex(HOME_ADDRESS_TCP).transports[0];
  assert.equal(t.ipHeaderLength, 40 + 24);
  assert.equal(t.ipProto, 6);
  assert.deepEqual(t.src, ipv6('2001:78:1:32::1'));
  assert.deepEqual(t.dst, ipv6('2001:4f8:4:7:2e0:81ff:fe52:9a6b'));
  assert.equal(t.srcPort, 30000);
  assert.equal(t.dstPort, 80);
});

test('a segment routing header leading to IPv6-in-IPv6: one tunnel level, the inner packet decoded', () => {
  const { transports, layers } = dissectHex(SRH_IPV6_ICMP6);
  assert.equal(transports.length, 1);
  const t = transports[0];
  assert.equal(t.tunnelDepth, 1);
  assert.equal(t.ipOffset, 14 + 40 + 40);
  assert.equal(t.ipHeaderLength, 40);
  assert.equal(t.ipLength, 64 + 40);
  assert.deepEqual(t.src, ipv6('a:b:c:12::1'));
  assert.deepEqual(t.dst, ipv6('b2::2'));
  assert.equal(t.transport, 58);
  assert.equal(t.icmpType, 128);
  assert.equal(layers.ipv6, 2);
});

test('AH is skipped by its own length rule ((len + 2) × 4)', () => {
  const t = dissectHex(AH_UDP).transports[0];
  assert.equal(t.ipHeaderLength, 40 + 20);
  assert.equal(t.ipProto, 17);
  assert.equal(t.srcPort, 12345);
  assert.equal(t.dstPort, 54321);
  assert.equal(Buffer.from(t.payloadHex, 'hex').toString(), 'Hello, this is a test payload!');
});

test('fragment header: the first fragment reaches UDP, a later one stops', () => {
  const first = dissectHex(FIRST_FRAGMENT, { wirelen: 1510 });
  assert.equal(first.weirds.total(), 0);
  const t = first.transports[0];
  assert.equal(t.isFragment, true);
  assert.equal(t.moreFragments, true);
  assert.equal(t.fragOffset, 0);
  assert.equal(t.ipHeaderLength, 48);
  assert.equal(t.ipProto, 17);
  assert.equal(t.srcPort, 6363);
  assert.equal(t.payloadWireLength, 5387 - 8, 'the whole datagram, from the UDP length');

  const second = dissectHex(SECOND_FRAGMENT, { wirelen: 1510 });
  assert.equal(second.transports.length, 0);
  assert.equal(second.final.isFragment, true);
  assert.equal(second.final.fragOffset, 1448);
  assert.equal(second.final.moreFragments, true);
  assert.equal(second.final.ipProto, 17);
  assert.equal(second.final.ipHeaderLength, 48);
  assert.equal(second.weirds.total(), 0);
});

test('ESP, Mobility and No Next Header end the chain without a transport', () => {
  const esp = dissectHex(ESP, { wirelen: 170 });
  assert.equal(esp.transports.length, 0);
  assert.equal(esp.final.ipProto, 50);
  assert.equal(esp.final.ipHeaderLength, 40);
  const mobility = dissectHex(MOBILITY, { linkType: 229 });
  assert.equal(mobility.transports.length, 0);
  assert.equal(mobility.final.ipProto, 135);
  const none = parseHex(MOBILITY);
  none[6] = 59;
  const noNext = dissectFrame(none, { linkType: 229 });
  assert.equal(noNext.final.ipProto, 59);
  assert.equal(esp.weirds.total() + mobility.weirds.total() + noNext.weirds.total(), 0);
});

/**
 * A jumbogram built by hand (RFC 2675): Ethernet; IPv6 2001:db8::1 → ::2 with payload length `payloadLength`
 * (0 for a real jumbogram); hop-by-hop of 8 bytes (next header 17, length 0, option 0xC2 length 4 holding
 * `jumboLength`); UDP 12345 → 1234 with length 0; 16 bytes of payload, the rest cut by a snaplen.
 */
function jumbogram(jumboLength: number, payloadLength = 0): { frame: Buffer; wirelen: number } {
  const ip = Buffer.from(
    '60000000' + payloadLength.toString(16).padStart(4, '0') + '0040' + '20010db8000000000000000000000001' + '20010db8000000000000000000000002',
    'hex',
  );
  const hbh = Buffer.from('1100c204' + jumboLength.toString(16).padStart(8, '0'), 'hex');
  const udp = Buffer.from('303904d20000' + '0000', 'hex');
  const eth = Buffer.from('aabbccddeeff00112233445586dd', 'hex');
  const frame = Buffer.concat([eth, ip, hbh, udp, Buffer.alloc(16, 0x61)]);
  return { frame, wirelen: 14 + 40 + jumboLength };
}

test('a jumbogram: the length comes from the Jumbo Payload option; UDP length 0 is allowed', () => {
  const { frame, wirelen } = jumbogram(70000);
  // The frame on the wire also held a 4-byte FCS: the IP length must come from the option, not the frame.
  const { transports, weirds } = dissectFrame(frame, { wirelen: wirelen + 4 });
  assert.equal(weirds.total(), 0);
  const t = transports[0];
  assert.equal(t.ipLength, 70040);
  assert.equal(t.ipHeaderLength, 48);
  assert.equal(t.srcPort, 12345);
  assert.equal(t.payloadLength, 16);
  assert.equal(t.payloadWireLength, 70000 - 8 - 8);
});

test('jumbo option misuse: ipv6_bad_jumbo; payload length 0 with hop-by-hop but no jumbo: ipv6_missing_jumbo_option', () => {
  // Under 65536 a jumbo length is invalid; UDP length 0 is then no longer excused either.
  const small = jumbogram(1000);
  assert.deepEqual(weirdMap(dissectFrame(small.frame, { wirelen: small.wirelen }).weirds), { ipv6_bad_jumbo: 1, UDP_datagram_length_mismatch: 1 });
  const withLength = jumbogram(70000, 32);
  assert.equal(dissectFrame(withLength.frame).weirds.get('ipv6_bad_jumbo'), 1);
  const missing = jumbogram(70000);
  missing.frame[14 + 40 + 2] = 0x01; // the jumbo option becomes PadN
  assert.equal(dissectFrame(missing.frame).weirds.get('ipv6_missing_jumbo_option'), 1);
});

test('payload length 0 without hop-by-hop (BIG TCP / offload) takes the length from the frame', () => {
  const frame = parseHex(HOME_ADDRESS_TCP);
  frame.writeUInt16BE(0, 14 + 4);
  const { transports, weirds } = dissectFrame(frame);
  assert.equal(weirds.total(), 0);
  assert.equal(transports[0].ipLength, frame.length - 14);
});

test('malformed IPv6 is a named weird', () => {
  const cases: Array<[string, () => Buffer, string]> = [
    ['version 4 in an IPv6 EtherType', () => ((f) => ((f[14] = 0x40), f))(parseHex(HBH_ROUTING0_UDP)), 'unknown_ip_version'],
    ['39 bytes of header', () => parseHex(HBH_ROUTING0_UDP).subarray(0, 14 + 39), 'truncated_IP'],
    // The routing header's length byte says 8 × (1 + 9) = 80 bytes: past the 59-byte payload.
    ['extension header past the payload length', () => ((f) => ((f[14 + 48 + 1] = 9), f))(parseHex(HBH_ROUTING0_UDP)), 'ipv6_bad_ext_header'],
  ];
  for (const [what, make, weird] of cases) {
    const { transports, weirds } = dissectFrame(make());
    assert.equal(transports.length, 0, what);
    assert.deepEqual(weirdMap(weirds), { [weird]: 1 }, what);
  }
});

test('payload length past the frame: truncated_IP_len (a snaplen cut is not)', () => {
  const frame = parseHex(AH_UDP).subarray(0, 14 + 40 + 20 + 8 + 4);
  assert.deepEqual(weirdMap(dissectFrame(frame).weirds), { truncated_IP_len: 1 });
  assert.equal(dissectFrame(frame, { wirelen: 112 }).weirds.total(), 0);
  // An extension header cut by the end of a short packet: still only truncated_IP_len.
  const cut = parseHex(HBH_ROUTING0_UDP).subarray(0, 14 + 40 + 8 + 20);
  const r = dissectFrame(cut);
  assert.deepEqual(weirdMap(r.weirds), { truncated_IP_len: 1 });
  assert.equal(r.transports.length, 0);
});

