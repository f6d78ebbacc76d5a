/**
 * Flows and DNS in segments answer exactly what a row per record answered: every filter combination, limits,
 * equal times, many segments over many flushes, against the same question asked of a plain array.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { ConnRecord, DnsRecord } from '../analyze/records.js';
import type { RecordRows } from '../analyze/record-rows.js';
import { HistoryStore } from './history-store.js';
import { BlobReader, BlobWriter } from './segment-codec.js';
import { SEGMENT_ROWS } from './segment-write.js';
import { connRecord, dnsRecord, tempDir } from './store-fixtures.test-util.js';
import { DATABASE_FILE, type HistoryQuery, QUERY_LIMITS } from './types.js';

const T0 = 1_699_999_200;
const json = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

function lcg(seed: number): () => number {
  let x = seed;
  return () => ((x = (Math.imul(x, 1_103_515_245) + 12_345) >>> 0) / 2 ** 32);
}

/** What the store must answer: the matching records, newest first, the latest appended first among equal times. */
function expected<T extends ConnRecord | DnsRecord>(appended: T[], q: HistoryQuery): T[] {
  const hits = appended
    .map((r, order) => ({ r, order }))
    .filter(({ r }) => r.ts >= q.since && r.ts < q.until)
    .filter(({ r }) => q.host === undefined || r['id.orig_h'] === q.host || r['id.resp_h'] === q.host)
    .filter(({ r }) => q.port === undefined || r['id.orig_p'] === q.port || r['id.resp_p'] === q.port)
    .filter(({ r }) => q.proto === undefined || r.proto === q.proto)
    .sort((a, b) => b.r.ts - a.r.ts || b.order - a.order);
  return hits.slice(0, q.limit ?? QUERY_LIMITS.default).map(({ r }) => json(r));
}

test('segment queries equal a scan of the records: filters, limits, equal times, many flushes', (t) => {
  const store = HistoryStore.open(tempDir(t), { clock: () => 0 });
  const rand = lcg(7);
  const flows: ConnRecord[] = [];
  const dns: DnsRecord[] = [];
  const hosts = ['10.0.0.1', '10.0.0.2', '10.0.0.3', '192.0.2.9', '2001:db8::1'];
  const pick = <T>(list: readonly T[]) => list[Math.floor(rand() * list.length)];
  for (let flush = 0; flush < 12; flush++) {
    // Mostly recent starts, some far back (long flows), some sharing a time exactly.
    const count = flush === 5 ? 3 * SEGMENT_ROWS + 7 : Math.floor(rand() * 300);
    for (let i = 0; i < count; i++) {
      const age = rand() < 0.1 ? rand() * 3600 : rand() * 90;
      const ts = rand() < 0.05 ? T0 + flush * 60 : Math.round((T0 + flush * 60 - age) * 1e6) / 1e6;
      const c = connRecord(ts, pick(hosts), pick([22, 443, 40_000 + i, 53]), pick(hosts), pick([22, 443, 53, 8080]), pick(['tcp', 'udp', 'icmp'] as const));
      flows.push(c);
      store.appendConn(c);
      if (i % 5 === 0) {
        const d = dnsRecord(ts, pick(hosts), `q${i}.example`, rand() < 0.5 ? 'NOERROR' : 'NXDOMAIN');
        dns.push(d);
        store.appendDns(d);
      }
    }
    store.flush();
  }
  const queries: HistoryQuery[] = [{ since: 0, until: 2 ** 31 }];
  for (let i = 0; i < 60; i++) {
    const since = T0 - 3700 + rand() * 4400;
    queries.push({
      since,
      until: since + rand() * 2000,
      host: rand() < 0.5 ? pick(hosts) : undefined,
      port: rand() < 0.4 ? pick([22, 443, 53, 8080, 40_001, 9]) : undefined,
      proto: rand() < 0.3 ? pick(['tcp', 'udp', 'icmp'] as const) : undefined,
      limit: rand() < 0.5 ? Math.floor(rand() * 50) : undefined,
    });
  }
  for (const q of queries) {
    assert.deepEqual(store.flows(q), expected(flows, q), `flows ${JSON.stringify(q)}`);
    assert.deepEqual(store.dns(q), expected(dns, q), `dns ${JSON.stringify(q)}`);
    assert.equal(rowsText(store.flowRows(q)), JSON.stringify(store.flows(q)), `flow rows ${JSON.stringify(q)}`);
    assert.equal(rowsText(store.dnsRows(q)), JSON.stringify(store.dns(q)), `dns rows ${JSON.stringify(q)}`);
  }
  store.close();
});

/** Rows as the JSON array an answer carries. */
function rowsText(rows: RecordRows): string {
  return `[${Buffer.from(rows.text).toString('utf8')}]`;
}

