import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  TCP_ACK,
  TCP_OPT_MSS,
  TCP_OPT_SACK,
  TCP_OPT_SACK_PERMITTED,
  TCP_OPT_TIMESTAMP,
  TCP_OPT_WSCALE,
  TCP_RST,
  TCP_SYN,
} from '../../packet.js';
import { dissectFrame, dissectHex, ipv4, parseHex, weirdMap } from '../test-helpers.js';

// tshark -r corpus/tcp/zeek__tcp-syn-synack.pcap -x, frame 1: 141.142.228.5:59856 → 192.150.187.43:80 SYN,
// options MSS=1460, NOP, WS=4 (x16), NOP, NOP, TS val=374005024 ecr=0, SACK_PERM, EOL, EOL.
const SYN = `
0000  00 10 db 88 d2 ef c8 bc c8 96 d2 a0 08 00 45 00   ..............E.
0010  00 40 df 8e 40 00 40 06 6d d3 8d 8e e4 05 c0 96   .@..@.@.m.......
0020  bb 2b e9 d0 00 50 fe 21 32 3a 00 00 00 00 b0 02   .+...P.!2:......
0030  ff ff 3b c0 00 00 02 04 05 b4 01 03 03 04 01 01   ..;.............
0040  08 0a 16 4a dd 20 00 00 00 00 04 02 00 00         ...J. ........
`;

// Same file, frame 2: the SYN-ACK; seq 2779762238 and ack 4263588411 are above 2^31 (must stay unsigned).
const SYN_ACK = `
0000  c8 bc c8 96 d2 a0 00 10 db 88 d2 ef 08 00 45 00   ..............E.
0010  00 3c 00 00 40 00 2f 06 5e 66 c0 96 bb 2b 8d 8e   .<..@./.^f...+..
0020  e4 05 00 50 e9 d0 a5 af ce 3e fe 21 32 3b a0 12   ...P.....>.!2;..
0030  38 90 2e 50 00 00 02 04 05 b4 04 02 08 0a 2f 89   8..P........../.
0040  42 59 16 4a dd 20 01 03 03 07                     BY.J. ....
`;

// tshark -r corpus/tcp/zeek__tcp-option-sack.pcap -x, frame 2: a SYN whose only option is SACK with two
// blocks (kind 5, length 18): 1-16 and 256-4096.
const SACK = `
0000  ff ff ff ff ff ff 00 00 00 00 00 00 08 00 45 00   ..............E.
0010  00 3c 00 01 00 00 40 06 7c b9 7f 00 00 01 7f 00   .<....@.|.......
0020  00 01 00 14 00 50 00 00 00 00 00 00 00 00 a0 02   .....P..........
0030  20 00 2b 45 00 00 05 12 00 00 00 01 00 00 00 10    .+E............
0040  00 00 01 00 00 00 10 00 00 00                     ..........
`;

// tshark -r corpus/mixed/dnscap__ether_padd.pcap -x, frame 1: a 40-byte IPv4 RST in a 60-byte Ethernet
// frame; the last 6 bytes are Ethernet padding, not TCP payload.
const PADDED_RST = `
0000  00 00 00 00 00 02 00 00 00 00 00 01 08 00 45 00   ..............E.
0010  00 28 00 00 40 00 34 06 e0 f6 c0 00 02 01 c0 00   .(..@.4.........
0020  02 02 01 bb ad 9a 01 53 b6 3f 00 00 00 00 50 04   .......S.?....P.
0030  00 00 e3 1e 00 00 00 00 00 00 00 00               ............
`;

test('a SYN: ports, unsigned numbers, flags, window and every option', () => {
  const { transports, weirds } = dissectHex(SYN);
  assert.equal(transports.length, 1);
  const t = transports[0];
  assert.equal(t.transport, 6);
  assert.deepEqual([t.src[0], t.dst[0]], [ipv4('141.142.228.5'), ipv4('192.150.187.43')]);
  assert.equal(t.srcPort, 59856);
  assert.equal(t.dstPort, 80);
  assert.equal(t.seq, 4263588410);
  assert.equal(t.ack, 0);
  assert.equal(t.tcpFlags, TCP_SYN);
  assert.equal(t.window, 65535);
  assert.equal(t.tcpHeaderLength, 44);
  assert.equal(t.tcpOptions, TCP_OPT_MSS | TCP_OPT_WSCALE | TCP_OPT_TIMESTAMP | TCP_OPT_SACK_PERMITTED);
  assert.equal(t.mss, 1460);
  assert.equal(t.windowScale, 4);
  assert.equal(t.tsVal, 374005024);
  assert.equal(t.tsEcr, 0);
  assert.equal(t.payloadOffset, 14 + 20 + 44);
  assert.equal(t.payloadLength, 0);
  assert.equal(t.payloadWireLength, 0);
  assert.equal(weirds.total(), 0);
});

