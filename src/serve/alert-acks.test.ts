/** AlertAcks on its own: which alerts can be acknowledged, what is re-sent, what later records carry. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AlertRecord } from '../analyze/records.js';
import { alertRecord, tempDir } from '../store/store-fixtures.test-util.js';
import { WorkerHistoryStore } from '../store/worker-store.js';
import { AlertAcks } from './alert-acks.js';
import type { AgentAlertRecord } from './protocol/messages.js';

const T0 = Math.floor(Date.now() / 1000);
const rec = (id: string, state: 'open' | 'update' | 'closed', stateTs = T0) => alertRecord(id, T0, state, stateTs) as unknown as AlertRecord;

test('an open alert: acknowledged in memory without a store, re-sent once, stamped on later records until it closes', async () => {
  let now = T0 + 5;
  const sent: AgentAlertRecord[] = [];
  const acks = new AlertAcks({ now: () => now, publish: (r) => sent.push(r) });
  const open = rec('A1', 'open');
  assert.equal(acks.pass(open), open, 'not acknowledged: the record goes out as detection made it');
  assert.equal(await acks.ack('A2', 'ui 1'), undefined, 'never seen');
  const ack = { acknowledged: true as const, acknowledged_at: T0 + 5, acknowledged_by: 'ui 1' };
  assert.deepEqual(await acks.ack('A1', 'ui 1'), ack);
  assert.deepEqual(sent, [{ ...open, ...ack }]);
  assert.equal((open as unknown as { acknowledged?: boolean }).acknowledged, undefined, "detection's object is left alone");
  now = T0 + 9;
  assert.deepEqual(await acks.ack('A1', 'other 2'), ack, 'the first acknowledgement is kept');
  assert.equal(sent.length, 1, 'and nothing is re-sent for a second one');
  const update = rec('A1', 'update', T0 + 10);
  assert.deepEqual(acks.pass(update), { ...update, ...ack });
  const closed = rec('A1', 'closed', T0 + 70);
  assert.deepEqual(acks.pass(closed), { ...closed, ...ack });
  assert.equal(acks.openCount, 0, 'a closed alert is forgotten');
  assert.equal(await acks.ack('A1', 'ui 1'), undefined, 'closed and no store: nothing left to acknowledge');
});

test('a closed alert the store holds: acknowledged there, its stored record re-sent; a second ack changes nothing', async (t) => {
  const store = WorkerHistoryStore.open<AgentAlertRecord>(tempDir(t));
  store.appendAlert(rec('B1', 'closed', T0 + 60));
  store.flush();
  const sent: AgentAlertRecord[] = [];
  const acks = new AlertAcks({ now: () => T0 + 100, history: store, publish: (r) => sent.push(r) });
  const ack = { acknowledged: true as const, acknowledged_at: T0 + 100, acknowledged_by: 'ui 1' };
  assert.deepEqual(await acks.ack('B1', 'ui 1'), ack);
  assert.deepEqual(sent, [{ ...JSON.parse(JSON.stringify(alertRecord('B1', T0, 'closed', T0 + 60))), ...ack }]);
  assert.deepEqual(await acks.ack('B1', 'ui 2'), ack);
  assert.equal(sent.length, 1);
  assert.equal(await acks.ack('B2', 'ui 1'), undefined);
  store.close();
});

test('an open alert the store also holds: the live record is re-sent and the store marked', async (t) => {
  const store = WorkerHistoryStore.open<AgentAlertRecord>(tempDir(t));
  const sent: AgentAlertRecord[] = [];
  const acks = new AlertAcks({ now: () => T0 + 3, history: store, publish: (r) => sent.push(r) });
  const open = rec('C1', 'open');
  store.appendAlert(acks.pass(open));
  const update = rec('C1', 'update', T0 + 2);
  // The update is out (clients have it) but not yet in the store: the re-sent record is the latest one.
  acks.pass(update);
  await acks.ack('C1', 'ui 1');
  assert.deepEqual(sent.map((r) => [r.state, r.acknowledged]), [['update', true]]);
  const stored = await store.alert('C1');
  assert.deepEqual([stored?.state, stored?.acknowledged_by], ['open', 'ui 1']);
  store.close();
});

test('two acknowledgements of an open alert at once: the first is kept and re-sent, the second gets it back', async (t) => {
  let now = T0 + 3;
  const store = WorkerHistoryStore.open<AgentAlertRecord>(tempDir(t));
  const sent: AgentAlertRecord[] = [];
  const acks = new AlertAcks({ now: () => now++, history: store, publish: (r) => sent.push(r) });
  store.appendAlert(acks.pass(rec('D1', 'open')));
  // Both asked before the store has answered either.
  const [first, second] = await Promise.all([acks.ack('D1', 'ui 1'), acks.ack('D1', 'ui 2')]);
  const ack = { acknowledged: true, acknowledged_at: T0 + 3, acknowledged_by: 'ui 1' };
  assert.deepEqual([first, second], [ack, ack]);
  assert.equal(sent.length, 1);
  assert.equal((await store.alert('D1'))?.acknowledged_by, 'ui 1');
  store.close();
});
