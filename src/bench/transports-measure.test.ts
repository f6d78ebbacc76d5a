/**
 * The transports benchmark's measuring code against the fake agent (src/client/testing/fake-agent.ts, the
 * protocol with canned answers over a unix socket): what each measurement asks, how many times, and what it
 * computes; and the /proc CPU split with real busy child processes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAgent } from '../client/connect-agent.js';
import { FakeAgent, type FakeAgentOptions } from '../client/testing/fake-agent.js';
import { wireConn, wireStats, wireStatus } from '../client/testing/wire-records.js';
import {
  collectStatsDelay,
  cpuBetween,
  jsonBytes,
  measureBurst,
  measureLargeReply,
  measureLatency,
  measureSetup,
  readCpu,
  summarize,
  whenConnected,
} from './transports-measure.js';

async function withFake(handlers: FakeAgentOptions['handlers'], body: (fake: FakeAgent, target: string, dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'loopy-transports-test-'));
  const path = join(dir, 'agent.sock');
  const fake = await new FakeAgent({ handlers }).listen({ path });
  try {
    await body(fake, `unix:${path}`, dir);
  } finally {
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const count = (fake: FakeAgent, method: string) => fake.requests.filter((r) => r.method === method).length;

test('summarize: median and p99 by rank (sorted [1..5]: index 2 and 4); nothing gives NaN', () => {
  assert.deepEqual(summarize([5, 1, 4, 2, 3]), { median: 3, p99: 5, n: 5 });
  const hundred = Array.from({ length: 100 }, (_, i) => 100 - i); // 1..100 reversed: p99 is index 99, i.e. 100
  assert.deepEqual(summarize(hundred), { median: 51, p99: 100, n: 100 });
  assert.ok(Number.isNaN(summarize([]).median));
});

test('measureSetup: one hello per fresh connection, each closed; an agent that is not there rejects', async () => {
  await withFake({}, async (fake, target, dir) => {
    const open = () => connectAgent(target, { configDir: dir, reconnect: false });
    const s = await measureSetup(open, 4, 5000);
    assert.equal(s.n, 4);
    assert.ok(s.median > 0 && s.p99 >= s.median);
    assert.equal(count(fake, 'hello'), 4);
    for (let i = 0; i < 50 && fake.sessions.size > 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(fake.sessions.size, 0, 'every setup connection was closed');
    const nowhere = () => connectAgent(`unix:${join(dir, 'missing.sock')}`, { configDir: dir, reconnect: false });
    await assert.rejects(measureSetup(nowhere, 1, 5000), /no such socket/);
  });
});

test('measureLatency, measureBurst: exactly the number of status requests asked for', async () => {
  await withFake({ status: () => wireStatus(1) }, async (fake, target, dir) => {
    const client = connectAgent(target, { configDir: dir, reconnect: false });
    try {
      await whenConnected(client, 5000);
      const times = await measureLatency(client, 30);
      assert.equal(times.length, 30);
      assert.ok(times.every((t) => t > 0));
      assert.equal(count(fake, 'status'), 30);
      const burst = await measureBurst(client, 101, 8);
      assert.equal(count(fake, 'status'), 131, 'the burst sends 101, not one per worker more');
      assert.ok(burst.seconds > 0 && Math.abs(burst.perSecond - 101 / burst.seconds) < 1e-6);
    } finally {
      client.close();
    }
  });
});

test('measureLargeReply: asks history.flows for `limit` rows up to now; jsonBytes is the rows as JSON', async () => {
  const rows = (limit: number) => Array.from({ length: limit }, (_, i) => ({ ...wireConn(`C${i}`), note: 'é' }));
  await withFake({ 'history.flows': (p) => rows(p.limit as number) }, async (fake, target, dir) => {
    const client = connectAgent(target, { configDir: dir, reconnect: false });
    try {
      const before = Date.now() / 1000;
      const reply = await measureLargeReply(client, 250, 3);
      assert.equal(reply.times.length, 3);
      assert.equal(reply.last.length, 250);
      const asked = fake.requests.filter((r) => r.method === 'history.flows');
      assert.equal(asked.length, 3);
      assert.equal(asked[0]!.params.limit, 250);
      assert.equal(asked[0]!.params.since, 0);
      assert.ok((asked[0]!.params.until as number) > before, 'the range reaches past now');
      // 'é' is two bytes in UTF-8: bytes, not UTF-16 units.
      const text = JSON.stringify(rows(250));
      assert.equal(jsonBytes(reply.last), text.length + 250);
    } finally {
      client.close();
    }
  });
});

test('collectStatsDelay: now minus the record ts, in ms; reset drops what came before', async () => {
  await withFake({}, async (fake, target, dir) => {
    const client = connectAgent(target, { configDir: dir, reconnect: false });
    try {
      await whenConnected(client, 5000);
      const c = collectStatsDelay(client);
      for (let i = 0; i < 50 && fake.publish('stats', wireStats(Date.now() / 1000)) === 0; i++) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 100));
      c.reset();
      const sentAt = Date.now();
      fake.publish('stats', wireStats(sentAt / 1000 - 0.25)); // rolled 250 ms before it was sent
      await new Promise((r) => setTimeout(r, 100));
      const delays = c.stop();
      assert.equal(delays.length, 1);
      assert.ok(delays[0]! >= 250 && delays[0]! < 250 + 100 + (Date.now() - sentAt), `delay ${delays[0]} ms`);
    } finally {
      client.close();
    }
  });
});

/** A child that burns `ms` of CPU, says so on stdout, then idles (alive) or exits. */
function burner(ms: number, stay: boolean) {
  const code = `const s=process.cpuUsage();while((process.cpuUsage(s).user+process.cpuUsage(s).system)/1e3<${ms}){}process.stdout.write('done\\n');${stay ? 'setInterval(()=>{},1e6)' : ''}`;
  return spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'ignore'] });
}

test('readCpu: a busy server root counts as server; a reaped other child counts as client', async () => {
  const server = burner(300, true);
  const other = burner(300, false);
  try {
    // Both waits set up before either can happen: `other` may well finish first.
    const done = Promise.all([once(server.stdout!, 'data'), once(other, 'exit')]);
    const a = readCpu([server.pid!]);
    await done; // `other` reaped by Node: its time is in our cutime now
    const b = readCpu([server.pid!]);
    const spent = cpuBetween(a, b, 0);
    assert.ok(spent.agent >= 0.2 && spent.agent < 0.6, `server ${spent.agent} s`);
    // Under 0.55 s: the server child (another 0.3 s) is not counted on our side as well.
    assert.ok(spent.client >= 0.2 && spent.client < 0.55, `client ${spent.client} s`);
    assert.equal(spent.relay, 0, 'one server root: nothing relayed');
    // The idle baseline comes off the agent only, never below zero.
    const lessIdle = cpuBetween(a, b, 1000);
    assert.equal(lessIdle.agent, 0);
    assert.equal(lessIdle.client, spent.client);
  } finally {
    server.kill();
    other.kill();
  }
});

test('cpuBetween: the second root is the relay; the baseline is per second of the window', () => {
  const a = { client: 1, server: 10, perRoot: [7, 3], at: 0 };
  const b = { client: 1.5, server: 12.5, perRoot: [8.5, 4], at: 2000 };
  const spent = cpuBetween(a, b, 0.25);
  assert.equal(spent.seconds, 2);
  assert.equal(spent.client, 0.5);
  assert.equal(spent.agent, 1.5 - 0.5); // 1.5 s spent, 0.25 × 2 s of it idle
  assert.equal(spent.relay, 1);
});
