import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fullCollector, memoryTrimmer } from './agent-health.js';

test('the C heap is trimmed every ten seconds of the roll clock, not every second', () => {
  const calls: number[] = [];
  const tick = memoryTrimmer(1000, () => (calls.push(calls.length), true));
  for (let now = 1001; now <= 1035; now++) tick(now);
  assert.equal(calls.length, 3); // at 1010, 1020, 1030
});

test('when a burst has just ended, a full collection runs before the trim, once a burst', () => {
  const calls: string[] = [];
  let bursts = 0;
  let seen = 0;
  const tick = memoryTrimmer(1000, () => (calls.push('trim'), true), {
    ended: () => seen !== (seen = bursts),
    collect: () => calls.push('collect'),
  });
  for (let now = 1001; now <= 1025; now++) tick(now); // 1010, 1020: no burst
  bursts++;
  for (let now = 1026; now <= 1045; now++) tick(now); // 1030: the burst's end, 1040: nothing new
  assert.deepEqual(calls, ['trim', 'trim', 'collect', 'trim', 'trim']);
});

test('the full collector collects: an object only a weak reference holds is gone after it', async () => {
  const collect = fullCollector();
  assert.ok(collect, 'gc is to be had in this Node');
  let target: object | undefined = { big: new Array(1000).fill(1) };
  const ref = new WeakRef(target);
  target = undefined;
  await new Promise((r) => setImmediate(r)); // a WeakRef's target is kept until the end of the current job
  collect();
  assert.equal(ref.deref(), undefined);
});
