import { test } from 'node:test';
import assert from 'node:assert/strict';
import { memoryTrimmer } from './agent-health.js';

test('the C heap is trimmed every ten seconds of the roll clock, not every second', () => {
  const calls: number[] = [];
  const tick = memoryTrimmer(1000, () => (calls.push(calls.length), true));
  for (let now = 1001; now <= 1035; now++) tick(now);
  assert.equal(calls.length, 3); // at 1010, 1020, 1030
});

test('when a burst has just ended, a full collection and a trim run that second, and once more 20 s later', () => {
  const calls: string[] = [];
  let bursts = 0;
  let seen = 0;
  const tick = memoryTrimmer(1000, () => (calls.push('trim'), true), {
    ended: () => seen !== (seen = bursts),
    collect: () => calls.push('collect'),
  });
  for (let now = 1001; now <= 1025; now++) tick(now); // 1010, 1020: no burst
  bursts++;
  tick(1026); // the burst's end: collected and trimmed at once, not at 1030
  assert.deepEqual(calls, ['trim', 'trim', 'collect', 'trim']);
  for (let now = 1027; now <= 1045; now++) tick(now); // 1036: the next trim ten seconds on; nothing new to collect
  assert.deepEqual(calls, ['trim', 'trim', 'collect', 'trim', 'trim']);
  tick(1046); // what the burst's last short-lived flows left is garbage by now: collected again
  assert.deepEqual(calls, ['trim', 'trim', 'collect', 'trim', 'trim', 'collect', 'trim']);
  for (let now = 1047; now <= 1080; now++) tick(now); // trims every ten seconds, no more collections
  assert.deepEqual(calls.slice(7), ['trim', 'trim', 'trim']);
});
