/** DNS transactions through segment columns: the engine's records come back as the very lines it printed. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { DnsRecord } from '../analyze/records.js';
import { generateCapture } from '../synth/generate.js';
import { runEngineOnFile } from '../test-support/run-engine.js';
import { dnsShape } from './dns-columns.js';
import { HistoryStore } from './history-store.js';
import { dnsRecord, tempDir } from './store-fixtures.test-util.js';
import { DATABASE_FILE } from './types.js';

test("the engine's dns records come back as the lines loopy read printed, from columns alone", async (t) => {
  const dir = tempDir(t);
  const capture = join(dir, '..', 'dns.pcap');
  // NXDOMAIN bursts and a tunnel: answers and none, response codes, odd names, lone queries.
  await generateCapture({ seed: 5, packets: 6000, incidents: ['nxdomain_burst', 'dns_tunnel'] }, capture);
  const records = (await runEngineOnFile(capture)).records.filter((r): r is DnsRecord => r.type === 'dns');
  assert.ok(records.length > 200);
  assert.ok(records.some((d) => d.answers !== undefined) && records.some((d) => d.answers === undefined) && records.some((d) => d.rtt === undefined));
  const store = HistoryStore.open(dir, { clock: () => 0 });
  for (const d of records) store.appendDns(d);
  store.flush();
  const back = store.dns({ since: 0, until: 2 ** 31, limit: 100_000 });
  store.close();
  assert.deepEqual(back.map((d) => JSON.stringify(d)).sort(), records.map((d) => JSON.stringify(d)).sort());
  const db = new Database(join(dir, DATABASE_FILE), { readonly: true });
  assert.equal(db.prepare('SELECT count(*) FROM segment_data WHERE instr(rest, CAST(? AS BLOB)) > 0').pluck().get('{"type":"dns"'), 0, 'no JSON kept');
  db.close();
});

test('a dns record in another shape or with a field the columns do not know keeps its JSON, and comes back whole', (t) => {
  const store = HistoryStore.open(tempDir(t), { clock: () => 0 });
  const base = dnsRecord(100, '10.0.0.5', 'x.example', 'NOERROR');
  const extra = { ...base, opcode: 0 } as DnsRecord;
  const { type, ...rest } = base;
  const reordered = { ...rest, type } as DnsRecord;
  for (const odd of [extra, reordered]) {
    assert.equal(dnsShape(odd), -1);
    store.appendDns(odd);
  }
  store.flush();
  assert.deepEqual(store.dns({ since: 0, until: 200 }).map((d) => JSON.stringify(d)), [reordered, extra].map((d) => JSON.stringify(d)));
  store.close();
});

const ENGINE_ORDER = ['type', '_path', 'ts', 'uid', 'id.orig_h', 'id.orig_p', 'id.resp_h', 'id.resp_p', 'proto', 'trans_id', 'AA', 'TC', 'RD', 'RA', 'Z', 'rejected', 'rtt', 'query', 'qclass', 'qclass_name', 'qtype', 'qtype_name', 'rcode', 'rcode_name', 'answers', 'TTLs'] as const;

test('answers past ASCII (accents, CJK, a surrogate pair) and past the first 64 KB of a batch\'s text come back whole', (t) => {
  const store = HistoryStore.open(tempDir(t), { clock: () => 0 });
  const records: DnsRecord[] = [];
  for (let i = 0; i < 600; i++) {
    const base = { ...dnsRecord(100 + i / 1000, '10.0.0.5', `n${i}.example`, 'NOERROR'), answers: [`café-${i}.example`, '小猫.local', `😀${'x'.repeat(i % 200)}`], TTLs: [300, 60, i] };
    // In the engine's key order, as the columns hold it.
    const d = Object.fromEntries(ENGINE_ORDER.map((k) => [k, base[k]])) as unknown as DnsRecord;
    assert.ok(dnsShape(d) >= 0, 'kept in columns, its answers in the text');
    records.push(d);
  }
  for (const d of records) store.appendDns(d);
  store.flush();
  assert.deepEqual(store.dns({ since: 0, until: 200, limit: 10_000 }).map((d) => JSON.stringify(d)).sort(), records.map((d) => JSON.stringify(d)).sort());
  store.close();
});
