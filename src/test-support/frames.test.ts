/**
 * The test frame builders against tshark's view of their output. Every dump below is `tshark -r F -x` of
 * the frame built by the call beside it, written to a pcap with encodePcap; `tshark -V` (with
 * `-o ip.check_checksum:TRUE`) read every IPv4 header checksum as [correct].
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { META_CAPLEN, META_IFACE, META_OFFSET, META_STRIDE, META_WIRELEN } from '../capture/batch.js';
import { parseHex } from '../decode/protocols/test-helpers.js';
import { ACK, PSH, SYN, arp, batchOf, dnsMessage, icmpEcho, icmpPortUnreachable, tcp4, udp4 } from './frames.js';

test('udp4() with a payload count: zero bytes after the header', () => {
  // tshark: "192.168.10.5 → 198.51.100.7 ... Src Port: 40000, Dst Port: 53", UDP "Length: 20",
  // "Header Checksum: 0x45dd [correct]", UDP "Checksum: 0x0000 [zero-value ignored]".
  const dump = `
    0000  02 00 00 00 00 02 02 00 00 00 00 01 08 00 45 00
    0010  00 28 00 00 40 00 40 11 45 dd c0 a8 0a 05 c6 33
    0020  64 07 9c 40 00 35 00 14 00 00 00 00 00 00 00 00
    0030  00 00 00 00 00 00`;
  assert.deepEqual(udp4('192.168.10.5', '198.51.100.7', 40000, 53, 12), parseHex(dump));
});

test('udp4() with a Buffer payload: a DNS query from dnsMessage()', () => {
  // tshark: "10.0.0.5 → 10.0.0.1 DNS 75 Standard query 0x0007 A www.example.com", UDP "Length: 41",
  // "Flags: 0x0100 Standard query", "www.example.com: type A, class IN".
  const dump = `
    0000  02 00 00 00 00 02 02 00 00 00 00 01 08 00 45 00
    0010  00 3d 00 00 40 00 40 11 26 ab 0a 00 00 05 0a 00
    0020  00 01 9c 40 00 35 00 29 00 00 00 07 01 00 00 01
    0030  00 00 00 00 00 00 03 77 77 77 07 65 78 61 6d 70
    0040  6c 65 03 63 6f 6d 00 00 01 00 01`;
  assert.deepEqual(udp4('10.0.0.5', '10.0.0.1', 40000, 53, dnsMessage(7, false, 'www.example.com')), parseHex(dump));
});

test('a payload count and that many zero bytes as a Buffer build the same frame', () => {
  assert.deepEqual(udp4('10.0.0.5', '10.0.0.9', 1, 2, 4), udp4('10.0.0.5', '10.0.0.9', 1, 2, Buffer.alloc(4)));
  assert.deepEqual(tcp4('10.0.0.5', '10.0.0.9', 1, 2, ACK, 1, 1, 7), tcp4('10.0.0.5', '10.0.0.9', 1, 2, ACK, 1, 1, Buffer.alloc(7)));
});

test('tcp4() builds a SYN', () => {
  // tshark: "192.168.10.5 → 203.0.113.9 TCP 54 50000 → 443 [SYN] Seq=0 Win=64240 Len=0" (Seq relative;
  // raw 1000), "Header Checksum: 0x3419 [correct]". (The old stats builder's dump, with the window re-derived.)
  const dump = `
    0000  02 00 00 00 00 02 02 00 00 00 00 01 08 00 45 00
    0010  00 28 00 00 40 00 40 06 34 19 c0 a8 0a 05 cb 00
    0020  71 09 c3 50 01 bb 00 00 03 e8 00 00 00 00 50 02
    0030  fa f0 00 00 00 00`;
  assert.deepEqual(tcp4('192.168.10.5', '203.0.113.9', 50000, 443, SYN, 1000, 0), parseHex(dump));
});

test('tcp4() with a Buffer payload', () => {
  // tshark: "10.0.0.5 → 10.0.0.9 HTTP 72 GET / HTTP/1.0", "Flags: 0x018 (PSH, ACK)", "Window: 64240",
  // "Header Checksum: 0x26b1 [correct]".
  const dump = `
    0000  02 00 00 00 00 02 02 00 00 00 00 01 08 00 45 00
    0010  00 3a 00 00 40 00 40 06 26 b1 0a 00 00 05 0a 00
    0020  00 09 9c 40 00 50 00 00 03 e9 00 00 13 89 50 18
    0030  fa f0 00 00 00 00 47 45 54 20 2f 20 48 54 54 50
    0040  2f 31 2e 30 0d 0a 0d 0a`;
  assert.deepEqual(tcp4('10.0.0.5', '10.0.0.9', 40000, 80, PSH | ACK, 1001, 5001, Buffer.from('GET / HTTP/1.0\r\n\r\n', 'ascii')), parseHex(dump));
});

test('icmpEcho() builds an echo request with a correct checksum', () => {
  // tshark: "10.0.0.5 → 10.0.0.9 ICMP 50 Echo (ping) request id=0x0007, seq=1/256, ttl=64",
  // "Checksum: 0xf7f7 [correct]", "Header Checksum: 0x26cc [correct]".
  const dump = `
    0000  02 00 00 00 00 02 02 00 00 00 00 01 08 00 45 00
    0010  00 24 00 00 40 00 40 01 26 cc 0a 00 00 05 0a 00
    0020  00 09 08 00 f7 f7 00 07 00 01 00 00 00 00 00 00
    0030  00 00`;
  assert.deepEqual(icmpEcho('10.0.0.5', '10.0.0.9', 8, 7, 1), parseHex(dump));
});

test('arp() builds an ARP reply addressed to the target MAC', () => {
  // tshark: "02:00:00:00:00:66 → 02:00:00:00:00:0a ARP 42 10.0.0.1 is at 02:00:00:00:00:66".
  const dump = `
    0000  02 00 00 00 00 0a 02 00 00 00 00 66 08 06 00 01
    0010  08 00 06 04 00 02 02 00 00 00 00 66 0a 00 00 01
    0020  02 00 00 00 00 0a 0a 00 00 05`;
  assert.deepEqual(arp(2, [0x02, 0, 0, 0, 0, 0x66], '10.0.0.1', [0x02, 0, 0, 0, 0, 0x0a], '10.0.0.5'), parseHex(dump));
});

test('arp() sends a request to broadcast', () => {
  const req = arp(1, [0x02, 0, 0, 0, 0, 0x0a], '10.0.0.5', [0, 0, 0, 0, 0, 0], '10.0.0.1');
  assert.equal(req.subarray(0, 6).toString('hex'), 'ffffffffffff');
  assert.equal(req.readUInt16BE(14 + 6), 1, 'opcode request');
});

test('batchOf() lays the frames end to end with their lengths and times', () => {
  const a = udp4('10.0.0.5', '10.0.0.9', 1, 2, 3);
  const b = tcp4('10.0.0.9', '10.0.0.5', 2, 1, ACK, 1, 1);
  const batch = batchOf([{ ts: 10.5, bytes: a }, { ts: 11.25, bytes: b }]);
  assert.equal(batch.count, 2);
  assert.deepEqual(batch.linkTypes, [1]);
  assert.deepEqual([...batch.ts], [10.5, 11.25]);
  assert.deepEqual(batch.data, Buffer.concat([a, b]));
  const m = (i: number, field: number) => batch.meta[i * META_STRIDE + field];
  assert.deepEqual([m(0, META_OFFSET), m(0, META_CAPLEN), m(0, META_WIRELEN), m(0, META_IFACE)], [0, a.length, a.length, 0]);
  assert.deepEqual([m(1, META_OFFSET), m(1, META_CAPLEN), m(1, META_WIRELEN), m(1, META_IFACE)], [a.length, b.length, b.length, 0]);
});

test('icmpPortUnreachable() quotes the offending IPv4 header and 8 bytes', () => {
  // tshark: "10.0.0.9 → 10.0.0.66 ICMP 70 Destination unreachable (Port unreachable)", "Header Checksum:
  // 0x267b [correct]", ICMP "Checksum: 0x60a7 [correct]"; the quoted header "0x2683 [correct]", UDP 40000 → 9.
  const dump = `
    0000  02 00 00 00 00 02 02 00 00 00 00 01 08 00 45 00
    0010  00 38 00 00 40 00 40 01 26 7b 0a 00 00 09 0a 00
    0020  00 42 03 03 60 a7 00 00 00 00 45 00 00 20 00 00
    0030  40 00 40 11 26 83 0a 00 00 42 0a 00 00 09 9c 40
    0040  00 09 00 0c 00 00`;
  assert.deepEqual(icmpPortUnreachable('10.0.0.9', '10.0.0.66', udp4('10.0.0.66', '10.0.0.9', 40000, 9, 4)), parseHex(dump));
});
