/**
 * FlowWeirds, the ring that ties weirds to their flows on the packet loop: a run of one weird in one flow is
 * one entry, a full ring counts the rest as overflow and reports them without their flow, and the records
 * (per flow and name, then without a flow) always add up to the counts by name.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defineWeird } from '../decode/weirds.js';
import { FlowWeirds, NO_FLOW } from './flow-weirds.js';

const W_A = defineWeird('flow_weirds_test_a');
const W_B = defineWeird('flow_weirds_test_b');

test('weirds counted inside a flow are its own, by name, with the first time and the count', () => {
  const weirds = new FlowWeirds(8);
  weirds.enterFlow(101, 10);
  weirds.add(W_A);
  weirds.add(W_A);
  weirds.enterFlow(202, 11);
  weirds.add(W_B);
  weirds.enterFlow(101, 12);
  weirds.add(W_A, 3);
  weirds.add(W_B);
  weirds.enterFlow(NO_FLOW, 13);
  weirds.add(W_B);
  weirds.drain();
  assert.deepEqual(weirds.take(101), [{ name: 'flow_weirds_test_a', ts: 10, count: 5 }, { name: 'flow_weirds_test_b', ts: 12, count: 1 }]);
  assert.deepEqual(weirds.take(101), [], 'taken once');
  assert.deepEqual(weirds.take(202), [{ name: 'flow_weirds_test_b', ts: 11, count: 1 }]);
  assert.deepEqual(weirds.withoutFlow(), [{ name: 'flow_weirds_test_b', count: 1 }]);
  assert.equal(weirds.get('flow_weirds_test_a'), 5);
  assert.equal(weirds.get('flow_weirds_test_b'), 3);
  assert.equal(weirds.overflow, 0);
});

test('take drains the ring first: a flow that ends in the middle of a batch keeps its weirds', () => {
  const weirds = new FlowWeirds(8);
  assert.equal(weirds.enterFlow(7, 1), NO_FLOW, 'the previous flow is returned, to be restored');
  weirds.add(W_A);
  assert.deepEqual(weirds.take(7), [{ name: 'flow_weirds_test_a', ts: 1, count: 1 }]);
});

test('a full ring counts overflow; those weirds are reported without their flow, and the totals still add up', () => {
  const capacity = 4;
  const weirds = new FlowWeirds(capacity);
  // Alternating names in ten flows: no run to fold, so every weird needs an entry of its own.
  for (let flow = 1; flow <= 10; flow++) {
    weirds.enterFlow(flow, flow);
    weirds.add(flow % 2 === 0 ? W_A : W_B);
  }
  assert.equal(weirds.overflow, 10 - capacity);
  weirds.drain();
  const tied = Array.from({ length: 10 }, (_, i) => weirds.take(i + 1)).flat();
  assert.equal(tied.length, capacity, 'the first four kept their flow');
  const without = weirds.withoutFlow();
  const total = tied.reduce((n, w) => n + w.count, 0) + without.reduce((n, w) => n + w.count, 0);
  assert.equal(total, 10);
  assert.equal(total, weirds.get('flow_weirds_test_a') + weirds.get('flow_weirds_test_b'));
});

test('a moved flow\'s weirds follow it to its new id, those still in the ring too', () => {
  const weirds = new FlowWeirds();
  weirds.enterFlow(101, 10);
  weirds.add(W_A);
  weirds.drain(); // a tally
  weirds.enterFlow(202, 11);
  weirds.add(W_B); // still in the ring
  weirds.enterFlow(303, 12);
  weirds.add(W_A); // a flow that does not move
  weirds.enterFlow(NO_FLOW, 13);
  const ids = (values: number[]) => Float64Array.from(values);
  weirds.follow({ count: 2, from: Int32Array.of(1, 2), to: Int32Array.of(5, 6), oldIds: ids([101, 202]), newIds: ids([1005, 1006]) });
  assert.deepEqual([weirds.take(101), weirds.take(202)], [[], []]);
  assert.deepEqual(weirds.take(1005), [{ name: 'flow_weirds_test_a', ts: 10, count: 1 }]);
  assert.deepEqual(weirds.take(1006), [{ name: 'flow_weirds_test_b', ts: 11, count: 1 }]);
  assert.deepEqual(weirds.take(303), [{ name: 'flow_weirds_test_a', ts: 12, count: 1 }]);
});
