/**
 * The test frame builders against tshark's view of their output. Dumps are `tshark -x` of the four frames
 * below written to a pcap; tshark decoded them as: "10.0.0.5 → 10.0.0.9 TCP 54 40000 → 22 [SYN] Seq=0
 * Win=64240 Len=0", a UDP datagram 40001 → 53 with 4 bytes, "Echo (ping) request id=0x0007, seq=1"
 * (ICMP checksum 0x7272 [correct]), and "10.0.0.1 is at 02:00:00:00:00:66".
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseHex } from '../../decode/protocols/test-helpers.js';
import { ACK, SYN, arp, icmpEcho, runFrames, tcp, udp } from './frames.js';

test('tcp() builds Ethernet/IPv4/TCP SYN as tshark reads it', () => {
  const dump = `
    0000  02 00 00 00 00 0b 02 00 00 00 00 0a 08 00 45 00
    0010  00 28 00 00 40 00 40 06 26 c3 0a 00 00 05 0a 00
    0020  00 09 9c 40 00 16 00 00 03 e8 00 00 00 00 50 02
    0030  fa f0 00 00 00 00`;
  assert.deepEqual(tcp('10.0.0.5', '10.0.0.9', 40000, 22, SYN, 1000, 0), parseHex(dump));
});

test('udp() builds Ethernet/IPv4/UDP with 4 bytes of payload', () => {
  const dump = `
    0000  02 00 00 00 00 0b 02 00 00 00 00 0a 08 00 45 00
    0010  00 20 00 00 40 00 40 11 26 c0 0a 00 00 05 0a 00
    0020  00 09 9c 41 00 35 00 0c 00 00 61 61 61 61`;
  assert.deepEqual(udp('10.0.0.5', '10.0.0.9', 40001, 53, 4), parseHex(dump));
});

test('icmpEcho() builds an echo request with a correct checksum', () => {
  const dump = `
    0000  02 00 00 00 00 0b 02 00 00 00 00 0a 08 00 45 00
    0010  00 24 00 00 40 00 40 01 26 cc 0a 00 00 05 0a 00
    0020  00 09 08 00 72 72 00 07 00 01 61 61 61 61 61 61
    0030  61 61`;
  assert.deepEqual(icmpEcho('10.0.0.5', '10.0.0.9', 8, 7, 1), parseHex(dump));
});

test('arp() builds an ARP reply', () => {
  const dump = `
    0000  02 00 00 00 00 0a 02 00 00 00 00 66 08 06 00 01
    0010  08 00 06 04 00 02 02 00 00 00 00 66 0a 00 00 01
    0020  02 00 00 00 00 0a 0a 00 00 05`;
  assert.deepEqual(arp(2, [0x02, 0, 0, 0, 0, 0x66], '10.0.0.1', [0x02, 0, 0, 0, 0, 0x0a], '10.0.0.5'), parseHex(dump));
});

test('runFrames: the engine sees the frames (a conn record per flow) and detection runs beside it', async () => {
  const run = await runFrames([
    { ts: 100, bytes: tcp('10.0.0.5', '10.0.0.9', 40000, 22, SYN, 1000, 0) },
    { ts: 100.001, bytes: tcp('10.0.0.9', '10.0.0.5', 22, 40000, SYN | ACK, 5000, 1001) },
  ]);
  const conns = run.records.filter((r) => r.type === 'conn');
  assert.equal(conns.length, 1);
  assert.deepEqual(run.alerts, []);
  assert.ok(run.detection.detectors.includes('port_scan'));
});
