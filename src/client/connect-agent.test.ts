/**
 * The client against a fake agent (testing/fake-agent.ts) on a real unix socket and a real TLS listener:
 * hello, requests, live events, reconnect with re-subscription, token and certificate refusals.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { join } from 'node:path';
import selfsigned from 'selfsigned';
import type { AgentClient, ConnectionState, LiveEvent } from './agent-client.js';
import { connectAgent } from './connect-agent.js';
import { FakeAgent } from './testing/fake-agent.js';
import { wireConn, wireDns, wireSeriesPoint, wireStats, wireStatus } from './testing/wire-records.js';
import { testDir } from '../test-support/temp-dir.js';

const tempDir = () => testDir('loopy-client-');
const fast = { backoff: { initialMs: 20, maxMs: 100 }, requestTimeoutMs: 5000, connectTimeoutMs: 2000 };

/** Resolves when the client reaches a state matching `pred`. */
function until(client: AgentClient, pred: (s: ConnectionState) => boolean): Promise<ConnectionState> {
  return new Promise((resolve) => {
    if (pred(client.connectionState())) return resolve(client.connectionState());
    const off = client.onStateChange((s) => {
      if (pred(s)) {
        off();
        resolve(s);
      }
    });
  });
}

async function waitFor(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail(`timed out waiting for ${what}`);
}

const makeCert = async () => {
  const pems = await selfsigned.generate([{ name: 'commonName', value: 'loopy-test' }], { keySize: 2048 });
  return { key: pems.private, cert: pems.cert };
};

