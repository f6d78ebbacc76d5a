import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dissectHex, ipv6, weirdMap } from '../test-helpers.js';

// tshark -r corpus/mixed/dpkt__nb6-http.pcap -x, frame 19: PPPoE → PPP → IPv4/UDP 109.6.1.72:1701 →
// 95.136.242.99:1701 → L2TPv2 data (flags 0x0202: offset field present, offset 0) → PPP (FF 03, protocol 0x0057)
// → IPv6 ICMPv6 router advertisement fe80::ca4c:75ff:fe78:ed00 → ff02::1.
const PPPOE_L2TP_PPP_IPV6 = `
0000  e0 a1 d7 18 c2 73 00 17 33 61 00 00 88 64 11 00   .....s..3a...d..
0010  3b 1a 00 6a 00 21 45 00 00 68 a0 6e 00 00 fa 11   ;..j.!E..h.n....
0020  5f dc 6d 06 01 48 5f 88 f2 63 06 a5 06 a5 00 54   _.m..H_..c.....T
0030  00 00 02 02 4a 32 d3 5e 00 00 ff 03 00 57 6e 00   ....J2.^.....Wn.
0040  00 00 00 18 3a ff fe 80 00 00 00 00 00 00 ca 4c   ....:..........L
0050  75 ff fe 78 ed 00 ff 02 00 00 00 00 00 00 00 00   u..x............
0060  00 00 00 00 00 01 86 00 fe a6 40 08 07 08 00 00   ..........@.....
0070  00 00 00 00 00 00 05 01 00 00 00 00 05 aa         ..............
`;

test('PPP with address/control bytes, reached through L2TP: IPv6 inside, one tunnel level', () => {
  const { transports, layers, weirds } = dissectHex(PPPOE_L2TP_PPP_IPV6);
  assert.equal(weirds.total(), 0);
  assert.equal(transports.length, 2);
  assert.equal(transports[0].dstPort, 1701);
  const t = transports[1];
  assert.equal(t.ipVersion, 6);
  assert.equal(t.tunnelDepth, 1);
  assert.equal(t.ipOffset, 0x3e);
  assert.deepEqual(t.src, ipv6('fe80::ca4c:75ff:fe78:ed00'));
  assert.equal(t.icmpType, 134);
  assert.equal(layers.ppp, 2);
  assert.equal(layers.l2tp, 1);
});

test('LINKTYPE_PPP with a compressed (one-byte) protocol field', () => {
  // Protocol 0x21 (IPv4, compressed), then a 20-byte IPv4 header with protocol 253 (experimental) and no payload.
  const { final, weirds } = dissectHex('21 4500001400000000 40fd0000 0a000001 0a000002', { linkType: 9 });
  assert.equal(weirds.total(), 0);
  assert.equal(final.ipOffset, 1);
  assert.equal(final.ipProto, 253);
});

test('link control (LCP) stops quietly; an empty frame is truncated_ppp_header', () => {
  const lcp = dissectHex('ff03 c021 01010004', { linkType: 50 });
  assert.equal(lcp.final.ipVersion, 0);
  assert.equal(lcp.weirds.total(), 0);
  assert.deepEqual(weirdMap(dissectHex('ff03', { linkType: 50 }).weirds), { truncated_ppp_header: 1 });
});
