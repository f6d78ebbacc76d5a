import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dissectHex, weirdMap } from '../test-helpers.js';

/** Ethernet + IPv4 (10.0.0.1 → 10.0.0.2, total length `total`) + UDP 1701 → 1701 (length `total` - 20). */
function udp1701(total: number): string {
  const t = total.toString(16).padStart(4, '0');
  const u = (total - 20).toString(16).padStart(4, '0');
  return `ffffffffffff 020000000001 0800 4500${t} 00000000 40110000 0a000001 0a000002 06a506a5 ${u}0000`;
}

test('L2TPv2 with length and sequence fields, then PPP → IPv4', () => {
  // Flags 0x4802 (length, sequence, version 2), length 32, tunnel 1, session 2, Ns 0, Nr 0, PPP FF03 0021,
  // an IPv4 header 10.1.1.1 → 10.1.1.2 protocol 253.
  const l2tp = '4802 0020 0001 0002 0000 0000 ff03 0021 4500001400000000 40fd0000 0a010101 0a010102';
  const { final, layers, weirds } = dissectHex(`${udp1701(20 + 8 + 36)} ${l2tp}`);
  assert.equal(weirds.total(), 0);
  assert.equal(layers.l2tp, 1);
  assert.equal(final.tunnelDepth, 1);
  assert.equal(final.ipProto, 253);
  assert.equal(final.ipOffset, 14 + 20 + 8 + 12 + 4);
});

test('control messages stop; an offset field past the end is l2tp_truncated', () => {
  const control = dissectHex(`${udp1701(20 + 8 + 12)} c802 000c 0001 0002 0000 0000`);
  assert.equal(control.final.tunnelDepth, 0);
  assert.equal(control.weirds.total(), 0);
  const cut = dissectHex(`${udp1701(20 + 8 + 7)} 0202 0001 0002 00`);
  assert.deepEqual(weirdMap(cut.weirds), { l2tp_truncated: 1 });
});