test('a SYN-ACK keeps sequence and acknowledgment numbers above 2^31 unsigned', () => {
  const t = dissectHex(SYN_ACK).transports[0];
  assert.equal(t.seq, 2779762238);
  assert.equal(t.ack, 4263588411);
  assert.equal(t.tcpFlags, TCP_SYN | TCP_ACK);
  assert.equal(t.window, 14480);
  assert.equal(t.ttl, 47);
  assert.equal(t.windowScale, 7);
  assert.equal(t.tsVal, 797524569);
  assert.equal(t.tsEcr, 374005024);
});

test('a SACK option is recognised; options absent from the segment read as 0', () => {
  const { transports, weirds } = dissectHex(SACK);
  const t = transports[0];
  assert.equal(t.tcpOptions, TCP_OPT_SACK);
  assert.equal(t.mss, 0);
  assert.equal(t.tsVal, 0);
  assert.equal(t.tcpHeaderLength, 40);
  assert.equal(weirds.total(), 0);
});

test('Ethernet padding after a short IP packet is not payload', () => {
  const { transports } = dissectHex(PADDED_RST);
  const t = transports[0];
  assert.equal(t.tcpFlags, TCP_RST);
  assert.equal(t.ipLength, 40);
  assert.equal(t.payloadLength, 0);
  assert.equal(t.payloadWireLength, 0);
});

test('payload bounds point at the data; a snaplen cut shortens the captured payload only', () => {
  // The SYN-ACK above with 5 bytes of data appended ("hello") and IP total length 60 → 65 (0x41).
  const frame = Buffer.concat([parseHex(SYN_ACK), Buffer.from('hello')]);
  frame.writeUInt16BE(65, 14 + 2);
  const whole = dissectFrame(frame).transports[0];
  assert.equal(whole.payloadLength, 5);
  assert.equal(whole.payloadWireLength, 5);
  assert.equal(Buffer.from(whole.payloadHex, 'hex').toString(), 'hello');
  // Captured with a snaplen that kept 2 of the 5 bytes: the wire length still says 5, and it is no weird.
  const cut = dissectFrame(frame.subarray(0, frame.length - 3), { wirelen: frame.length });
  assert.equal(cut.transports[0].payloadLength, 2);
  assert.equal(cut.transports[0].payloadWireLength, 5);
  assert.equal(cut.weirds.total(), 0);
});

test('the NS bit (byte 12) stays out of tcpFlags', () => {
  const frame = parseHex(SYN);
  frame[14 + 20 + 12] |= 0x01;
  assert.equal(dissectFrame(frame).transports[0].tcpFlags, TCP_SYN);
});

test('data offset under 5 words: bad_TCP_header_len, and nothing reaches the sink', () => {
  const frame = parseHex(SYN);
  frame[14 + 20 + 12] = 0x40; // 4 words = 16 bytes
  const { transports, weirds } = dissectFrame(frame);
  assert.equal(transports.length, 0);
  assert.deepEqual(weirdMap(weirds), { bad_TCP_header_len: 1 });
});

test("data offset past the IP packet: truncated_header, as Zeek's TCP analyzer names it", () => {
  const frame = parseHex(SYN);
  frame[14 + 20 + 12] = 0xf0; // 15 words = 60 bytes, but the IP packet holds only 44 after its header
  const { transports, weirds } = dissectFrame(frame);
  assert.equal(transports.length, 0);
  assert.deepEqual(weirdMap(weirds), { truncated_header: 1 });
});

test('a header cut short: truncated_header', () => {
  // The SYN cut after 10 bytes of TCP header, with IP total length 30 to match: a short packet, not a snaplen cut.
  const frame = parseHex(SYN).subarray(0, 14 + 20 + 10);
  frame.writeUInt16BE(30, 14 + 2);
  const { transports, weirds } = dissectFrame(frame);
  assert.equal(transports.length, 0);
  assert.deepEqual(weirdMap(weirds), { truncated_header: 1 });
});

test('malformed options are a weird but the segment is still used', () => {
  const cases: Array<[string, (f: Buffer) => void]> = [
    // The MSS option's length byte (at option offset 1) set to 1: below the minimum of 2.
    ['length under 2', (f) => (f[54 + 1] = 1)],
    // The timestamp option's length set to 40: past the end of the header.
    ['length past the header', (f) => (f[54 + 11] = 40)],
    // The window scale option (kind 3) given length 4: wrong for its kind; reading goes on after it.
    ['wrong length for the kind', (f) => (f[54 + 6] = 4)],
  ];
  for (const [what, patch] of cases) {
    const frame = parseHex(SYN);
    patch(frame);
    const { transports, weirds } = dissectFrame(frame);
    assert.equal(transports.length, 1, what);
    assert.deepEqual(weirdMap(weirds), { tcp_bad_option: 1 }, what);
  }
  // The options before the bad one were kept.
  const frame = parseHex(SYN);
  frame[54 + 11] = 40;
  const t = dissectFrame(frame).transports[0];
  assert.equal(t.tcpOptions, TCP_OPT_MSS | TCP_OPT_WSCALE);
  assert.equal(t.mss, 1460);
});
