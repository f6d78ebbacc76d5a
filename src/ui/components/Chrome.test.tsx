import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statusKeys } from './Chrome.js';
import { VIEWS } from '../views/index.js';

test('status line: every view keeps "? help  q quit" at the end, down to 40 cells', () => {
  for (const view of VIEWS) {
    for (const width of [80 - 'filter: 192.168.10.23:53999  2/2 up'.length - 1, 60, 40]) {
      const keys = statusKeys(view, width);
      assert.ok(keys.length <= width, `${view.name} at ${width}: ${keys}`);
      assert.match(keys, /\? help {1,2}q quit$/, `${view.name} at ${width}: ${keys}`);
    }
  }
});

test('status line: with room, every key in order, two spaces apart; short of it, whole keys are left out', () => {
  const alerts = VIEWS.find((v) => v.name === 'alerts');
  assert.ok(alerts);
  assert.equal(statusKeys(alerts, 200), 'Enter evidence  A acknowledge  x suppress 24h  / filter  p pause  a agents  ? help  q quit');
  assert.equal(statusKeys(alerts, 61), 'Enter evidence  A acknowledge  x suppress 24h  ? help  q quit');
  assert.equal(statusKeys(alerts, 60), 'Enter evidence A acknowledge x suppress 24h ? help q quit', 'one space apart rather than a key fewer');
  assert.equal(statusKeys(alerts, 40), 'Enter evidence  ? help  q quit');
});
