import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dissectFrame, dissectHex, ipv4, parseHex, weirdMap } from '../test-helpers.js';

// tshark -r corpus/mixed/tcpdump__LINKTYPE_RAW_ipv4.pcap -x, frame 1: a 57-byte IPv4/UDP DNS query
// 192.168.1.100:12345 → 9.9.9.9:53. Wrapped below in hand-made link headers.
const IPV4_DNS = `
0000  45 00 00 39 00 01 00 00 40 11 a6 95 c0 a8 01 64   E..9....@......d
0010  09 09 09 09 30 39 00 35 00 25 19 76 12 34 01 00   ....09.5.%.v.4..
0020  00 01 00 00 00 00 00 00 07 65 78 61 6d 70 6c 65   .........example
0030  03 63 6f 6d 00 00 01 00 01                        .com.....
`;

/** Destination 02:00:00:00:00:02, source 02:00:00:00:00:01, then the given type/length field. */
const MACS = '020000000002 020000000001';

test('Ethernet II: macOffset, EtherType, hand-off to IPv4', () => {
  const { transports, weirds } = dissectHex(`${MACS} 0800 ${IPV4_DNS}`);
  assert.equal(transports.length, 1);
  const t = transports[0];
  assert.equal(t.macOffset, 0);
  assert.equal(t.etherType, 0x0800);
  assert.equal(t.ipOffset, 14);
  assert.equal(t.vlanDepth, 0);
  assert.deepEqual([t.src[0], t.dst[0]], [ipv4('192.168.1.100'), ipv4('9.9.9.9')]);
  assert.equal(weirds.total(), 0);
});

test('802.3 with LLC/SNAP (RFC 1042): the SNAP type is the EtherType', () => {
  // Length 65 (8 LLC/SNAP + 57 IP), DSAP AA, SSAP AA, control 03, OUI 00-00-00, type 0800.
  const { transports, weirds } = dissectHex(`${MACS} 0041 aaaa03 000000 0800 ${IPV4_DNS}`);
  assert.equal(transports.length, 1);
  assert.equal(transports[0].etherType, 0x0800);
  assert.equal(transports[0].ipOffset, 22);
  assert.equal(transports[0].dstPort, 53);
  assert.equal(weirds.total(), 0);
});

test('802.3 with other LLC (spanning tree) or a vendor SNAP OUI stops quietly', () => {
  // STP BPDU: DSAP 42, SSAP 42, control 03, then protocol id 0000.
  const stp = dissectHex(`${MACS} 0026 424203 0000 00 00 ${'00'.repeat(33)}`);
  assert.equal(stp.transports.length, 0);
  assert.equal(stp.final.macOffset, 0);
  assert.equal(stp.final.etherType, 0);
  assert.equal(stp.weirds.total(), 0);
  // Cisco CDP: SNAP with OUI 00-00-0C, PID 2000: not an EtherType.
  const cdp = dissectHex(`${MACS} 0041 aaaa03 00000c 2000 ${'00'.repeat(20)}`);
  assert.equal(cdp.transports.length, 0);
  assert.equal(cdp.weirds.total(), 0);
});

test('fewer than 14 bytes: truncated_ethernet_frame; a cut LLC header: truncated_llc_header', () => {
  const short = dissectHex('020000000002 020000000001 08');
  assert.deepEqual(weirdMap(short.weirds), { truncated_ethernet_frame: 1 });
  assert.equal(short.final.macOffset, -1);
  const llc = dissectHex(`${MACS} 0041 aaaa03 0000`);
  assert.deepEqual(weirdMap(llc.weirds), { truncated_llc_header: 1 });
});

test('an unknown EtherType stops after the link layer without a weird', () => {
  const frame = parseHex(`${MACS} 88b5 ${IPV4_DNS}`); // 0x88B5: IEEE local experimental
  const { transports, final, weirds } = dissectFrame(frame);
  assert.equal(transports.length, 0);
  assert.equal(final.etherType, 0x88b5);
  assert.equal(weirds.total(), 0);
});