test("rows written from the columns are JSON.stringify's text of the records: every optional field, processes, JSON-kept records", (t) => {
  const store = HistoryStore.open(tempDir(t), { clock: () => 0 });
  const nginx = { pid: 812, name: 'nginx', exe: '/usr/sbin/nginx', user: 'www-data', unit: 'nginx.service' };
  const bare = (ts: number): ConnRecord => {
    const c = connRecord(ts, '10.0.0.1', 40_000, '10.0.0.2', 8080, 'udp');
    delete c.vlan;
    delete c.rtt;
    return c;
  };
  const flows: ConnRecord[] = [
    connRecord(T0 + 1, '10.0.0.1', 40_001, '10.0.0.2', 443),
    bare(T0 + 2),
    { ...connRecord(T0 + 3, '2001:db8::1', 40_002, '2001:db8::2', 22), inner_vlan: 7, rtt: 1e-6, duration: 1234.000001 },
    { ...connRecord(T0 + 4, '10.0.0.1', 40_003, '10.0.0.3', 443), orig_process: { pid: 4242, name: 'curl "x"', user: 'ünïcode' }, resp_process: nginx },
    { ...connRecord(T0 + 5, '10.0.0.1', 40_004, '10.0.0.3', 443), service: 'ssl,http', conn_state: 'S0', history: 'S' },
    // A field the columns do not know: the record is kept as its JSON.
    { ...connRecord(T0 + 6, '10.0.0.1', 40_005, '10.0.0.3', 443), tunnel_parents: ['Cxyz'] } as ConnRecord,
    { ...bare(T0 + 7), orig_bytes: 2 ** 40 + 0.5, resp_bytes: 0 },
  ];
  for (const c of flows) store.appendConn(c);
  const dns = [dnsRecord(T0 + 1, '10.0.0.5', 'bücher.example', 'NOERROR'), dnsRecord(T0 + 2, '10.0.0.5', 'nx.example', 'NXDOMAIN')];
  for (const d of dns) store.appendDns(d);
  store.flush();
  const q = { since: 0, until: 2 ** 31 };
  assert.equal(store.flows(q).length, flows.length);
  assert.equal(rowsText(store.flowRows(q)), JSON.stringify(store.flows(q)));
  // The records appended, in the engine's field order (the fixture's differs).
  assert.deepEqual(JSON.parse(rowsText(store.flowRows(q))), json(flows.slice().reverse()));
  assert.deepEqual([...store.flowRows(q).ts], flows.map((c) => c.ts).reverse());
  assert.equal(rowsText(store.dnsRows(q)), JSON.stringify(store.dns(q)));
  store.close();
});

test("a quiet server's flushes, a few records a second, extend the minute's segment instead of adding one each", (t) => {
  const dir = tempDir(t);
  const store = HistoryStore.open(dir, { clock: () => 0 });
  const appended: ConnRecord[] = [];
  // 120 seconds from a minute boundary, 3 flows a second, one of them kept as JSON (an unknown field).
  const start = T0 - (T0 % 60);
  for (let second = 0; second < 120; second++) {
    for (let i = 0; i < 3; i++) {
      const c = connRecord(start + second + i / 3, `10.0.${second}.${i}`, 40_000 + i, '10.0.0.9', 443);
      const record = i === 2 ? ({ ...c, tunnel_parents: [`C${second}`] } as ConnRecord) : c;
      appended.push(record);
      store.appendConn(record);
    }
    store.flush();
  }
  const db = new Database(join(dir, DATABASE_FILE), { readonly: true });
  assert.deepEqual(db.prepare('SELECT rows FROM segments ORDER BY id').pluck().all(), [180, 180]);
  db.close();
  for (const q of [{ since: 0, until: 2 ** 31, limit: 1000 }, { since: start + 30, until: start + 90, host: '10.0.59.2' }]) {
    assert.deepEqual(store.flows(q), expected(appended, q));
  }
  store.close();
});

test('a host the engine would never write (quotes, a newline) is found exactly, and no other', (t) => {
  const store = HistoryStore.open(tempDir(t), { clock: () => 0 });
  const odd = connRecord(T0, 'a"b\nc', 1, '10.0.0.1', 2);
  const near = connRecord(T0 + 1, 'a"b', 1, '10.0.0.1', 2);
  store.appendConn(odd);
  store.appendConn(near);
  store.flush();
  assert.deepEqual(store.flows({ since: 0, until: 2 ** 31, host: 'a"b\nc' }), [json(odd)]);
  assert.deepEqual(store.flows({ since: 0, until: 2 ** 31, host: 'a"b' }), [json(near)]);
  store.close();
});

test('segment columns keep every number exactly: absent, fractions, large, negative, one value for all', () => {
  const columns = [
    Float64Array.of(1, 2, 3),
    Float64Array.of(NaN, 7, 65_535),
    Float64Array.of(4_294_967_294, 0, NaN),
    Float64Array.of(1.5, -2, 2 ** 53),
    Float64Array.of(9, 9, 9),
    Float64Array.of(NaN, NaN, NaN),
  ];
  const writer = new BlobWriter(3);
  for (const c of columns) writer.numbers(c);
  const reader = new BlobReader(writer.text('héllo').numbers(new Float64Array(0)).finish());
  columns.forEach((c, i) => assert.deepEqual([...reader.numbers(i)], [...c], `column ${i}`));
  assert.equal(reader.text(6), 'héllo');
  assert.deepEqual([...reader.numbers(7)], []);
  // A blob from a pool at an odd offset reads the same (its columns are copied to align them).
  const blob = writer.finish();
  const shifted = Buffer.concat([Buffer.alloc(3), blob]).subarray(3);
  assert.deepEqual([...new BlobReader(shifted).numbers(3)], [...columns[3]]);
});
