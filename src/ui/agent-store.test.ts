import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AgentStore, KEEP_SECONDS } from './agent-store.js';
import { FAKE_HELLO, FakeAgentClient } from './testing/fake-agent-client.js';
import { ALERT_SCAN, CONN_REJ, CONN_TLS, T0, alert, flow, stats, statsSecond } from './testing/sample-records.js';

test('store: collects between flushes, publishes once per flush, newest records first', () => {
  const a = new FakeAgentClient('a');
  const store = new AgentStore([a], ['stats', 'flows', 'alerts']);
  const published: number[] = [];
  store.onSnapshot((s) => published.push(s.version));
  a.emit(flow(CONN_TLS));
  a.emit(flow(CONN_REJ));
  assert.equal(store.snapshot().agents[0].flows.length, 0, 'not visible before the flush');
  const s = store.flush();
  assert.deepEqual(s.agents[0].flows.map((f) => f.uid), [CONN_REJ.uid, CONN_TLS.uid]);
  assert.equal(store.flush(), s, 'nothing new: the same snapshot, no publication');
  assert.equal(published.length, 1);
  store.close();
  assert.equal(a.subscriptionCount(), 0);
});

test('store: one entry per alert, updated in place; missed events counted; seconds trimmed', () => {
  const a = new FakeAgentClient('a');
  const store = new AgentStore([a], ['stats', 'alerts']);
  a.emit(alert(ALERT_SCAN));
  a.emit({ ...alert({ ...ALERT_SCAN, state: 'closed', closed_reason: 'quiet' }), missed: 3 });
  for (let i = 0; i < KEEP_SECONDS + 5; i++) a.emit(stats(statsSecond(T0 + i)));
  const s = store.flush().agents[0];
  assert.equal(s.alerts.length, 1);
  assert.equal(s.alerts[0].state, 'closed');
  assert.equal(s.missed, 3);
  assert.equal(s.seconds.length, KEEP_SECONDS);
  assert.equal(s.seconds[0].ts, T0 + 5);
});

test('store: a connection change publishes at once; unchanged agents keep their snapshot object', () => {
  const a = new FakeAgentClient('a');
  const b = new FakeAgentClient('b');
  const store = new AgentStore([a, b], ['stats']);
  const before = store.snapshot();
  let got = 0;
  store.onSnapshot(() => got++);
  b.setState({ state: 'disconnected', since: T0, error: 'EPIPE', retryInMs: 1000 });
  assert.equal(got, 1);
  const after = store.snapshot();
  assert.equal(after.agents[0], before.agents[0], 'a did not change');
  assert.equal(after.agents[1].state.state, 'disconnected');
});

test('store: an alert acknowledged by another UI (the agent re-sends it with acknowledged) shows as acknowledged', () => {
  const a = new FakeAgentClient('a');
  const store = new AgentStore([a], ['alerts']);
  a.emit(alert(ALERT_SCAN));
  assert.equal(store.flush().agents[0].acknowledged.has(ALERT_SCAN.alert_id), false);
  // What the agent sends every subscriber after alerts.ack from elsewhere: the same alert, with the fields.
  a.emit(alert({ ...ALERT_SCAN, acknowledged: true, acknowledged_at: T0 + 5, acknowledged_by: 'loopy-ui 0.1.0' } as typeof ALERT_SCAN));
  const s = store.flush().agents[0];
  assert.equal(s.acknowledged.has(ALERT_SCAN.alert_id), true);
  assert.equal(s.alerts.length, 1);
  assert.equal(a.calls.length, 0, 'nothing was asked of the agent: this UI acknowledged nothing');
});

test('store: an agent added later (one appearing on a hub) is published at once, its events collected, unsubscribed on close', () => {
  const a = new FakeAgentClient('a');
  const store = new AgentStore([a], ['flows']);
  const published: string[][] = [];
  store.onSnapshot((s) => published.push(s.agents.map((x) => x.target)));
  const b = new FakeAgentClient('b');
  store.add(b);
  assert.deepEqual(published, [['a', 'b']]);
  b.emit(flow(CONN_TLS));
  assert.deepEqual(store.flush().agents[1].flows.map((f) => f.uid), [CONN_TLS.uid]);
  store.close();
  assert.equal(b.subscriptionCount(), 0);
});

test('store: agents are named by their hello, kept while down; two of the same name are told apart by target', () => {
  const hello = (name: string) => ({ state: 'connected' as const, since: 0, agent: { ...FAKE_HELLO, name } });
  const a = new FakeAgentClient('unix:/tmp/a/agent.sock', hello('web-1'));
  const b = new FakeAgentClient('unix:/tmp/b/agent.sock', { state: 'connecting', attempt: 1 });
  const store = new AgentStore([a, b], ['stats']);
  assert.deepEqual(store.snapshot().agents.map((x) => x.name), ['web-1', 'unix:/tmp/b/agent.sock'], 'the target until the first hello');
  b.setState(hello('web-1'));
  assert.deepEqual(store.flush().agents.map((x) => x.name), ['web-1 (unix:/tmp/a/agent.sock)', 'web-1 (unix:/tmp/b/agent.sock)']);
  b.setState({ state: 'disconnected', since: 1, error: 'ECONNREFUSED', retryInMs: 1000 });
  a.setState(hello('web-2'));
  assert.deepEqual(store.flush().agents.map((x) => x.name), ['web-2', 'web-1']);
  store.close();
});

test('store: the addresses of flows, talkers and alerts are asked of the agent\'s passive DNS, the answer published by itself', async () => {
  const a = new FakeAgentClient('a');
  a.knownNames = { '192.168.20.10': 'files.corp.example' };
  const older = new FakeAgentClient('older', { state: 'connected', since: 0, agent: { ...FAKE_HELLO, name: 'older', methods: [] } });
  const store = new AgentStore([a, older], ['stats', 'flows', 'alerts'], () => 1000);
  for (const c of [a, older]) {
    c.emit(stats(statsSecond(T0, { top_talkers: [{ host: '192.168.10.22', bytes: 1, packets: 1, flows: 1, local: true }] })));
    c.emit(alert(ALERT_SCAN));
  }
  const published: number[] = [];
  store.onSnapshot((s) => published.push(s.version));
  store.flush();
  assert.deepEqual(a.namesAsked, [['192.168.10.22', '192.168.10.250', '192.168.20.10']]);
  assert.deepEqual(older.namesAsked, [], 'an agent without the names method is not asked');
  await new Promise((r) => setImmediate(r));
  assert.equal(published.length, 2, 'the answer is a snapshot of its own');
  assert.equal(store.snapshot().agents[0].names.nameOf('192.168.20.10'), 'files.corp.example');
  store.flush();
  assert.equal(a.namesAsked.length, 1, 'asked once');
  store.close();
});
