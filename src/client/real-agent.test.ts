/**
 * The client against a real `loopy agent` replaying a corpus file: status, a stats record each second,
 * reconnect after the agent restarts, the TLS token and the pinned certificate.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { corpusDir, corpusSkipReason } from '../test-support/corpus.js';
import type { AgentClient, ConnectionState, LiveEvent } from './agent-client.js';
import { connectAgent } from './connect-agent.js';
import { RealAgent, agentDir, freePort } from './testing/real-agent.js';

const skip = corpusSkipReason();
const FILE = join(corpusDir, 'dns', 'dnscap__dns.pcap');
const opts = { backoff: { initialMs: 50, maxMs: 300 }, requestTimeoutMs: 20_000, connectTimeoutMs: 5000 };

function until(client: AgentClient, pred: (s: ConnectionState) => boolean): Promise<ConnectionState> {
  return new Promise((resolve) => {
    if (pred(client.connectionState())) return resolve(client.connectionState());
    const off = client.onStateChange((s) => pred(s) && (off(), resolve(s)));
  });
}

async function collect(client: AgentClient, count: number): Promise<Array<{ e: LiveEvent; at: number }>> {
  const got: Array<{ e: LiveEvent; at: number }> = [];
  await new Promise<void>((resolve) => {
    const off = client.subscribe(['stats'], (e) => {
      got.push({ e, at: performance.now() });
      if (got.length === count) off(), resolve();
    });
  });
  return got;
}

test('unix: status, a stats record each second, and back after the agent restarts', { skip, timeout: 60_000 }, async () => {
  const dir = agentDir();
  const sock = `unix:${join(dir, 'agent.sock')}`;
  let agent = RealAgent.start(FILE, join(dir, 'data'), [sock]);
  const client = connectAgent(sock, { ...opts, configDir: dir });
  try {
    const status = await client.status();
    assert.equal(status.source, 'replay');
    assert.equal(status.state, 'running');
    const hello = client.connectionState();
    assert.ok(hello.state === 'connected' && hello.agent.topics.includes('stats'));

    const stats = await collect(client, 3);
    for (let i = 1; i < stats.length; i++) {
      const step = (stats[i]!.e.record as { ts: number }).ts - (stats[i - 1]!.e.record as { ts: number }).ts;
      assert.ok(Math.abs(step - 1) < 0.1, `consecutive stats records ${step} s apart`);
      const gap = stats[i]!.at - stats[i - 1]!.at;
      assert.ok(gap > 500 && gap < 1500, `stats ${gap.toFixed(0)} ms apart`);
      assert.ok((stats[i]!.e.record as { packets: number }).packets > 0);
    }

    const later = await client.status();
    assert.ok(later.interfaces[0]!.received > 0, 'the replay counts packets');
    assert.equal(later.pid, status.pid);

    const live: LiveEvent[] = [];
    client.subscribe(['stats'], (e) => live.push(e));
    await agent.stop();
    await until(client, (s) => s.state === 'disconnected');
    const before = live.length;
    agent = RealAgent.start(FILE, join(dir, 'data'), [sock]);
    await until(client, (s) => s.state === 'connected');
    for (let i = 0; i < 100 && live.length <= before; i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(live.length > before, `stats resumed after the restart (agent stderr: ${agent.stderr.slice(-500)})`);
  } finally {
    client.close();
    await agent.stop();
  }
});

test('tls: wrong token refused; right token pins; a regenerated certificate is refused', { skip, timeout: 60_000 }, async () => {
  const dir = agentDir();
  const data = join(dir, 'data');
  const port = await freePort();
  const where = `tls://127.0.0.1:${port}`;
  let agent = RealAgent.start(FILE, data, [`unix:${join(dir, 'agent.sock')}`, where]);
  try {
    // The unix client waits for the agent to be up; the TLS listener (and its token) may come a moment later.
    const local = connectAgent(`unix:${join(dir, 'agent.sock')}`, { ...opts, configDir: dir });
    await local.status();
    local.close();
    for (let i = 0; i < 100 && !existsSync(join(data, 'token')); i++) await new Promise((r) => setTimeout(r, 100));
    const token = readFileSync(join(data, 'token'), 'utf8').trim();

    const wrong = connectAgent(where, { ...opts, configDir: dir, token: `${token}x` });
    await assert.rejects(wrong.status(), /hello: .*token.*--token/);
    const s = wrong.connectionState();
    assert.ok(s.state === 'disconnected' && s.retryInMs === -1, JSON.stringify(s));
    wrong.close();

    const right = connectAgent(where, { ...opts, configDir: dir, token });
    assert.equal((await right.status()).source, 'replay');
    right.close();
    assert.match(readFileSync(join(dir, 'known_agents'), 'utf8'), new RegExp(`^127\\.0\\.0\\.1:${port} ([0-9A-F]{2}:){31}[0-9A-F]{2}\\n$`));

    // A new key pair on the same address: refused, and the token is never sent to it.
    await agent.stop();
    rmSync(join(data, 'tls-cert.pem'));
    rmSync(join(data, 'tls-key.pem'));
    agent = RealAgent.start(FILE, data, [`unix:${join(dir, 'agent.sock')}`, where]);
    const again = connectAgent(where, { ...opts, configDir: dir, token, backoff: { initialMs: 200, maxMs: 200 } });
    const refused = await until(again, (st) => st.state === 'disconnected' && /CHANGED its certificate/.test(st.error));
    assert.ok(refused.state === 'disconnected' && refused.retryInMs === -1);
    again.close();
  } finally {
    await agent.stop();
  }
});
