/** PassSchedule: when a detector's periodic pass over its keys can be skipped without changing anything. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassSchedule } from './windows.js';

test('a pass runs the first time, then only once a kept time reaches the horizon', () => {
  const s = new PassSchedule();
  assert.equal(s.runs(100), true, 'nothing known yet: the first pass runs');
  // That pass kept two keys, last active at 150 and 120.
  s.keep(150);
  s.keep(120);
  assert.equal(s.runs(110), false, 'the earliest key (120) is newer than the horizon');
  assert.equal(s.runs(119.99), false);
  assert.equal(s.runs(120), true, 'a key as old as the horizon is due');
  // That pass forgot the key of 120 and kept the one of 150.
  s.keep(150);
  assert.equal(s.runs(140), false);
  assert.equal(s.runs(150), true);
});

test('a new key, or a key whose time moved back, brings the next pass forward', () => {
  const s = new PassSchedule();
  s.runs(0);
  s.keep(500);
  assert.equal(s.runs(200), false);
  s.keep(210);
  assert.equal(s.runs(205), false);
  assert.equal(s.runs(210), true);
});

test('every pass runs while an incident is open (its changes go out at each pass)', () => {
  const s = new PassSchedule();
  s.runs(0);
  s.keep(1000);
  assert.equal(s.runs(10), false);
  s.open++;
  assert.equal(s.runs(10), true);
  s.keep(1000);
  assert.equal(s.runs(11), true);
  s.open--;
  s.keep(1000);
  assert.equal(s.runs(12), false);
});

test('a time within a millisecond of the horizon counts as due (rounding in the pass never skips one)', () => {
  const s = new PassSchedule();
  s.runs(0);
  s.keep(100.0005);
  assert.equal(s.runs(100), true);
});
