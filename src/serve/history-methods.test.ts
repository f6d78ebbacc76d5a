/**
 * The history methods over a real session: the protocol server on a unix socket in front of a real history
 * store filled with hand-built records, asked by a raw client speaking the wire (docs/protocol.md).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HistoryStore } from '../store/history-store.js';
import { alertRecord, connRecord, dnsRecord, statsSecond } from '../store/store-fixtures.test-util.js';
import { memoryLogger } from './agent.test-util.js';
import { openAgentHistory } from './history.js';
import { ErrorCode } from './protocol/errors.js';
import { RawClient } from './raw-client.test-util.js';
import { AgentServer, type HistoryBackend } from './server.js';
import type { AgentStatus } from './status.js';
import { listenUnix } from './transports.js';

// An hour boundary an hour ago: the store as the agent opens it enforces retention by the wall clock.
const T0 = Math.floor(Date.now() / 3_600_000) * 3600 - 3600;
const dir = mkdtempSync(join(tmpdir(), 'loopy-history-methods-'));
const sock = join(dir, 'agent.sock');
let server: AgentServer;
let listener: Server;
let store: HistoryStore;
let client: RawClient;

before(async () => {
  // The store as the agent opens it (openAgentHistory), so the methods the server calls are the real ones.
  const history = openAgentHistory(join(dir, 'data'), undefined);
  store = history as unknown as HistoryStore;
  // Minute T0: 10.0.0.5 moves 1000 + 3000 bytes, 10.0.0.9 2500; minute T0+60: 10.0.0.9 2000 more, 10.0.0.7 10.
  store.appendStats(statsSecond(T0 + 1, 10, [['10.0.0.5', 1000], ['10.0.0.9', 2500]]));
  store.appendStats(statsSecond(T0 + 2, 20, [['10.0.0.5', 3000]]));
  store.appendStats(statsSecond(T0 + 61, 30, [['10.0.0.9', 2000], ['10.0.0.7', 10]]));
  // A second after the second minute, so it is complete (rolled, talkers pruned) as a real agent's would be.
  store.appendStats(statsSecond(T0 + 121, 1));
  store.appendConn(connRecord(T0 + 1, '10.0.0.5', 40_001, '10.0.0.9', 443));
  store.appendConn(connRecord(T0 + 2, '10.0.0.5', 40_002, '10.0.0.9', 443));
  store.appendConn(connRecord(T0 + 3, '10.0.0.7', 40_003, '10.0.0.9', 22));
  store.appendDns(dnsRecord(T0 + 1.5, '10.0.0.5', 'a.example', 'NOERROR'));
  store.appendDns(dnsRecord(T0 + 2.5, '10.0.0.5', 'b.example', 'NXDOMAIN'));
  store.appendAlert(alertRecord('A1', T0 + 1, 'open'));
  store.appendAlert(alertRecord('A2', T0 + 5, 'open'));
  store.flush();
  server = new AgentServer({
    name: 'history-test', software: 'loopy test', started: T0, now: () => T0 + 200, logger: memoryLogger([]),
    status: () => ({ type: 'agent_status' }) as unknown as AgentStatus, history,
  });
  listener = await listenUnix(sock);
  server.attach(listener, 'unix');
  client = await RawClient.unix(sock);
  await client.hello();
});
after(async () => {
  client.close();
  await server.close();
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

const range = { since: T0, until: T0 + 300 };

test('history.series: a host, port or proto filter is INVALID_PARAMS naming it and what is supported', async () => {
  for (const [filter, value] of [['host', '10.0.0.5'], ['port', 443], ['proto', 'tcp']] as const) {
    const r = await client.request('history.series', { ...range, resolution: '1m', [filter]: value });
    assert.equal(r.error?.code, ErrorCode.INVALID_PARAMS, filter);
    assert.match(r.error!.message, new RegExp(`^bad params for history\\.series: ${filter}: the agent keeps its series for all traffic only`));
    assert.match(r.error!.message, /takes since, until, resolution and limit/);
    assert.match(r.error!.message, new RegExp(`history\\.flows with ${filter}`));
    assert.deepEqual((r.error!.data as { issues: Array<{ path: string }> }).issues.map((i) => i.path), [filter]);
  }
  const withHost = await client.request('history.series', { ...range, resolution: '1m', host: '10.0.0.5' });
  assert.match(withHost.error!.message, /history\.talkers for bytes per host per minute/);
  // Without a filter: the points, oldest first (a time axis), packets as appended: 10 + 20, 30, 1.
  const ok = await client.request('history.series', { ...range, resolution: '1m' });
  assert.deepEqual((ok.result as Array<{ ts: number; packets: number }>).map((p) => [p.ts - T0, p.packets]), [[0, 30], [60, 30], [120, 1]]);
  assert.equal(client.closed, false);
});

test('history.flows, history.dns and history.alerts: newest first; a limit keeps the newest', async () => {
  const ports = (r: unknown) => (r as Array<Record<string, number>>).map((c) => c['id.orig_p']);
  assert.deepEqual(ports((await client.request('history.flows', range)).result), [40_003, 40_002, 40_001]);
  assert.deepEqual(ports((await client.request('history.flows', { ...range, limit: 2 })).result), [40_003, 40_002]);
  assert.deepEqual(ports((await client.request('history.flows', { ...range, host: '10.0.0.5' })).result), [40_002, 40_001]);
  const queries = (await client.request('history.dns', range)).result as Array<{ query: string }>;
  assert.deepEqual(queries.map((d) => d.query), ['b.example', 'a.example']);
  const alerts = (await client.request('history.alerts', range)).result as Array<{ alert_id: string }>;
  assert.deepEqual(alerts.map((a) => a.alert_id), ['A2', 'A1']);
});

test('history.talkers: bytes and packets per host over the range, biggest first; per-minute resolution', async () => {
  const r = await client.request('history.talkers', range);
  // Hand-summed from the stats above: 10.0.0.9 2500 + 2000; 10.0.0.5 1000 + 3000; 10.0.0.7 10.
  // Packets: the fixture gives ceil(bytes / 100) per second: 25 + 20, 10 + 30, 1.
  assert.deepEqual(r.result, [
    { host: '10.0.0.9', bytes: 4500, packets: 45 },
    { host: '10.0.0.5', bytes: 4000, packets: 40 },
    { host: '10.0.0.7', bytes: 10, packets: 1 },
  ]);
  assert.deepEqual((await client.request('history.talkers', { ...range, limit: 1 })).result, [{ host: '10.0.0.9', bytes: 4500, packets: 45 }]);
  // Only the second minute: whole minutes that overlap the range count (T0+61 lies in the minute T0+60).
  assert.deepEqual((await client.request('history.talkers', { since: T0 + 90, until: T0 + 100 })).result, [
    { host: '10.0.0.9', bytes: 2000, packets: 20 },
    { host: '10.0.0.7', bytes: 10, packets: 1 },
  ]);
  const filtered = await client.request('history.talkers', { ...range, host: '10.0.0.5' });
  assert.equal(filtered.error?.code, ErrorCode.INVALID_PARAMS);
  assert.match(filtered.error!.message, /host/);
  assert.equal((await client.request('history.talkers', { since: T0 + 10, until: T0 })).error?.code, ErrorCode.INVALID_PARAMS);
});

test('history.talkers without a limit: the top 10', async () => {
  // Another store, twelve hosts in one second: 10.1.0.1 moves 100 bytes, 10.1.0.2 200, ... 10.1.0.12 1200.
  const other = HistoryStore.open(join(dir, 'data-many'), { clock: () => T0 });
  other.appendStats(statsSecond(T0 + 1, 1, Array.from({ length: 12 }, (_, i) => [`10.1.0.${i + 1}`, (i + 1) * 100] as [string, number])));
  other.flush();
  const s = new AgentServer({
    name: 'many', software: 'loopy test', started: T0, now: () => T0, logger: memoryLogger([]),
    status: () => ({ type: 'agent_status' }) as unknown as AgentStatus, history: other as unknown as HistoryBackend,
  });
  const path = join(dir, 'many.sock');
  const l = await listenUnix(path);
  s.attach(l, 'unix');
  const c = await RawClient.unix(path);
  try {
    const hello = (await c.hello()).result as { methods: string[] };
    assert.ok(hello.methods.includes('history.talkers'));
    const rows = (await c.request('history.talkers', range)).result as Array<{ host: string; bytes: number }>;
    assert.deepEqual(rows.map((t) => t.bytes), [1200, 1100, 1000, 900, 800, 700, 600, 500, 400, 300]);
  } finally {
    c.close();
    await s.close();
    other.close();
  }
});
