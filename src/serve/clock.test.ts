import { test } from 'node:test';
import assert from 'node:assert/strict';
import { onBoundaries, type TimerHost } from './clock.js';

/** A wall clock and timers under the test's hand: timers fire `early` ms before their time, as a real one may. */
function fakeTimers(startMs: number, early: (n: number) => number) {
  let now = startMs;
  let pending: { at: number; fn: () => void } | undefined;
  let fired = 0;
  const host: TimerHost = {
    nowMs: () => now,
    setTimeout: (fn, ms) => (pending = { at: now + ms, fn }),
    clearTimeout: () => (pending = undefined),
  };
  return {
    host,
    /** Runs the pending timer, `early` ms ahead of its time (never before now), or `late` ms after it. */
    step(late = 0) {
      const p = pending!;
      pending = undefined;
      now = Math.max(now, p.at - early(fired++) + late);
      p.fn();
    },
    now: () => now,
  };
}

test('calls come on whole seconds, never before them, even from a timer that fires a millisecond early', () => {
  const t = fakeTimers(1_000_000_400, (n) => (n % 3 === 0 ? 1 : 0));
  const calls: number[] = [];
  onBoundaries(1000, () => calls.push(t.now()), t.host);
  for (let i = 0; i < 30; i++) t.step();
  const seconds = calls.map((ms) => Math.floor(ms / 1000));
  assert.ok(calls.length >= 10);
  assert.ok(calls.every((ms) => ms % 1000 === 0), `calls at ${calls.map((ms) => ms % 1000)}`);
  assert.deepEqual(seconds, seconds.map((_, i) => seconds[0] + i), 'one call a second, none skipped or doubled');
});

test('a late call is for its own second; seconds missed while the loop was busy are skipped, not crowded in', () => {
  const t = fakeTimers(5_000_000_000, () => 0);
  const calls: number[] = [];
  onBoundaries(1000, () => calls.push(Math.floor(t.now() / 1000)), t.host);
  t.step();
  t.step(2500); // the loop was busy for 2.5 s
  t.step();
  assert.deepEqual(calls, [5_000_001, 5_000_004, 5_000_005]);
});
