/**
 * Fuzzing the agent protocol: seeded random and mutated JSON-RPC lines from several clients at once, bounded
 * (LOOPY_FUZZ_LINES, default 6,000). Every reply must be well-formed JSON-RPC, no line may make the agent
 * fail answering (an INTERNAL_ERROR is a bug found), and at the end a well-behaved client is served as usual.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryLogger } from './agent.test-util.js';
import { ErrorCode } from './protocol/errors.js';
import { METHODS } from './protocol/messages.js';
import { RawClient } from './raw-client.test-util.js';
import { AgentServer } from './server.js';
import type { AgentStatus } from './status.js';
import { listenUnix } from './transports.js';
import { xorshift32 } from '../test-support/random.js';
import { rowsOf } from '../analyze/record-rows.js';

const LINES = Number(process.env.LOOPY_FUZZ_LINES ?? 6000);
const SEED = Number(process.env.LOOPY_FUZZ_SEED ?? 20261204);

function xorshift(seed: number): (n: number) => number {
  const next = xorshift32(seed);
  return (n) => next() % n;
}

/** Values of every JSON type and some that break naive code: huge, negative, fractional, deep, long. */
function randomValue(rand: (n: number) => number, depth = 0): unknown {
  switch (rand(depth > 2 ? 8 : 11)) {
    case 0: return null;
    case 1: return rand(2) === 0;
    case 2: return rand(100000) - 50000;
    case 3: return [1e308, -1e308, 0.1, -0, 2 ** 53 + 1, 1e-300][rand(6)];
    case 4: return 'x'.repeat(rand(300));
    case 5: return ['since', 'until', '10.0.0.0/8', '::', 'not-an-ip', '1h', '\u0000', '\ud800', 'stats', 'flows'][rand(10)];
    case 6: return '';
    case 7: return rand(3) === 0 ? 'hello' : 'A-1';
    case 8: return Array.from({ length: rand(5) }, () => randomValue(rand, depth + 1));
    case 9: {
      const o: Record<string, unknown> = {};
      for (let i = rand(5); i > 0; i--) o[['since', 'until', 'limit', 'topics', 'host', 'port', 'proto', 'versions', 'client', 'token', 'via', 'alert_id', 'source', 'expires_at', '__proto__', 'constructor'][rand(16)]] = randomValue(rand, depth + 1);
      return o;
    }
    default: return { versions: [rand(3)], client: { name: randomValue(rand, depth + 1), version: '1' } };
  }
}

/** Params a method would take, with one field now and then replaced by anything. */
function plausibleParams(rand: (n: number) => number, method: string): Record<string, unknown> {
  const base: Record<string, unknown> = method.startsWith('history.')
    ? { since: rand(2000), until: 2000 + rand(2000), ...(method === 'history.series' ? { resolution: ['1s', '1m', '1h'][rand(3)] } : { host: ['10.0.0.1', '::1', 'x'][rand(3)], port: rand(70000), proto: ['tcp', 'udp', 'icmp', 'sctp'][rand(4)] }), limit: rand(12000) }
    : method === 'alerts.suppress' ? { source: ['10.0.0.0/8', '10.0.0.0/99', '::/0', 'x'][rand(4)], detector: 'port_scan', expires_at: rand(5000) }
      : method === 'alerts.ack' ? { alert_id: `A-${rand(10)}` }
        : method === 'subscribe' || method === 'unsubscribe' ? { topics: [['stats', 'flows', 'dns', 'alerts', 'nope'][rand(5)]] }
          : {};
  if (rand(3) === 0) {
    const keys = Object.keys(base);
    if (keys.length > 0) base[keys[rand(keys.length)]] = randomValue(rand);
  }
  return base;
}

