/**
 * Passive DNS through the protocol: a real `loopy agent` replays a capture with DNS answers and traffic to the
 * answered addresses; the `names` method and `loopy query TARGET talkers` (the CLI, as a user runs it) give the
 * names tshark reads from the same answers, and `status` counts the table.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { generateCapture } from '../synth/generate.js';
import { runCliAsync } from '../test-support/cli.js';
import { noTshark, tsharkNames } from '../test-support/tshark-names.js';
import { connectAgent } from './connect-agent.js';
import { RealAgent, agentDir } from './testing/real-agent.js';

test('names: a replaying agent names the addresses its DNS answers named; query talkers shows them', { skip: noTshark, timeout: 120_000 }, async (t) => {
  const dir = agentDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const capture = join(dir, 'office.pcap');
  await generateCapture({ seed: 29, packets: 6000, incidents: [] }, capture);
  const expected = tsharkNames(capture);
  const sock = `unix:${join(dir, 'agent.sock')}`;
  const agent = RealAgent.start(capture, join(dir, 'data'), [sock], '--stay');
  t.after(() => agent.stop());
  const client = connectAgent(sock, { configDir: dir, requestTimeoutMs: 20_000, connectTimeoutMs: 5000, backoff: { initialMs: 50, maxMs: 300 } });
  t.after(() => client.close());
  // Replayed once at full speed, then served: wait until every answer is in (bounded: 60 tries, 0.5 s apart).
  let status = await client.status();
  for (let i = 0; i < 60 && status.passive_names?.size !== expected.size; i++) {
    await new Promise((r) => setTimeout(r, 500));
    status = await client.status();
  }
  assert.deepEqual(status.passive_names, { size: expected.size, capacity: 65_536, evicted: 0 }, agent.stderr);

  const unknown = ['192.0.2.99', '2001:db8::dead'];
  assert.deepEqual(await client.names([...expected.keys(), ...unknown]), Object.fromEntries(expected));
  assert.deepEqual(await client.names(unknown), {});

  const query = await runCliAsync(['query', sock, 'talkers', '--since', '10y', '--limit', '20', '--json']);
  assert.equal(query.code, 0, query.stderr);
  const rows = query.stdout.trim().split('\n').map((l) => JSON.parse(l) as { host: string; name?: string });
  assert.ok(rows.length >= 5, query.stdout);
  for (const r of rows) assert.equal(r.name, expected.get(r.host), `talker ${r.host}`);
  assert.ok(rows.filter((r) => r.name !== undefined).length >= 2, query.stdout);
  const table = await runCliAsync(['query', sock, 'talkers', '--since', '10y']);
  assert.match(table.stdout, /^host\s+bytes\s+packets\s+name\n/);
  const named = rows.find((r) => r.name !== undefined)!;
  assert.match(table.stdout, new RegExp(`\\n${named.host.replace(/\./g, '\\.')}\\s+[\\d,]+\\s+[\\d,]+\\s+${named.name!.replace(/\./g, '\\.')}\\n`));
});

test('names: bad params are INVALID_PARAMS naming the field', async () => {
  const { validateParams } = await import('../serve/protocol/messages.js');
  assert.throws(() => validateParams('names', {}), /bad params for names: addresses/);
  assert.throws(() => validateParams('names', { addresses: [] }), /bad params for names: addresses/);
  assert.throws(() => validateParams('names', { addresses: Array(1001).fill('10.0.0.1') }), /bad params for names: addresses/);
  assert.deepEqual(validateParams('names', { addresses: ['10.0.0.1'] }).params, { addresses: ['10.0.0.1'] });
});
