/**
 * `loopy query flows` answers the flows still open, marked as open, beside the ones that ended: a replaying
 * agent is asked while its connections go on, as a user would ask it.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ChildProcess, spawn } from 'node:child_process';
import { agentDir } from '../client/testing/real-agent.js';
import { cliCommand, runCli } from '../test-support/cli.js';
import { generatedCapture } from '../test-support/sample-frames.js';
import { withOpenFlows } from './open-flows.js';
import type { ConnRecord } from '../analyze/records.js';

let child: ChildProcess | undefined;
after(() => child?.kill('SIGKILL'));

type Rec = Record<string, any>;

test('query flows answers open flows, marked "open": true and "open" in the table, before they end', { timeout: 60_000 }, async () => {
  const dir = agentDir();
  const file = join(dir, 'traffic.pcap');
  writeFileSync(file, (await generatedCapture({ seed: 4, packets: 20_000 })).bytes);
  const sock = join(dir, 'a.sock');
  // Real time: flows end by their timeouts, seconds after their packets; the query comes before.
  const [cmd, ...pre] = cliCommand();
  const noConfig = join(dir, 'empty.json');
  writeFileSync(noConfig, '{}');
  child = spawn(cmd, [...pre, 'agent', '--config', noConfig, '-r', file, '--loop', '--speed', '1', '--data', join(dir, 'data'), '--listen', `unix:${sock}`], { stdio: 'ignore' });
  let flows: Rec[] = [];
  for (let i = 0; i < 40 && !flows.some((f) => f.open === true); i++) {
    await new Promise((r) => setTimeout(r, 250));
    const r = runCli(['query', `unix:${sock}`, 'flows', '--json', '--limit', '10000']);
    if (r.status === 0) flows = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Rec);
  }
  const open = flows.filter((f) => f.open === true);
  assert.ok(open.length > 0, 'open flows answered');
  for (const f of open) {
    assert.equal(f.type, 'conn');
    assert.match(f.uid, /^C[0-9A-Za-z]{17}$/);
    assert.ok(typeof f.conn_state === 'string' && f.orig_pkts + f.resp_pkts > 0, 'what the flow did so far');
  }
  assert.deepEqual(flows.map((f) => f.ts), flows.map((f) => f.ts).sort((a, b) => b - a), 'newest first');
  const udp = runCli(['query', `unix:${sock}`, 'flows', '--json', '--proto', 'udp', '--limit', '10000']);
  assert.ok(udp.stdout.split('\n').filter(Boolean).every((l) => (JSON.parse(l) as Rec).proto === 'udp'), 'the filters hold for open flows');
  const table = runCli(['query', `unix:${sock}`, 'flows', '--limit', '50']);
  assert.match(table.stdout, / (S0|S1|SF|OTH|SH|REJ|RSTO|RSTR|S2|S3|RSTOS0|RSTRH|SHR) open /, table.stdout);
});

test('open flows are filtered by time, host, port and proto, merged newest first, limited', () => {
  const conn = (ts: number, host: string, port: number, proto: ConnRecord['proto'], duration = 1): ConnRecord =>
    ({ type: 'conn', ts, uid: `C${ts}`, 'id.orig_h': '10.0.0.1', 'id.orig_p': 40000, 'id.resp_h': host, 'id.resp_p': port, proto, duration, conn_state: 'S1' }) as unknown as ConnRecord;
  const stored = [conn(50, '10.0.0.9', 53, 'udp'), conn(10, '10.0.0.2', 443, 'tcp')];
  const open = [conn(60, '10.0.0.2', 443, 'tcp'), conn(5, '10.0.0.2', 443, 'tcp', 10), conn(1, '10.0.0.2', 443, 'tcp', 2), conn(200, '10.0.0.2', 443, 'tcp')];
  const q = { since: 8, until: 100, limit: 10 };
  // Open at 5 and active until 15: in [8, 100); the one of [1, 3] and the one starting at 200 are not.
  assert.deepEqual(withOpenFlows(stored, open, q).map((r) => r.ts), [60, 50, 10, 5]);
  // The stored ones come filtered by the store; the open ones are filtered here.
  assert.deepEqual(withOpenFlows([], open, { ...q, host: '10.0.0.2' }).map((r) => r.ts), [60, 5]);
  assert.deepEqual(withOpenFlows([], open, { ...q, host: '10.0.0.9' }).map((r) => r.ts), []);
  assert.deepEqual(withOpenFlows([], open, { ...q, port: 40000 }).map((r) => r.ts), [60, 5]);
  assert.deepEqual(withOpenFlows([], open, { ...q, port: 53 }).map((r) => r.ts), []);
  assert.deepEqual(withOpenFlows([], open, { ...q, proto: 'udp' }).map((r) => r.ts), []);
  assert.deepEqual(withOpenFlows(stored, open, { ...q, limit: 2 }).map((r) => r.ts), [60, 50]);
});
