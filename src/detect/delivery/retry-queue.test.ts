/** The delivery queue with fake timers: order, backoff, permanent failures, a full queue, close. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PermanentDeliveryError, RetryQueue, type Timers } from './retry-queue.js';

class FakeTimers implements Timers {
  readonly delays: number[] = [];
  private pending: Array<{ fn: () => void; ms: number; id: number }> = [];
  private next = 1;
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.next++;
    this.delays.push(ms);
    this.pending.push({ fn, ms, id });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.pending = this.pending.filter((p) => p.id !== handle);
  }
  /** Runs the timers that are due, as if their time had come. */
  fireAll(): void {
    const due = this.pending;
    this.pending = [];
    for (const p of due) p.fn();
  }
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

test('items go out in order; a failure is retried after 100, 200, 400 ms; then it gives up', async () => {
  const timers = new FakeTimers();
  const sent: string[] = [];
  const gaveUp: string[] = [];
  let failuresLeft: Record<string, number> = { a: 2, b: 9 };
  const q = new RetryQueue<string>({
    send: async (item) => {
      sent.push(item);
      if ((failuresLeft[item] ?? 0) > 0) {
        failuresLeft[item]--;
        throw new Error(`receiver down for ${item}`);
      }
    },
    attempts: 4,
    retryDelayMs: 100,
    maxDelayMs: 300,
    maxQueue: 10,
    timers,
    onGiveUp: (item, error, reason) => gaveUp.push(`${item}:${reason}:${error.message}`),
  });
  q.push('a');
  q.push('b');
  q.push('c');
  await settle();
  assert.deepEqual(sent, ['a']);
  for (let i = 0; i < 6; i++) {
    timers.fireAll();
    await settle();
  }
  assert.deepEqual(sent, ['a', 'a', 'a', 'b', 'b', 'b', 'b', 'c']);
  assert.deepEqual(timers.delays, [100, 200, 100, 200, 300], 'doubling, capped at maxDelayMs, reset per item');
  assert.deepEqual(gaveUp, ['b:attempts:receiver down for b']);
  assert.deepEqual({ ...q.stats, lastError: undefined }, { queued: 0, sent: 2, retries: 5, failed: 1, dropped: 0, lastError: undefined });
  failuresLeft = {};
});

test('a permanent failure is not retried', async () => {
  const timers = new FakeTimers();
  let calls = 0;
  const q = new RetryQueue<number>({ send: async () => { calls++; throw new PermanentDeliveryError('HTTP 404'); }, attempts: 5, retryDelayMs: 10, maxDelayMs: 10, maxQueue: 5, timers });
  q.push(1);
  await settle();
  assert.equal(calls, 1);
  assert.equal(q.stats.failed, 1);
  assert.deepEqual(timers.delays, []);
});

test('push never waits; a full queue drops its oldest waiting item, not the one in flight; close drops the rest', async () => {
  const timers = new FakeTimers();
  const gaveUp: string[] = [];
  let release: () => void = () => {};
  const q = new RetryQueue<number>({
    send: () => new Promise<void>((resolve) => (release = resolve)),
    attempts: 3,
    retryDelayMs: 10,
    maxDelayMs: 10,
    maxQueue: 3,
    timers,
    onGiveUp: (item, _e, reason) => gaveUp.push(`${item}:${reason}`),
  });
  const started = process.hrtime.bigint();
  for (let i = 1; i <= 6; i++) q.push(i);
  assert.ok(process.hrtime.bigint() - started < 50_000_000n, 'pushing to a stuck receiver returns at once');
  assert.equal(q.size, 3);
  assert.deepEqual(gaveUp, ['2:queue_full', '3:queue_full', '4:queue_full']);
  const closing = q.close(1000);
  timers.fireAll(); // the close deadline passes with item 1 still in flight
  await closing;
  assert.equal(q.stats.dropped, 5, '3 for room, 2 left at close');
  release();
  await settle();
  q.push(7);
  assert.equal(q.stats.dropped, 6, 'closed: nothing more is taken');
});
