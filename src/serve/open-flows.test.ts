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
import { openFlowsQuery, rowsJson, withOpenFlows } from './open-flows.js';
import type { JsonText } from './protocol/framing.js';
import { rowsOf, rowStart } from '../analyze/record-rows.js';
import { connRecord, dnsRecord } from '../store/store-fixtures.test-util.js';

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

const none = rowsOf([]);
const bytesOf = (text: JsonText) => Buffer.concat([...text.parts]);
const stringified = (records: object[]) => Buffer.from(JSON.stringify(records));

test('the merged answer is the text JSON.stringify wrote for the whole list: stored rows copied, open flows first on equal times', () => {
  const stored = [connRecord(90, '10.0.0.1', 40001, '10.0.0.9', 443), connRecord(80, '10.0.0.1', 40002, '10.0.0.9', 53, 'udp'), connRecord(80, '10.0.0.1', 40003, '10.0.0.9', 22),
    connRecord(70, '10.0.0.1', 40004, '10.0.0.9', 443), connRecord(60, '10.0.0.1', 40005, '10.0.0.9', 443)];
  const open = [{ ...connRecord(95, '10.0.0.2', 40006, '10.0.0.9', 443), open: true }, { ...connRecord(80, '10.0.0.2', 40007, '10.0.0.9', 443), open: true },
    { ...connRecord(65, '10.0.0.2', 40008, '10.0.0.9', 443), open: true }];
  const expected = [open[0], stored[0], open[1], stored[1], stored[2], stored[3], open[2], stored[4]];
  assert.deepEqual(bytesOf(withOpenFlows(rowsOf(stored), [rowsOf(open)], 100)), stringified(expected));
  // The limit cuts inside a run of stored rows, and after an open flow.
  assert.deepEqual(bytesOf(withOpenFlows(rowsOf(stored), [rowsOf(open)], 4)), stringified(expected.slice(0, 4)));
  assert.deepEqual(bytesOf(withOpenFlows(rowsOf(stored), [rowsOf(open)], 3)), stringified(expected.slice(0, 3)));
  assert.deepEqual(bytesOf(withOpenFlows(rowsOf(stored), [], 100)), stringified(stored));
  assert.deepEqual(bytesOf(withOpenFlows(rowsOf(stored), [none, none], 100)), stringified(stored));
  assert.deepEqual(bytesOf(withOpenFlows(none, [rowsOf(open)], 100)), stringified(open));
  assert.deepEqual(bytesOf(withOpenFlows(none, [], 100)), stringified([]));
});

test('open flows older than the last of a full page of stored ones are not asked for, and the answer is the same', () => {
  const stored = [90, 80, 70].map((ts, i) => connRecord(ts, '10.0.0.1', 41000 + i, '10.0.0.9', 443));
  const open = [95, 75, 70, 69, 10].map((ts, i) => ({ ...connRecord(ts, '10.0.0.2', 42000 + i, '10.0.0.9', 443), open: true }));
  const q = { since: 0, until: 1000 };
  assert.equal(openFlowsQuery({ ...q, limit: 4 }, rowsOf(stored)).startedFrom, undefined, 'the stored ones do not fill the page');
  for (const limit of [1, 2, 3]) {
    const bound = openFlowsQuery({ ...q, limit }, rowsOf(stored)).startedFrom!;
    assert.equal(bound, stored[limit - 1].ts);
    const needed = open.filter((r) => r.ts >= bound);
    assert.deepEqual(bytesOf(withOpenFlows(rowsOf(stored), [rowsOf(needed)], limit)), bytesOf(withOpenFlows(rowsOf(stored), [rowsOf(open)], limit)), `limit ${limit}`);
  }
});

test("several engines' open flows merge newest first; on equal times the first engine's, then the next's, then the stored", () => {
  const flow = (ts: number, port: number, open: boolean) => ({ ...connRecord(ts, '10.0.0.3', port, '10.0.0.9', 443), ...(open ? { open } : {}) });
  const engineA = [flow(50, 1, true), flow(30, 2, true), flow(30, 3, true), flow(10, 4, true)];
  const engineB = [flow(60, 5, true), flow(30, 6, true), flow(20, 7, true)];
  const stored = [flow(55, 8, false), flow(30, 9, false), flow(5, 10, false)];
  // A stable sort of the lists one after the other is what the answer was before rows.
  const expected = [...engineA, ...engineB, ...stored].sort((a, b) => b.ts - a.ts);
  for (const limit of [1, 2, 5, 7, 10, 100]) {
    assert.deepEqual(bytesOf(withOpenFlows(rowsOf(stored), [rowsOf(engineA), rowsOf(engineB)], limit)), stringified(expected.slice(0, limit)), `limit ${limit}`);
  }
});

test('a row whose time is not a number is still taken: the merge ends, every row once', () => {
  const odd = [{ ts: Number.NaN, uid: 'odd' }, { ts: 7, uid: 'b' }];
  const plain = [{ ts: 9, uid: 'a' }, { ts: 5, uid: 'c' }];
  const merged = JSON.parse(bytesOf(withOpenFlows(rowsOf(plain), [rowsOf(odd)], 10)).toString('utf8')) as Array<{ uid: string }>;
  assert.deepEqual(merged.map((r) => r.uid).sort(), ['a', 'b', 'c', 'odd']);
  assert.equal(JSON.parse(bytesOf(withOpenFlows(rowsOf(plain), [rowsOf(odd)], 2)).toString('utf8')).length, 2);
});

test('stored rows hold multi-byte UTF-8 text: each row ends where its bytes do', () => {
  const names = ['bücher.example', 'пример.испытание', 'plain.example', '🦆.example'];
  const records = names.map((query, i) => ({ ...dnsRecord(100 - i, '10.0.0.5', 'x', 'NOERROR'), query }));
  const rows = rowsOf(records);
  assert.deepEqual([...rows.ts], [100, 99, 98, 97]);
  for (let i = 0; i < records.length; i++) {
    const row = Buffer.from(rows.text.subarray(rowStart(rows, i), rows.ends[i])).toString('utf8');
    assert.deepEqual(JSON.parse(row), records[i]);
  }
  assert.deepEqual(bytesOf(rowsJson(rows)), stringified(records));
});
