/** TrackedKeys: exact below a quarter full; past it a spoofed flood neither grows it nor pushes out what matters. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TrackedKeys } from './tracked-keys.js';
import { ItemBudget, WindowedSet } from './windows.js';

interface State {
  fired: boolean;
  released: number;
}

const fresh = (): State => ({ fired: false, released: 0 });

test('below a quarter of its capacity every key is taken at once, and the report says so', () => {
  const keys = new TrackedKeys<State>('port_scan', 'sources', 100);
  for (let k = 0; k < 24; k++) {
    assert.equal(keys.admit(k, 0), true);
    keys.add(k, fresh());
  }
  assert.deepEqual(keys.report(), { detector: 'port_scan', table: 'sources', size: 24, capacity: 100, declined: 0, evicted: 0 });
});

test('past a quarter full, a key seen once is declined and a key seen again is taken; a flood never passes the capacity', () => {
  const keys = new TrackedKeys<State>('d', 't', 1000);
  for (let k = 0; k < 250; k++) keys.add(k, fresh());
  // 200,000 spoofed keys, each seen once, over 10 s of capture time.
  let taken = 0;
  for (let i = 0; i < 200_000; i++) {
    const key = 1_000_000 + i;
    if (keys.admit(key, i / 20_000)) {
      keys.add(key, fresh());
      taken++;
    }
    assert.ok(keys.size <= 1000);
  }
  // A few sketch collisions get in; almost all are declined and counted.
  assert.ok(taken < 4_000, `${taken} one-off keys taken`);
  assert.equal(keys.report().declined, 200_000 - taken);
  // A real source seen twice within the aging time gets in on its second event.
  assert.equal(keys.admit('2001:db8::7', 10), false);
  assert.equal(keys.admit('2001:db8::7', 10.9), true);
  // Forgotten after two halvings: seen once long ago is seen once.
  assert.equal(keys.admit('2001:db8::8', 11), false);
  assert.equal(keys.admit('2001:db8::8', 14), false);
});

test('full: a key with hits, and a protected key, outlive a stream of newcomers; the let-go are released', () => {
  const released: State[] = [];
  const keys = new TrackedKeys<State>('d', 't', 64, { protect: (s) => s.fired, release: (s) => released.push(s) });
  for (let k = 0; k < 64; k++) keys.add(k, fresh());
  keys.peek(0)!.fired = true; // an open incident, with no hits
  for (let i = 0; i < 10_000; i++) {
    keys.get(1); // a busy scanner: a hit per newcomer
    keys.add(100 + i, fresh());
    assert.equal(keys.size, 64);
  }
  assert.ok(keys.peek(0) !== undefined, 'the protected key is kept');
  assert.ok(keys.peek(1) !== undefined, 'the busy key is kept');
  assert.equal(keys.report().evicted, 10_000);
  assert.equal(released.length, 10_000);
  keys.delete(1);
  assert.equal(released.length, 10_001);
});

test('an item budget caps what windowed sets hold together; pruning and clearing give items back', () => {
  const budget = new ItemBudget(10);
  const a = new WindowedSet<number>(budget);
  const b = new WindowedSet<number>(budget);
  for (let i = 0; i < 8; i++) assert.equal(a.add(i, i), true);
  assert.equal(a.add(3, 9), true, 'a known item is always refreshed');
  assert.equal(b.add(100, 1), true);
  assert.equal(b.add(101, 1), true);
  assert.equal(b.add(102, 1), false);
  assert.deepEqual([budget.used, budget.declined, b.size], [10, 1, 2]);
  a.prune(4); // items 0, 1, 2 (3 was refreshed at 9)
  assert.equal(budget.used, 7);
  b.clear();
  assert.equal(budget.used, 5);
  assert.equal(b.add(102, 2), true);
});

test('a key deleted or let go is not found again, and one added back is', () => {
  const keys = new TrackedKeys<State>('d', 't', 8);
  for (let k = 0; k < 8; k++) keys.add(k * 1_000_003, fresh());
  keys.delete(3 * 1_000_003);
  assert.equal(keys.get(3 * 1_000_003), undefined);
  assert.equal(keys.peek(3 * 1_000_003), undefined);
  keys.add(3 * 1_000_003, fresh());
  assert.ok(keys.get(3 * 1_000_003));
  // A ninth key lets one go: the one let go is gone, every other is found.
  keys.add(99, fresh());
  let found = 0;
  for (let k = 0; k < 8; k++) if (keys.peek(k * 1_000_003) !== undefined) found++;
  assert.equal(found, 7);
  assert.ok(keys.peek(99));
  assert.equal(keys.report().evicted, 1);
  // Text keys (IPv6) are found as before.
  keys.add('2001:db8::1', fresh());
  assert.ok(keys.get('2001:db8::1'));
});