test('unix: hello, then requests carry their params and return the agent\'s answers', async () => {
  const dir = tempDir();
  const sock = join(dir, 'agent.sock');
  const flows = [wireConn('C1')];
  const agent = await new FakeAgent({
    handlers: {
      status: () => wireStatus(42), 'history.flows': () => flows, 'history.series': () => [wireSeriesPoint(60, 5)],
      'history.talkers': () => [{ host: '10.0.0.1', bytes: 900, packets: 9 }], 'history.alerts': () => [{ type: 'conn' }],
    },
  }).listen({ path: sock });
  const client = connectAgent(`unix:${sock}`, { ...fast, configDir: dir });
  const states: string[] = [];
  client.onStateChange((s) => states.push(s.state));
  try {
    assert.equal((await client.status()).pid, 42);
    assert.deepEqual(await client.flows({ since: 100, until: 200, host: '10.0.0.1', port: 53, proto: 'udp', limit: 5 }), flows);
    assert.deepEqual(await client.series({ since: 0, until: 120, resolution: '1m' }), [wireSeriesPoint(60, 5)]);
    assert.deepEqual(await client.talkers({ since: 100, until: 200, limit: 3 }), [{ host: '10.0.0.1', bytes: 900, packets: 9 }]);
    assert.deepEqual(agent.requests.find((r) => r.method === 'history.talkers')!.params, { since: 100, until: 200, limit: 3 });
    await assert.rejects(client.dns({ since: 0, until: 1 }), /history\.dns: unknown method/);
    // A reply of the wrong shape is refused, naming the method and the field (the protocol's result schema).
    await assert.rejects(client.alerts({ since: 0, until: 1 }), /the reply to history\.alerts is not a loopy agent's \(0\.type: /);
    const hello = agent.requests[0]!;
    assert.equal(hello.method, 'hello');
    assert.deepEqual(hello.params.versions, [1]);
    assert.equal(hello.params.token, undefined);
    assert.deepEqual(agent.requests.find((r) => r.method === 'history.flows')!.params, { since: 100, until: 200, host: '10.0.0.1', port: 53, proto: 'udp', limit: 5 });
    const state = client.connectionState();
    assert.equal(state.state, 'connected');
    assert.equal(state.state === 'connected' && state.agent.name, 'fake');
    assert.deepEqual(states, ['connected']);
  } finally {
    client.close();
    await agent.close();
  }
  assert.equal(client.connectionState().state, 'closed');
});

test('live events reach the subscribers of their topic, and survive an agent restart', async () => {
  const dir = tempDir();
  const sock = join(dir, 'agent.sock');
  let agent = await new FakeAgent().listen({ path: sock });
  const client = connectAgent(`unix:${sock}`, { ...fast, configDir: dir });
  const stats: LiveEvent[] = [];
  const dns: LiveEvent[] = [];
  client.subscribe(['stats'], (e) => stats.push(e));
  const offDns = client.subscribe(['dns', 'stats'], (e) => dns.push(e));
  try {
    await waitFor(() => [...agent.sessions].some((s) => s.topics.has('stats') && s.topics.has('dns')), 'subscription');
    agent.publish('stats', { type: 'stats', ts: 0 }); // not a stats record: dropped, never handed on
    agent.publish('stats', wireStats(1));
    agent.publish('dns', wireDns('example.org'), 3);
    await waitFor(() => dns.length === 2, 'events');
    assert.deepEqual(stats, [{ topic: 'stats', record: wireStats(1), missed: 0 }]);
    assert.deepEqual(dns[1], { topic: 'dns', record: wireDns('example.org'), missed: 3 });

    offDns();
    await waitFor(() => [...agent.sessions].every((s) => !s.topics.has('dns')), 'unsubscribe of dns');
    assert.ok([...agent.sessions].every((s) => s.topics.has('stats')), 'stats is still wanted by the first subscriber');

    // The agent dies; the client notices, backs off, and comes back to a new agent on the same socket.
    await agent.close();
    const down = await until(client, (s) => s.state === 'disconnected');
    assert.ok(down.state === 'disconnected' && down.retryInMs > 0 && down.retryInMs <= 100, JSON.stringify(down));
    agent = await new FakeAgent().listen({ path: sock });
    await until(client, (s) => s.state === 'connected');
    await waitFor(() => [...agent.sessions].some((s) => s.topics.has('stats')), 're-subscription');
    assert.deepEqual([...[...agent.sessions][0]!.topics], ['stats']);
    agent.publish('stats', wireStats(2));
    await waitFor(() => stats.length === 2, 'event after reconnect');
    assert.equal(dns.length, 2);
  } finally {
    client.close();
    await agent.close();
  }
});

test('a request made while the agent is down waits for the reconnect', async () => {
  const dir = tempDir();
  const sock = join(dir, 'agent.sock');
  const client = connectAgent(`unix:${sock}`, { ...fast, configDir: dir });
  try {
    const down = await until(client, (s) => s.state === 'disconnected');
    assert.match(down.state === 'disconnected' ? down.error : '', /no such socket/);
    const pending = client.status();
    const agent = await new FakeAgent({ handlers: { status: () => wireStatus(7) } }).listen({ path: sock });
    assert.equal((await pending).pid, 7);
    await agent.close();
  } finally {
    client.close();
  }
});

test('without reconnect, a dead target fails the request with the reason', async () => {
  const dir = tempDir();
  const client = connectAgent(`unix:${join(dir, 'nothing.sock')}`, { ...fast, configDir: dir, reconnect: false });
  await assert.rejects(client.status(), /unix:.*nothing\.sock: no such socket/);
  const s = client.connectionState();
  assert.ok(s.state === 'disconnected' && s.retryInMs === -1);
  client.close();
});

test('tls: the token is sent, a wrong token is refused for good, the config supplies it by name', async () => {
  const dir = tempDir();
  const agent = await new FakeAgent({ token: 'right', tls: await makeCert(), handlers: { status: () => wireStatus(1) } }).listen({ host: '127.0.0.1', port: 0 });
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ agents: { web1: { target: `tls://127.0.0.1:${agent.port}`, token: 'right' } } }));
  try {
    const good = connectAgent('web1', { ...fast, configDir: dir });
    assert.equal((await good.status()).pid, 1);
    assert.equal(agent.requests[0]!.params.token, 'right');
    good.close();

    const bad = connectAgent(`tls://127.0.0.1:${agent.port}`, { ...fast, configDir: dir, token: 'wrong' });
    await assert.rejects(bad.status(), /unauthorized.*--token/);
    const s = bad.connectionState();
    assert.ok(s.state === 'disconnected' && s.retryInMs === -1, 'a wrong token is not retried');
    bad.close();
  } finally {
    await agent.close();
  }
});

