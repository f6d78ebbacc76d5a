import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dissectHex, weirdMap } from '../test-helpers.js';

/**
 * Built by hand: Ethernet, IPv4 10.0.0.1 → 10.0.0.2 protocol 47 (total length `ipTotal`), GRE with a
 * sequence number (flags 0x1000) and protocol `greProto`, then `rest`.
 */
function gre(ipTotal: number, greProto: string, rest: string): string {
  const total = ipTotal.toString(16).padStart(4, '0');
  return `ffffffffffff 020000000001 0800 4500${total} 00000000 402f0000 0a000001 0a000002 1000 ${greProto} 00000001 ${rest}`;
}

/** The mirrored frame: Ethernet with an IPv4 header 192.168.0.1 → 192.168.0.2, protocol 253. */
const MIRRORED = '020000000002 020000000003 0800 4500001400000000 40fd0000 c0a80001 c0a80002';

test('ERSPAN type II: an 8-byte header (version 1, VLAN, session id, index), then the mirrored frame', () => {
  // Version 1, VLAN 0, COS/En/T 0, session 42; reserved + index 0.
  const { final, layers, weirds } = dissectHex(gre(20 + 8 + 8 + 34, '88be', `1000002a 00000000 ${MIRRORED}`));
  assert.equal(weirds.total(), 0);
  assert.equal(layers.erspan2, 1);
  assert.equal(final.macOffset, 14 + 20 + 8 + 8);
  assert.equal(final.tunnelDepth, 1);
  assert.equal(final.ipProto, 253);
});

test('ERSPAN type III: 12 bytes, plus the 8-byte platform subheader when the O bit is set', () => {
  // Version 2, VLAN 0, session 42; timestamp; SGT/P/FT/HW/D/Gra/O with O clear.
  const plain = dissectHex(gre(20 + 8 + 12 + 34, '22eb', `2000002a 00000000 00000000 ${MIRRORED}`));
  assert.equal(plain.weirds.total(), 0);
  assert.equal(plain.final.macOffset, 14 + 20 + 8 + 12);
  const withSub = dissectHex(gre(20 + 8 + 20 + 34, '22eb', `2000002a 00000000 00000001 0000000000000000 ${MIRRORED}`));
  assert.equal(withSub.final.macOffset, 14 + 20 + 8 + 20);
  assert.equal(withSub.final.ipProto, 253);
});

test('ERSPAN weirds: truncated_GRE, erspan_unknown_version', () => {
  assert.deepEqual(weirdMap(dissectHex(gre(20 + 8 + 4, '88be', '1000002a')).weirds), { truncated_GRE: 1 });
  assert.deepEqual(weirdMap(dissectHex(gre(20 + 8 + 8 + 34, '88be', `2000002a 00000000 ${MIRRORED}`)).weirds), {
    erspan_unknown_version: 1,
  });
});
