import { test } from 'node:test';
import assert from 'node:assert/strict';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { compactingCollector } from './heap-collector.js';

test('the collector collects: an object only a weak reference holds is gone after it', async () => {
  const collect = compactingCollector();
  assert.ok(collect, 'gc is to be had in this Node');
  let target: object | undefined = { big: new Array(1000).fill(1) };
  const ref = new WeakRef(target);
  target = undefined;
  await new Promise((r) => setImmediate(r)); // a WeakRef's target is kept until the end of the current job
  collect();
  assert.equal(ref.deref(), undefined);
});

test('one collection gives back the old-space pages a burst left with a few survivors each (a plain one keeps them)', () => {
  const collect = compactingCollector();
  assert.ok(collect, 'gc is to be had in this Node');
  const plain = runInNewContext('gc') as () => void;
  const oldSpace = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'old_space')!.space_size;
  plain();
  const before = oldSpace();
  // About 50 MB of small objects, promoted to old space; then all but one in twenty are let go, the
  // survivors scattered over every page the objects filled.
  let objects: Array<{ n: number; s: string; c: number[] }> = [];
  for (let i = 0; i < 300_000; i++) objects.push({ n: i, s: `object ${i}`, c: [i] });
  plain();
  plain();
  const grown = oldSpace() - before;
  objects = objects.filter((_, i) => i % 20 === 0);
  collect();
  const kept = oldSpace() - before;
  assert.equal(objects.length, 15_000);
  assert.ok(grown > 30 * 1048576, `old space grew ${grown} bytes`);
  assert.ok(kept < grown / 3, `old space after one collection: ${kept} bytes over the start, of ${grown} the objects took`);
});
