import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SYN, tcp4, udp4 } from './test-frames.test-util.js';

// `tshark -r tf.pcap -x` of the two frames below, written with encodePcap; tshark -V said
// "Header Checksum: 0x45dd [correct]", "Src Port: 40000, Dst Port: 53", "Length: 20" for the first and
// "Header Checksum: 0x3419 [correct]", "Flags: 0x002 (SYN)", "Seq: 0" (relative) for the second.
const UDP_DUMP = `
0000  02 00 00 00 00 02 02 00 00 00 00 01 08 00 45 00
0010  00 28 00 00 40 00 40 11 45 dd c0 a8 0a 05 c6 33
0020  64 07 9c 40 00 35 00 14 00 00 00 00 00 00 00 00
0030  00 00 00 00 00 00`;
const TCP_DUMP = `
0000  02 00 00 00 00 02 02 00 00 00 00 01 08 00 45 00
0010  00 28 00 00 40 00 40 06 34 19 c0 a8 0a 05 cb 00
0020  71 09 c3 50 01 bb 00 00 03 e8 00 00 00 00 50 02
0030  ff ff 00 00 00 00`;

function fromDump(dump: string): string {
  return dump
    .trim()
    .split('\n')
    .map((line) => line.slice(6).replace(/\s+/g, ''))
    .join('');
}

test('the hand-built UDP frame is the bytes tshark decoded', () => {
  assert.equal(udp4('192.168.10.5', '198.51.100.7', 40000, 53, 12).toString('hex'), fromDump(UDP_DUMP));
});

test('the hand-built TCP frame is the bytes tshark decoded', () => {
  assert.equal(tcp4('192.168.10.5', '203.0.113.9', 50000, 443, SYN, 1000, 0).toString('hex'), fromDump(TCP_DUMP));
});