test('tls: the certificate is pinned on first use and a changed one is refused', async () => {
  const dir = tempDir();
  let agent = await new FakeAgent({ tls: await makeCert(), handlers: { status: () => wireStatus(1) } }).listen({ host: '127.0.0.1', port: 0 });
  const port = agent.port;
  const pins: string[] = [];
  const first = connectAgent(`tls://127.0.0.1:${port}`, { ...fast, configDir: dir, onPin: (key, fp, how) => pins.push(`${key} ${how}`) });
  await first.status();
  first.close();
  assert.deepEqual(pins, [`127.0.0.1:${port} pinned-first-use`]);
  const pinned = readFileSync(join(dir, 'known_agents'), 'utf8');
  assert.match(pinned, new RegExp(`^127\\.0\\.0\\.1:${port} ([0-9A-F]{2}:){31}[0-9A-F]{2}\\n$`));

  // Same port, new key: the agent was replaced (or someone is in the middle).
  await agent.close();
  agent = await new FakeAgent({ tls: await makeCert(), handlers: { status: () => wireStatus(2) } }).listen({ host: '127.0.0.1', port });
  try {
    const second = connectAgent(`tls://127.0.0.1:${port}`, { ...fast, configDir: dir });
    await assert.rejects(second.status(), (e: Error) => /CHANGED its certificate/.test(e.message) && !e.message.includes('\n'));
    assert.equal(agent.requests.length, 0, 'nothing, not even the token, was sent to the changed agent');
    second.close();
    assert.equal(readFileSync(join(dir, 'known_agents'), 'utf8'), pinned);
  } finally {
    await agent.close();
  }
});

test('tls: a TLS server that is not an agent (an echo server) gets no pin; the agent later there does', async () => {
  const dir = tempDir();
  const cert = await makeCert();
  // node:tls echo server on loopback: it completes the handshake and sends the hello back as it came.
  const echo = createTlsServer(cert, (socket) => socket.pipe(socket));
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  const port = (echo.address() as AddressInfo).port;
  const pins: string[] = [];
  try {
    const client = connectAgent(`tls://127.0.0.1:${port}`, { ...fast, configDir: dir, reconnect: false, onPin: (key, fp, how) => pins.push(`${key} ${how}`) });
    await assert.rejects(client.status(), /not a loopy agent's|hello/);
    client.close();
  } finally {
    await new Promise((r) => echo.close(r));
  }
  assert.equal(pins.length, 0, 'no pin reported');
  assert.equal(existsSync(join(dir, 'known_agents')), false, 'nothing pinned for a peer that is not an agent');
  // An agent with another certificate on that port is not refused as CHANGED: it is pinned once it answers hello.
  const agent = await new FakeAgent({ tls: await makeCert(), handlers: { status: () => wireStatus(1) } }).listen({ host: '127.0.0.1', port });
  try {
    const client = connectAgent(`tls://127.0.0.1:${port}`, { ...fast, configDir: dir, onPin: (key, fp, how) => pins.push(`${key} ${how}`) });
    assert.equal((await client.status()).pid, 1);
    client.close();
    assert.deepEqual(pins, [`127.0.0.1:${port} pinned-first-use`]);
    assert.match(readFileSync(join(dir, 'known_agents'), 'utf8'), new RegExp(`^127\\.0\\.0\\.1:${port} `));
  } finally {
    await agent.close();
  }
});

test('ssh: what ssh says on stderr becomes the error', async () => {
  const dir = tempDir();
  // A stand-in for ssh that fails as a refused key does; it also records its arguments.
  const fakeSsh = join(dir, 'ssh');
  writeFileSync(fakeSsh, `#!/bin/sh\necho "$@" > ${dir}/args\necho "root@10.9.9.9: Permission denied (publickey)." >&2\nexit 255\n`);
  chmodSync(fakeSsh, 0o755);
  const oldPath = process.env.PATH;
  process.env.PATH = `${dir}:${oldPath}`;
  try {
    const client = connectAgent('ssh://root@10.9.9.9:2222', { ...fast, configDir: dir, reconnect: false, sshOptions: ['-i', '/k'], sshCommand: '/opt/loopy bridge' });
    await assert.rejects(client.status(), /ssh: root@10\.9\.9\.9: Permission denied \(publickey\)\./);
    client.close();
    assert.equal(readFileSync(join(dir, 'args'), 'utf8').trim(), '-T -o BatchMode=yes -i /k -p 2222 -- root@10.9.9.9 /opt/loopy bridge');
  } finally {
    process.env.PATH = oldPath;
  }
});
