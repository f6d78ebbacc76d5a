import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import type { Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryLogger } from './agent.test-util.js';
import { ErrorCode } from './protocol/errors.js';
import { MAX_FRAME_BYTES } from './protocol/messages.js';
import { RawClient } from './raw-client.test-util.js';
import { SelfExclusion } from './self-exclusion.js';
import { AgentServer } from './server.js';
import type { AgentStatus } from './status.js';
import { listenUnix } from './transports.js';

const dir = mkdtempSync(join(tmpdir(), 'loopy-server-'));
const sock = join(dir, 'agent.sock');
const logs: Array<Record<string, unknown>> = [];
const exclusions = new SelfExclusion();
const status = { type: 'agent_status', pid: 1, flows_active: 7, packets_total: 99 } as unknown as AgentStatus;
const acked: string[] = [];
let server: AgentServer;
let listener: Server;

before(async () => {
  server = new AgentServer({
    name: 'test-agent', software: 'loopy test', started: 1000, now: () => 1234.5, logger: memoryLogger(logs), status: () => status, exclusions,
    // This test process plays the bridge sshd started (the check itself is tested below and in roles.test.ts).
    verifyBridge: () => true,
    alerts: { ack: (id, by) => (acked.push(`${id} by ${by}`), id === 'a1' ? { acknowledged: true, acknowledged_at: 1234.5, acknowledged_by: by } : undefined), suppress: () => 3 },
  });
  listener = await listenUnix(sock);
  server.attach(listener, 'unix');
});
after(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

test('the unix socket is 0660', () => {
  assert.equal(statSync(sock).mode & 0o777, 0o660);
});

test('hello: the agent says what it offers; history.* are left out without a store', async () => {
  const c = await RawClient.unix(sock);
  const r = await c.hello();
  const h = r.result as Record<string, unknown>;
  assert.equal(h.version, 1);
  assert.equal(h.name, 'test-agent');
  assert.deepEqual(h.topics, ['stats', 'flows', 'dns', 'alerts']);
  assert.deepEqual(h.methods, ['hello', 'status', 'subscribe', 'unsubscribe', 'alerts.ack', 'alerts.suppress']);
  assert.equal(h.auth, 'unix');
  const s = await c.request('status');
  assert.deepEqual(s.result, { ...status, clients: 1 });
  const hist = await c.request('history.flows', { since: 0, until: 1 });
  assert.equal(hist.error?.code, ErrorCode.UNAVAILABLE);
  assert.equal((await c.hello()).error?.code, ErrorCode.HELLO_REQUIRED, 'a second hello');
  c.close();
});

test('bad input gets the documented errors and the connection stays open', async () => {
  const c = await RawClient.unix(sock);
  assert.equal((await c.request('status')).error?.code, ErrorCode.HELLO_REQUIRED);
  await c.hello();
  c.send('{"jsonrpc":"2.0","id":1,\n');
  await c.until(() => c.lines.length >= 3);
  assert.deepEqual(c.lines[2], { jsonrpc: '2.0', id: null, error: { code: ErrorCode.PARSE_ERROR, message: 'not JSON' } });
  c.send('[{"jsonrpc":"2.0","id":"raw-5","method":"status"}]\n');
  c.send('{"jsonrpc":"1.0","id":"raw-6","method":"status"}\n');
  await c.until(() => c.lines.length >= 5);
  assert.equal((c.lines[3].error as { code: number }).code, ErrorCode.INVALID_REQUEST);
  assert.match((c.lines[3].error as { message: string }).message, /batches/);
  assert.deepEqual([c.lines[4].id, (c.lines[4].error as { code: number }).code], ["raw-6", ErrorCode.INVALID_REQUEST]);
  assert.equal((await c.request('nope')).error?.code, ErrorCode.METHOD_NOT_FOUND);
  assert.equal((await c.request('__proto__')).error?.code, ErrorCode.METHOD_NOT_FOUND);
  const bad = await c.request('subscribe', { topics: ['stats', 'weather'] });
  assert.equal(bad.error?.code, ErrorCode.INVALID_PARAMS);
  assert.deepEqual((bad.error?.data as { issues: Array<{ path: string }> }).issues[0].path, 'topics.1');
  assert.equal((await c.request('subscribe', { topics: ['stats'], extra: 1 })).error?.code, ErrorCode.INVALID_PARAMS, 'unknown keys');
  assert.equal((await c.request('alerts.suppress', { expires_at: 5 })).error?.code, ErrorCode.INVALID_PARAMS);
  assert.equal((await c.request('alerts.ack', { alert_id: 'zz' })).error?.code, ErrorCode.NOT_FOUND);
  assert.deepEqual((await c.request('alerts.ack', { alert_id: 'a1' })).result, { alert_id: 'a1', acknowledged: true, acknowledged_at: 1234.5, acknowledged_by: 'raw-test 0' });
  assert.deepEqual(acked, ['zz by raw-test 0', 'a1 by raw-test 0'], 'who acknowledged: the client as its hello named it');
  // A notification (no id) gets no reply, even when wrong; the next request is answered.
  c.send('{"jsonrpc":"2.0","method":"nope"}\n\n');
  const n = c.lines.length;
  assert.deepEqual((await c.request('unsubscribe')).result, { topics: [] });
  assert.equal(c.lines.length, n + 1);
  assert.equal(c.closed, false);
  c.close();
});

test('an unknown protocol version: error, then closed', async () => {
  const c = await RawClient.unix(sock);
  const r = await c.request('hello', { versions: [7, 9], client: { name: 'future', version: '9' } });
  assert.equal(r.error?.code, ErrorCode.UNSUPPORTED_VERSION);
  assert.deepEqual(r.error?.data, { versions: [1] });
  await c.until(() => c.closed);
});

test('an oversized line: FRAME_TOO_LARGE, then closed; the agent keeps serving others', async () => {
  const c = await RawClient.unix(sock);
  await c.hello();
  // Sent without a newline: the agent must refuse it before it ends, not buffer it.
  c.send(`{"jsonrpc":"2.0","id":2,"method":"status","params":{"x":"${'a'.repeat(MAX_FRAME_BYTES)}`);
  await c.until(() => c.closed);
  const last = c.lines[c.lines.length - 1];
  assert.deepEqual(last, { jsonrpc: '2.0', id: null, error: { code: ErrorCode.FRAME_TOO_LARGE, message: 'line longer than 1 MiB (1048576 bytes)' } });
  const other = await RawClient.unix(sock);
  assert.equal((await other.hello()).result !== undefined, true);
  other.close();
});

test('binary garbage closes the connection without a reply; the agent survives', async () => {
  const c = await RawClient.unix(sock);
  // The first bytes of a TLS ClientHello sent to the unix socket by mistake.
  c.send(Buffer.from('16030100f1010000ed0303', 'hex') as unknown as string);
  c.send('\n');
  await c.until(() => c.closed);
  assert.equal(c.lines.length, 0);
  const other = await RawClient.unix(sock);
  assert.equal((await other.hello()).result !== undefined, true);
  other.close();
});

test('events reach subscribers only, serialized as documented', async () => {
  const a = await RawClient.unix(sock);
  const b = await RawClient.unix(sock);
  await a.hello();
  await b.hello();
  assert.deepEqual((await a.request('subscribe', { topics: ['dns', 'stats'] })).result, { topics: ['stats', 'dns'] });
  server.publish('stats', { type: 'stats', ts: 1 });
  server.publish('flows', { type: 'conn', uid: 'C1' });
  server.publish('dns', { type: 'dns', query: 'example.com' });
  await a.until(() => a.events.length === 2);
  assert.deepEqual(a.lines.slice(-2), [
    { jsonrpc: '2.0', method: 'event', params: { topic: 'stats', missed: 0, record: { type: 'stats', ts: 1 } } },
    { jsonrpc: '2.0', method: 'event', params: { topic: 'dns', missed: 0, record: { type: 'dns', query: 'example.com' } } },
  ]);
  await b.request('status');
  assert.equal(b.events.length, 0);
  a.close();
  b.close();
});

test('the bridge tells its SSH session: excluded from capture while the session lasts', async () => {
  const c = await RawClient.unix(sock);
  await c.hello({ via: { ssh_connection: '192.0.2.9 51000 198.51.100.1 22' } });
  assert.deepEqual(exclusions.list(), [{ kind: 'session', proto: 'tcp', localHost: '198.51.100.1', localPort: 22, remoteHost: '192.0.2.9', remotePort: 51000 }]);
  c.close();
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(exclusions.list(), []);
});

test('an SSH session claimed by a client that is no bridge under sshd is not left out of capture, and the claim is logged', async () => {
  const own = new SelfExclusion();
  const ownLogs: Array<Record<string, unknown>> = [];
  const strict = new AgentServer({ name: 's', software: 'x', started: 0, now: () => 0, logger: memoryLogger(ownLogs), status: () => status, exclusions: own });
  const path = join(dir, 'strict.sock');
  const l = await listenUnix(path);
  strict.attach(l, 'unix');
  const c = await RawClient.unix(path);
  assert.equal((await c.hello({ via: { ssh_connection: '192.0.2.9 51000 198.51.100.1 22' } })).error, undefined);
  assert.deepEqual(own.list(), []);
  assert.ok(ownLogs.some((x) => x.level === 'warn' && /claimed an SSH session/.test(String(x.msg)) && x.ssh_connection === '192.0.2.9 51000 198.51.100.1 22'));
  c.close();
  await strict.close();
});

test('a client without hello is closed after the hello timeout', async () => {
  const quick = new AgentServer({ name: 'q', software: 'x', started: 0, now: () => 0, logger: memoryLogger([]), status: () => status, helloTimeoutMs: 50 });
  const path = join(dir, 'quick.sock');
  const l = await listenUnix(path);
  quick.attach(l, 'unix');
  const c = await RawClient.unix(path);
  await c.until(() => c.closed, 2000);
  assert.deepEqual(c.lines, [{ jsonrpc: '2.0', method: 'closing', params: { reason: 'no hello within the time allowed' } }]);
  await quick.close();
});
