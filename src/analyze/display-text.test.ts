import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cellWidth, displayText, fitCells } from './display-text.js';
import { protocolShares } from './protocol-mix.js';

test('displayText decodes UTF-8 escapes for display; invalid bytes and controls stay escaped', () => {
  // 小猫 (U+5C0F U+732B) as a DNS label carries it: e5 b0 8f e7 8c ab.
  assert.equal(displayText('\\xe5\\xb0\\x8f\\xe7\\x8c\\xab.local'), '小猫.local');
  assert.equal(displayText('caf\\xc3\\xa9.example'), 'café.example');
  assert.equal(displayText('plain.example.com'), 'plain.example.com');
  // A lone continuation byte, a cut sequence, an overlong form, a C1 control, a C0 control: kept as they came.
  assert.equal(displayText('a\\x80b'), 'a\\x80b');
  assert.equal(displayText('\\xe5\\xb0.x'), '\\xe5\\xb0.x');
  assert.equal(displayText('\\xc0\\xaf'), '\\xc0\\xaf');
  assert.equal(displayText('\\xc2\\x9b[2J'), '\\xc2\\x9b[2J');
  assert.equal(displayText('\\x1b[31m'), '\\x1b[31m');
  // A valid sequence after an invalid byte is still decoded.
  assert.equal(displayText('\\xff\\xc3\\xa9'), '\\xffé');
});

test('cells: wide characters take two, combining marks none; fitCells cuts and pads in cells', () => {
  assert.equal(cellWidth('abc'), 3);
  assert.equal(cellWidth('小猫'), 4);
  assert.equal(cellWidth('e\u0301'), 1);
  assert.equal(fitCells('小猫.local', 12), '小猫.local  ');
  assert.equal(cellWidth(fitCells('小猫.local', 12)), 12);
  // Cut: 5 cells of text then "…"; a wide character that does not fit whole leaves a space.
  assert.equal(fitCells('小猫小猫小猫', 6), '小猫 …');
  assert.equal(fitCells('小猫', 6, 'right'), '  小猫');
  assert.equal(fitCells('nxdomain_burst', 8), 'nxdomai…');
  assert.equal(fitCells('x', 0), '');
});

test('protocolShares: shares of all packets, link layers left out, biggest first', () => {
  const shares = protocolShares({ sll: 100, ethernet: 0, ipv4: 90, ipv6: 10, tcp: 80, udp: 20, dns: 5 }, 100);
  assert.deepEqual(shares.map((s) => [s.name, s.percent]), [['ipv4', 90], ['tcp', 80], ['udp', 20], ['ipv6', 10], ['dns', 5]]);
  assert.deepEqual(protocolShares({ tcp: 3 }, 0), [{ name: 'tcp', packets: 3, percent: 0 }]);
});
