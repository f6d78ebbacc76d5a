import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dissectHex, ipv4, weirdMap } from '../test-helpers.js';

// tshark -r corpus/mixed/dpkt__nb6-http.pcap -x, frame 1: PPPoE session (version/type 0x11, code 0, session
// 0x3b1a, length 75), PPP protocol 0x0021 (IPv4), then a DNS query 95.136.242.99:37535 → 109.0.66.10:53.
const PPPOE_DNS = `
0000  00 17 33 61 00 00 e0 a1 d7 18 c2 73 88 64 11 00   ..3a.......s.d..
0010  3b 1a 00 4b 00 21 45 00 00 49 64 3f 40 00 40 11   ;..K.!E..Id?@.@.
0020  d5 6e 5f 88 f2 63 6d 00 42 0a 92 9f 00 35 00 35   .n_..cm.B....5.5
0030  e6 93 00 02 01 00 00 01 00 00 00 00 00 00 04 6e   ...............n
0040  63 64 6e 06 6e 62 36 64 73 6c 07 6e 65 75 66 62   cdn.nb6dsl.neufb
0050  6f 78 04 6e 65 75 66 02 66 72 00 00 1c 00 01      ox.neuf.fr.....
`;

test('PPPoE session → PPP → IPv4', () => {
  const { transports, layers, weirds } = dissectHex(PPPOE_DNS);
  assert.equal(weirds.total(), 0);
  assert.equal(transports.length, 1);
  const t = transports[0];
  assert.equal(t.ipOffset, 14 + 6 + 2);
  assert.equal(t.etherType, 0x0800);
  assert.deepEqual([t.src[0], t.dst[0]], [ipv4('95.136.242.99'), ipv4('109.0.66.10')]);
  assert.equal(t.dstPort, 53);
  assert.equal(layers.pppoe, 1);
  assert.equal(layers.ppp, 1);
});

test('PPPoE: a short header is truncated_pppoe_header, another version pppoe_bad_version', () => {
  assert.deepEqual(weirdMap(dissectHex('ffffffffffff 020000000001 8864 1100 3b').weirds), { truncated_pppoe_header: 1 });
  assert.deepEqual(weirdMap(dissectHex('ffffffffffff 020000000001 8864 2100 3b1a 0004 0021').weirds), { pppoe_bad_version: 1 });
});