/** One line: a plausible request with random params, a mangled one, or bytes. */
function randomLine(rand: (n: number) => number): string {
  const kind = rand(10);
  if (kind === 0) return Array.from({ length: rand(64) }, () => String.fromCharCode(32 + rand(95))).join('');
  if (kind === 1) return JSON.stringify(randomValue(rand));
  const method = rand(6) === 0 ? ['bogus', '', 'hello ', 'history.', '__proto__', 'constructor'][rand(6)] : METHODS[rand(METHODS.length)];
  // Mostly a sound envelope, so the fuzz reaches the methods' own checks; now and then a broken one.
  const request: Record<string, unknown> = { jsonrpc: rand(20) === 0 ? '1.0' : '2.0', method };
  const idKind = rand(16);
  if (idKind !== 0) request.id = idKind < 12 ? rand(1000) : idKind < 14 ? `id-${rand(100)}` : [null, 1.5, [], {}][rand(4)];
  const paramsKind = rand(10);
  if (paramsKind < 6) request.params = plausibleParams(rand, method);
  else if (paramsKind < 9) request.params = randomValue(rand);
  let text = JSON.stringify(request);
  // Now and then cut or flip a character: malformed JSON mid-stream.
  if (rand(10) === 0) text = text.slice(0, rand(text.length));
  if (rand(15) === 0) text = text.replace(/[{}[\]":,]/, ['{', '}', '[', ']', '"', ':', ','][rand(7)]);
  return text;
}

test(`the agent protocol under ${LINES} seeded random and mutated lines from several clients: well-formed answers, no failure, still serving`, { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'loopy-fuzz-'));
  const sock = join(dir, 'agent.sock');
  const logs: Array<Record<string, unknown>> = [];
  const server = new AgentServer({
    name: 'fuzz', software: 'loopy test', started: 0, now: () => 1000, logger: memoryLogger(logs),
    status: () => ({ type: 'agent_status', pid: 1 }) as unknown as AgentStatus,
    history: { series: () => [], flowRows: () => rowsOf([]), dnsRows: () => rowsOf([]), alerts: () => [], topTalkers: () => [] },
    alerts: { ack: () => undefined, suppress: () => 1 },
  });
  const listener = await listenUnix(sock);
  server.attach(listener, 'unix');
  const rand = xorshift(SEED);
  const malformed: string[] = [];
  let replies = 0;
  /** Kinds of successful results seen (the first characters of each), to know the fuzz got past hello. */
  const answered = new Set<string>();
  try {
    const client = () =>
      new Promise<Socket>((resolve, reject) => {
        const s = connect(sock, () => {
          // Most clients say hello first, so the fuzz reaches every method, not only HELLO_REQUIRED.
          if (rand(4) !== 0) s.write(`${JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'hello', params: { versions: [1], client: { name: 'fuzz', version: '0' } } })}\n`);
          resolve(s);
        });
        s.once('error', reject);
        let buf = '';
        s.setEncoding('utf8');
        s.on('data', (chunk: string) => {
          buf += chunk;
          let nl;
          while ((nl = buf.indexOf('\n')) >= 0) {
            const line = buf.slice(0, nl);
            buf = buf.slice(nl + 1);
            replies++;
            if (line.includes('"result"')) answered.add(line.replace(/^.*?"result":(.{0,12}).*$/, '$1'));
            try {
              const m = JSON.parse(line) as { jsonrpc?: unknown; id?: unknown; result?: unknown; error?: { code?: unknown }; method?: unknown };
              const ok = m.jsonrpc === '2.0' && (m.method !== undefined || (('result' in m) !== ('error' in m) && (m.error === undefined || typeof m.error.code === 'number')));
              if (!ok) malformed.push(line.slice(0, 200));
            } catch {
              malformed.push(line.slice(0, 200));
            }
          }
        });
        s.on('error', () => {});
      });
    const sockets = await Promise.all(Array.from({ length: 8 }, client));
    for (let sent = 0; sent < LINES; sent += 50) {
      // 50 lines at a time to a random client (a fresh one when the agent closed it: garbage ends a session).
      const k = rand(sockets.length);
      if (sockets[k].destroyed || sockets[k].writableEnded) sockets[k] = await client();
      let chunk = '';
      for (let i = 0; i < 50; i++) chunk += `${randomLine(rand)}\n`;
      sockets[k].write(chunk);
      await new Promise((r) => setImmediate(r));
    }
    await new Promise((r) => setTimeout(r, 300));
    for (const s of sockets) s.destroy();
    assert.deepEqual(malformed, [], 'every reply is JSON-RPC 2.0');
    assert.ok(replies > LINES / 10, `${replies} replies`);
    assert.ok(answered.size >= 6, `methods answered past hello: ${[...answered]}`);
    const failures = logs.filter((l) => l.msg === 'failure answering a client');
    assert.deepEqual(failures.map((l) => l.err), [], 'no line made the agent fail');
    // Still serving a well-behaved client.
    const c = await RawClient.unix(sock);
    assert.equal((await c.hello()).error, undefined);
    const status = await c.request('status');
    assert.equal(status.error, undefined);
    assert.notEqual((await c.request('history.flows', { since: 0, until: 1 })).error?.code, ErrorCode.INTERNAL_ERROR);
    c.close();
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
