/**
 * What one client can make the agent hold: requests are answered in order, a few at a time, and not while
 * the client leaves our replies unread; a hello holds back what follows it in the same write.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConnRecord } from '../analyze/records.js';
import { memoryLogger } from './agent.test-util.js';
import { RawClient } from './raw-client.test-util.js';
import { AgentServer, type HistoryBackend } from './server.js';
import { MAX_IN_FLIGHT } from './session.js';
import type { AgentStatus } from './status.js';
import { listenUnix } from './transports.js';
import { rowsOf } from '../analyze/record-rows.js';

const dir = mkdtempSync(join(tmpdir(), 'loopy-limits-'));
const sock = join(dir, 'agent.sock');
const ROWS = 2000;
/** A flows query answered with ROWS made-up flows (about 1 MB of JSON). */
const bigReply: ConnRecord[] = Array.from({ length: ROWS }, (_, i) => ({ type: 'conn', _path: 'conn', ts: 1000 + i, uid: `C${String(i).padStart(17, '0')}`, 'id.orig_h': '10.0.0.1', 'id.orig_p': 40000, 'id.resp_h': '10.0.0.2', 'id.resp_p': 443, proto: 'tcp', community_id: '1:xxxxxxxxxxxxxxxxxxxxxxxxxxx=', duration: 1.5, orig_bytes: 100, resp_bytes: 2000, conn_state: 'SF', history: 'ShADadFf', orig_pkts: 5, orig_ip_bytes: 400, resp_pkts: 6, resp_ip_bytes: 2400, orig_retrans: 0, resp_retrans: 0, orig_ooo: 0, resp_ooo: 0 }));
const bigRows = rowsOf(bigReply.slice().reverse());
let flowsCalls = 0;
let server: AgentServer;
let listener: Server;

const history: HistoryBackend = {
  series: () => [],
  flowRows: () => {
    flowsCalls++;
    return bigRows;
  },
  dnsRows: () => rowsOf([]),
  alerts: () => [],
  topTalkers: () => [],
};

before(async () => {
  server = new AgentServer({
    name: 'limits', software: 'loopy test', started: 1000, now: () => 1234.5, logger: memoryLogger([]), history,
    status: () => ({ type: 'agent_status', pid: 1 }) as unknown as AgentStatus,
  });
  listener = await listenUnix(sock);
  server.attach(listener, 'unix');
});
after(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

const line = (id: number, method: string, params: unknown) => `${JSON.stringify({ jsonrpc: '2.0', id, method, params })}\n`;
const HELLO = { versions: [1], client: { name: 'limits-test', version: '0' } };

test('requests in the same write as hello wait for its answer instead of being refused', async () => {
  const c = await RawClient.unix(sock);
  c.send(line(1, 'hello', HELLO) + line(2, 'status', {}) + line(3, 'subscribe', { topics: ['stats'] }));
  await c.until(() => c.lines.filter((l) => l.id !== undefined).length === 3);
  assert.deepEqual(c.lines.map((l) => [l.id, l.error === undefined]), [[1, true], [2, true], [3, true]]);
  c.close();
});

test('200 broad queries pipelined by a client that does not read: a few are answered at a time, all in the end', async () => {
  const socket: Socket = connect(sock);
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.pause(); // the client reads nothing for now
  flowsCalls = 0;
  let batch = line(1, 'hello', HELLO);
  for (let id = 2; id <= 201; id++) batch += line(id, 'history.flows', { since: 0, until: 2000, limit: ROWS });
  socket.write(batch);
  // Long enough for every query to have been answered, were they all started at once.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  assert.ok(flowsCalls <= MAX_IN_FLIGHT + 1, `${flowsCalls} queries answered for a client that read nothing`);
  // Now it reads: every query is answered, in order.
  let text = '';
  const ids: number[] = [];
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    text += chunk;
    let nl;
    while ((nl = text.indexOf('\n')) >= 0) {
      ids.push((JSON.parse(text.slice(0, nl)) as { id: number }).id);
      text = text.slice(nl + 1);
    }
  });
  socket.resume();
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${ids.length} replies`)), 30_000);
    const check = setInterval(() => {
      if (ids.length < 201) return;
      clearInterval(check);
      clearTimeout(timer);
      resolve();
    }, 20);
  });
  assert.deepEqual(ids, Array.from({ length: 201 }, (_, i) => i + 1));
  assert.equal(flowsCalls, 200);
  socket.destroy();
});

test('bare connections waiting for their hello are capped per transport and per address, and never lock out the others', async () => {
  const capped = new AgentServer({
    name: 'capped', software: 'loopy test', started: 0, now: () => 0, logger: memoryLogger([]),
    status: () => ({ type: 'agent_status', pid: 1 }) as unknown as AgentStatus, maxUnauthenticated: 6, maxUnauthenticatedPerAddress: 2,
  });
  const capSock = join(dir, 'capped.sock');
  const capListener = await listenUnix(capSock);
  capped.attach(capListener, 'unix');
  try {
    // TLS connections that never say hello (streams handed in as the TLS listener would).
    const { PassThrough } = await import('node:stream');
    const bare = (address: string) => capped.accept(new PassThrough(), 'tls', address);
    assert.ok(bare('198.51.100.1') && bare('198.51.100.1'));
    assert.equal(bare('198.51.100.1'), undefined, 'a third from one address waits for none of the first two: refused');
    for (let i = 2; i <= 5; i++) assert.ok(bare(`198.51.100.${i}`));
    assert.equal(bare('198.51.100.9'), undefined, 'the TLS pool is full');
    // The unix socket has its own pool: a local client still gets in, and is served.
    const local = await RawClient.unix(capSock);
    assert.equal((await local.hello()).error, undefined);
    assert.equal((await local.request('status')).error, undefined);
    local.close();
  } finally {
    await capped.close();
  }
});

test('a client that subscribes to nothing and asks nothing is closed when idle; a subscriber is kept', async () => {
  const idle = new AgentServer({
    name: 'idle', software: 'loopy test', started: 0, now: () => 0, logger: memoryLogger([]),
    status: () => ({ type: 'agent_status', pid: 1 }) as unknown as AgentStatus, idleTimeoutMs: 300,
  });
  const idleSock = join(dir, 'idle.sock');
  const idleListener = await listenUnix(idleSock);
  idle.attach(idleListener, 'unix');
  try {
    const quiet = await RawClient.unix(idleSock);
    const watcher = await RawClient.unix(idleSock);
    await quiet.hello();
    await watcher.hello();
    await watcher.request('subscribe', { topics: ['stats'] });
    await quiet.until(() => quiet.closed, 5000);
    assert.ok(quiet.lines.some((l) => l.method === 'closing' && /idle/.test(String((l.params as { reason: string }).reason))));
    assert.equal(watcher.closed, false);
    watcher.close();
  } finally {
    await idle.close();
  }
});
