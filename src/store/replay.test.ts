/**
 * A generated capture replayed through the engine, per-second stats and the store the way the agent wires
 * them (stats rolled and flushed each second of capture time), against `loopy read --json` on the same file:
 * the series totals at every resolution equal its packets and bytes, the stored flows and DNS transactions
 * its conn and dns records (filters included). The capture crosses minute and hour boundaries so rollups run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { ConnRecord, DnsRecord, LoopyRecord, SummaryRecord } from '../analyze/records.js';
import { runRead } from '../cli/read-run.js';
import { feedBySecond, statsEngine } from '../stats/stats-engine.test-util.js';
import { generatedCapture } from '../test-support/sample-frames.js';
import { HistoryStore } from './history-store.js';
import { tempDir } from './store-fixtures.test-util.js';

const EXTRA = { interfaces: [], process: { cpuPercent: 0, rssBytes: 0 } };
const START = 1_718_002_800 - 100; // 100 s before an hour boundary

/** The agent's loop on a replay: records to the store as they come, a stats roll and a flush per second. */
async function replayIntoStore(bytes: Buffer, store: HistoryStore, setClock: (t: number) => void): Promise<void> {
  const records: LoopyRecord[] = [];
  const { pipeline, stats } = statsEngine({ localNets: ['192.168.10.0/24'] }, {}, records);
  const drain = () => {
    for (const r of records) {
      if (r.type === 'conn') store.appendConn(r as ConnRecord);
      else if (r.type === 'dns') store.appendDns(r as DnsRecord);
    }
    records.length = 0;
  };
  const second = await feedBySecond(bytes, pipeline, (s) => {
    drain();
    store.appendStats(stats.roll(s, EXTRA));
    setClock(s);
    store.flush();
  });
  pipeline.finish();
  drain();
  store.appendStats(stats.roll(second + 1, EXTRA));
  store.flush();
}

/** `loopy read FILE --json`, its NDJSON parsed. */
async function loopyRead(file: string): Promise<LoopyRecord[]> {
  let out = '';
  const sink = (onChunk: (s: string) => void) =>
    new Writable({
      write(chunk: Buffer, _enc, done) {
        onChunk(chunk.toString());
        done();
      },
    });
  const code = await runRead(file, { json: true }, sink((s) => (out += s)), sink(() => undefined));
  assert.equal(code, 0);
  return out.trim().split('\n').map((l) => JSON.parse(l) as LoopyRecord);
}

test('history of a replayed capture: series totals, flows and DNS equal loopy read of the file', async (t) => {
  const dir = tempDir(t);
  const { bytes, truth } = await generatedCapture({ seed: 21, packets: 8000, durationSeconds: 200, startTime: START, incidents: ['nxdomain_burst'] });
  const file = join(dir, '..', 'replay.pcap');
  writeFileSync(file, bytes);
  assert.deepEqual(readFileSync(file), bytes);

  const read = await loopyRead(file);
  const summary = read.find((r): r is SummaryRecord => r.type === 'summary')!;
  const conns = read.filter((r): r is ConnRecord => r.type === 'conn');
  const dnsRecords = read.filter((r): r is DnsRecord => r.type === 'dns');
  assert.equal(summary.packets, truth.packets);

  let clock = 0;
  const store = HistoryStore.open(dir, { clock: () => clock });
  await replayIntoStore(bytes, store, (s) => (clock = s));

  const range = { since: START - 3600, until: START + 3600 };
  for (const resolution of ['1s', '1m', '1h'] as const) {
    const points = store.series({ ...range, resolution });
    assert.equal(points.reduce((a, p) => a + p.packets, 0), summary.packets, resolution);
    assert.equal(points.reduce((a, p) => a + p.bytes, 0), summary.bytes, resolution);
    assert.equal(points.reduce((a, p) => a + p.flows_opened, 0), summary.flows, resolution);
    assert.equal(points.reduce((a, p) => a + p.dns_queries, 0), dnsRecords.length, resolution);
  }
  assert.equal(store.series({ ...range, resolution: '1h' }).length, 2, 'the capture spans two hours');

  const flows = store.flows({ ...range, limit: 100_000 });
  assert.equal(flows.length, conns.length);
  assert.equal(flows.length, summary.flows);
  const key = (c: ConnRecord) => `${c.uid} ${c.ts}`;
  assert.deepEqual(flows.map(key).sort(), conns.map(key).sort());
  // Filters give what the same filter over loopy read's records gives.
  const host = conns[0]['id.resp_h'];
  const withHost = conns.filter((c) => c['id.orig_h'] === host || c['id.resp_h'] === host);
  assert.equal(store.flows({ ...range, host, limit: 100_000 }).length, withHost.length);
  const on443 = conns.filter((c) => c['id.orig_p'] === 443 || c['id.resp_p'] === 443);
  assert.ok(on443.length > 0);
  assert.equal(store.flows({ ...range, port: 443, limit: 100_000 }).length, on443.length);
  assert.equal(store.flows({ ...range, proto: 'udp', limit: 100_000 }).length, conns.filter((c) => c.proto === 'udp').length);
  assert.equal(store.dns({ ...range, limit: 100_000 }).length, dnsRecords.length);
  const nx = dnsRecords.filter((d) => d.rcode_name === 'NXDOMAIN').length;
  assert.ok(nx > 0);
  assert.equal(store.dns({ ...range, limit: 100_000 }).filter((d) => d.rcode_name === 'NXDOMAIN').length, nx);
  store.close();
});
