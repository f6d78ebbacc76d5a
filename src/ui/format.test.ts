import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cellWidth } from '../analyze/display-text.js';
import { fit, fitEndpoint, fitMiddle, formatBitsPerSecond, formatBytes, formatDuration, formatEndpoint, formatSi, hbar, sparkline, wrapRows } from './format.js';
import { columnChart } from './components/chart.js';
import { layoutColumns, scrollTop } from './components/Table.js';

test('numbers: SI rates in bits, binary sizes, durations', () => {
  assert.equal(formatSi(999), '999');
  assert.equal(formatSi(1234), '1.23k');
  assert.equal(formatSi(12345678), '12.3M');
  assert.equal(formatBitsPerSecond(125000), '1.00Mb/s');
  assert.equal(formatBytes(1000), '1000B');
  assert.equal(formatBytes(1536), '1.5K');
  assert.equal(formatBytes(80 * 1024 * 1024), '80M');
  assert.equal(formatDuration(0.0181), '18ms');
  assert.equal(formatDuration(245), '4m05s');
  assert.equal(formatDuration(undefined), '-');
  assert.equal(formatEndpoint('2001:db8::1', 53), '[2001:db8::1]:53');
});

test('sparkline scales to its own maximum and right-aligns a short series', () => {
  assert.equal(sparkline([0, 6, 14], 3), '▁▄█'); // 6/14 of 7 steps = 3: the fourth bar
  assert.equal(sparkline([5], 4), '   █');
  assert.equal(sparkline([0, 0], 2), '▁▁');
});

test('bars and charts use eighth blocks', () => {
  assert.equal(hbar(0.5, 4), '██  ');
  assert.equal(hbar(1 / 16, 2), '▏ ');
  // 8 of max 8 over 2 rows: full both; 4: full bottom only; 2: half of the bottom cell.
  assert.deepEqual(columnChart([8, 4, 2], 2), ['█  ', '██▄']);
});

test('fit cuts with an ellipsis; tables drop optional columns right to left and share the spare width', () => {
  assert.equal(fit('abcdef', 4), 'abc…');
  assert.equal(fit('ab', 4, 'right'), '  ab');
  const cols = [
    { header: 'a', width: 10, grow: 1, cell: () => '' },
    { header: 'b', width: 10, optional: true, cell: () => '' },
    { header: 'c', width: 10, optional: true, cell: () => '' },
  ];
  assert.deepEqual(layoutColumns(cols, 25).map((c) => [c.col.header, c.width]), [['a', 14], ['b', 10]]);
  assert.deepEqual(layoutColumns(cols, 40).map((c) => c.width), [18, 10, 10]);
  assert.equal(scrollTop(0, 100, 10), 0);
  assert.equal(scrollTop(50, 100, 10), 45);
  assert.equal(scrollTop(99, 100, 10), 90);
});

test('fitEndpoint cuts the name before the endpoint, and a long endpoint in its middle so the port stays', () => {
  assert.equal(fitEndpoint('198.51.100.40:443 updates.example.org', 20), '198.51.100.40:443 u…');
  assert.equal(fitEndpoint('198.51.100.40:443 updates.example.org', 17), '198.51.100.40:443');
  assert.equal(fitEndpoint('[2001:db8:100::40]:443 updates.example.org', 16), '[2001:db…40]:443');
  assert.equal(cellWidth(fitEndpoint('[2001:db8:100::40]:443 updates.example.org', 16)), 16);
  assert.equal(fitEndpoint('10.0.0.1:53', 15), '10.0.0.1:53    ');
});

test('wrapRows measures in terminal cells: wide characters count two, none is cut in half', () => {
  assert.deepEqual(wrapRows('東京-edge 小猫.local', 10), ['東京-edge', '小猫.local']);
  assert.deepEqual(wrapRows('東京東京東京', 5), ['東京', '東京', '東京']);
  for (const row of wrapRows('port_scan 東京-edge scanned 1024 ports on 小猫.local', 12)) assert.ok(cellWidth(row) <= 12, row);
});

test('wrapRows breaks at spaces within the width and cuts a word longer than a row', () => {
  assert.deepEqual(wrapRows('ports: 3 7 11 12 19', 10), ['ports: 3 7', '11 12 19']);
  assert.deepEqual(wrapRows('id: 1:abcdefghijklmnop', 8), ['id:', '1:abcdef', 'ghijklmn', 'op']);
  assert.deepEqual(wrapRows('short', 80), ['short']);
  assert.deepEqual(wrapRows('', 80), ['']);
});

test('fitMiddle keeps both ends of what it cuts: an IPv6 endpoint keeps its port', () => {
  assert.equal(fitMiddle('[2001:db8:10::1d]:48012', 20), '[2001:db8:…1d]:48012');
  assert.equal(fitMiddle('[2001:db8:10::1d]:48012', 20).length, 20);
  assert.equal(fitMiddle('10.0.0.1:443', 20), '10.0.0.1:443        ');
  assert.equal(fitMiddle('小猫小猫小猫.local:53', 12), '小猫小…al:53');
});
