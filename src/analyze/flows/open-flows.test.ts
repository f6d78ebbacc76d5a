/**
 * The open flows a query asks for, chosen on the flow table's columns, are exactly those the conn records of
 * every open flow would give after filtering (time, host, port, protocol), newest first and limited: the
 * records are checked against filtering all of them, over a generated capture cut in the middle.
 */
import { type TestContext, test } from 'node:test';
import assert from 'node:assert/strict';
import { generatedCapture } from '../../test-support/sample-frames.js';
import { openFile } from '../library.js';
import type { Engine } from '../engine.js';
import { Pipeline } from '../pipeline.js';
import type { ConnRecord } from '../records.js';
import { connRecordOf } from './conn-record.js';
import { selectOpenFlows, type OpenFlowFilter } from './open-flows.js';
import { rowStart } from '../record-rows.js';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** What a query gave before: a record for every open flow, then the filter on the records. */
function byRecords(all: ConnRecord[], q: OpenFlowFilter): string[] {
  return all
    .filter((r) => !(r.ts >= q.until || r.ts + (r.duration ?? 0) < q.since))
    .filter((r) => q.host === undefined || r['id.orig_h'] === q.host || r['id.resp_h'] === q.host)
    .filter((r) => q.port === undefined || r['id.orig_p'] === q.port || r['id.resp_p'] === q.port)
    .filter((r) => q.proto === undefined || r.proto === q.proto)
    .filter((r) => q.startedFrom === undefined || r.ts >= q.startedFrom)
    .sort((a, b) => b.ts - a.ts)
    .slice(0, q.limit)
    .map((r) => r.uid);
}

/** An engine that read a generated capture and was not finished: the flows still in its table are open, as in a running agent. */
async function engineWithOpenFlows(t: TestContext): Promise<Engine> {
  const dir = mkdtempSync(join(tmpdir(), 'loopy-open-flows-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'traffic.pcap');
  writeFileSync(file, (await generatedCapture({ seed: 9, packets: 30_000 })).bytes);
  const pipeline = new Pipeline();
  await pipeline.run(openFile(file));
  return pipeline.engine;
}

test('open flows chosen on the columns are those the records would give, newest first, limited', async (t) => {
  const engine = await engineWithOpenFlows(t);
  const conns = engine.connections;
  const all: ConnRecord[] = [];
  for (let flow = 0; flow < conns.table.extent; flow++) if (conns.table.isLive(flow)) all.push(connRecordOf(conns, flow, engine.serviceOf(flow)));
  assert.ok(all.length > 100, `${all.length} open flows`);
  const first = Math.min(...all.map((r) => r.ts));
  const last = Math.max(...all.map((r) => r.ts));
  const busiest = [...all.reduce((m, r) => m.set(r['id.resp_h'], (m.get(r['id.resp_h']) ?? 0) + 1), new Map<string, number>())].sort((a, b) => b[1] - a[1])[0][0];
  const queries: OpenFlowFilter[] = [
    { since: 0, until: 2 ** 31, limit: 100_000 },
    { since: 0, until: 2 ** 31, limit: 25 },
    { since: (first + last) / 2, until: 2 ** 31, limit: 100_000 },
    { since: 0, until: (first + last) / 2, limit: 100_000 },
    { since: 0, until: 2 ** 31, limit: 100_000, proto: 'udp' },
    { since: 0, until: 2 ** 31, limit: 100_000, proto: 'tcp', port: 443 },
    { since: 0, until: 2 ** 31, limit: 100_000, host: busiest },
    { since: 0, until: 2 ** 31, limit: 100_000, host: '192.0.2.254' },
    { since: 0, until: 2 ** 31, limit: 100_000, host: 'not-an-address' },
    // Another spelling of an address: the records' text does not match it, nor do the stored flows.
    { since: 0, until: 2 ** 31, limit: 100_000, host: ` ${busiest}` },
    { since: 0, until: 2 ** 31, limit: 100_000, host: `${busiest}`.replace(/^(\d+)\./, '0$1.') },
    { since: 0, until: 2 ** 31, limit: 100_000, startedFrom: (first + last) / 2 },
    { since: 0, until: 2 ** 31, limit: 100_000, startedFrom: all[7].ts },
  ];
  for (const q of queries) {
    const chosen = selectOpenFlows(conns, q).map((flow) => connRecordOf(conns, flow, engine.serviceOf(flow)).uid);
    const expected = byRecords(all, q);
    // Flows that started in the same microsecond may come in either order: compare as sets, then the order of times.
    assert.deepEqual([...chosen].sort(), [...expected].sort(), JSON.stringify(q));
    const ts = [...engine.openConnRows(q).ts];
    assert.deepEqual(ts, [...ts].sort((a, b) => b - a), `newest first: ${JSON.stringify(q)}`);
  }
});

test("open flows' rows are, byte for byte, what JSON.stringify writes for their records marked open", async (t) => {
  const engine = await engineWithOpenFlows(t);
  const q = { since: 0, until: 2 ** 31, limit: 100_000 };
  const flows = selectOpenFlows(engine.connections, q);
  const records = flows.map((flow) => ({ ...connRecordOf(engine.connections, flow, engine.serviceOf(flow)), open: true }));
  assert.ok(records.some((r) => r.service !== undefined) && records.some((r) => r.proto === 'udp') && records.some((r) => r['id.orig_h'].includes(':')),
    'services, UDP and IPv6 among the open flows');
  const rows = engine.openConnRows(q);
  assert.equal(Buffer.from(rows.text).toString('utf8'), JSON.stringify(records).slice(1, -1));
  assert.deepEqual([...rows.ts], records.map((r) => r.ts));
  assert.deepEqual([...rows.ends].map((end, i) => JSON.parse(Buffer.from(rows.text.subarray(rowStart(rows, i), end)).toString('utf8')).uid), records.map((r) => r.uid));
});
