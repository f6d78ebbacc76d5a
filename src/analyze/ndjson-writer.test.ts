import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { ConnRecord, LoopyRecord } from './records.js';
import { NdjsonWriter } from './ndjson-writer.js';
import { runCapture } from './apps/testing/capture-run.js';
import type { TlsFlowRecord } from './apps/tls/analyzer.js';
import { tlsJsonRoom, writeTlsJson } from './apps/tls/tls-json.js';
import type { HttpRecord } from './apps/http/record.js';
import { httpJsonRoom, writeHttpJson } from './apps/http/http-json.js';
import { generatedCapture } from '../test-support/sample-frames.js';
import { corpusPath, haveCorpus, readManifest } from '../test-support/corpus.js';

/** A stream that keeps the very buffers it is given (so a writer reusing one would corrupt what came before). */
function keeper(): { out: Writable; chunks: Buffer[] } {
  const chunks: Buffer[] = [];
  const out = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk);
      done();
    },
  });
  return { out, chunks };
}

const conn = (i: number): ConnRecord => ({
  type: 'conn', _path: 'conn', ts: 1718000000 + i / 1e6, uid: `C${String(i).padStart(17, '0')}`, 'id.orig_h': '10.0.0.1', 'id.orig_p': 40000 + (i % 1000),
  'id.resp_h': '2001:db8::1', 'id.resp_p': 53, proto: 'udp', community_id: '1:BpEYLX19MarkQ+T+0OAShtI6sLw=', duration: i / 1e6, orig_bytes: i,
  resp_bytes: 0, conn_state: 'S0', history: 'D', orig_pkts: 1, orig_ip_bytes: 67, resp_pkts: 0, resp_ip_bytes: 0, orig_retrans: 0,
  resp_retrans: 0, orig_ooo: 0, resp_ooo: 0, ...(i % 3 === 0 ? { service: 'dns' } : {}),
});

test('every record comes out as its JSON.stringify line, in order, through few writes of buffers never reused', async () => {
  const { out, chunks } = keeper();
  const writer = new NdjsonWriter(out);
  const records: LoopyRecord[] = [];
  for (let i = 0; i < 5000; i++) {
    records.push(conn(i));
    if (i % 7 === 0) records.push({ type: 'dns', _path: 'dns', ts: 1718000000.5, query: `näme-${i}.example`, answers: ['a"b', '\u0001'], TTLs: [60], rejected: false });
    if (i === 2500) records.push({ type: 'http', uri: `/${'x'.repeat(600_000)}`, host: '日本.example' }); // a line bigger than a chunk
  }
  for (const r of records) writer.write(r);
  await writer.end();
  const text = Buffer.concat(chunks).toString('utf8');
  assert.equal(text, records.map((r) => `${JSON.stringify(r)}\n`).join(''));
  assert.ok(chunks.length >= 5 && chunks.length < 20, `${chunks.length} writes`);
});

test('nothing is written until a chunk fills or drain is called', async () => {
  const { out, chunks } = keeper();
  const writer = new NdjsonWriter(out);
  const weird: LoopyRecord = { type: 'weird', name: 'x', count: 1 };
  writer.write(weird);
  assert.equal(chunks.length, 0);
  await writer.drain();
  assert.equal(Buffer.concat(chunks).toString('utf8'), '{"type":"weird","name":"x","count":1}\n');
});

/** What the writer gives for these records, as text. */
async function writtenText(records: readonly LoopyRecord[]): Promise<string> {
  const { out, chunks } = keeper();
  const writer = new NdjsonWriter(out);
  for (const r of records) writer.write(r);
  await writer.end();
  return Buffer.concat(chunks).toString('utf8');
}

const jsonLines = (records: readonly LoopyRecord[]): string => records.map((r) => `${JSON.stringify(r)}\n`).join('');

test('tls and http records in their makers\' field order, with every optional field and odd strings, come out as JSON.stringify writes them', async () => {
  const head = { ts: 1718000000.000001, uid: 'CabcdefghijklmnopQ', 'id.orig_h': '2001:db8::1', 'id.orig_p': 50000, 'id.resp_h': '192.0.2.1', 'id.resp_p': 443, proto: 'tcp' };
  const records: LoopyRecord[] = [
    { type: 'tls', _path: 'ssl', ...head, server_name: 'we"ird\\x00.名前.example', version: 'TLSv13', cipher: 'TLS_AES_128_GCM_SHA256', next_protocol: 'h2',
      client_version: 'TLSv13', client_alpn: ['h2', '\u2028', ''], client_cipher_count: 17, ja3: 'b32309a26951912be7dba376398abc3b', ja3s: 'eb1d94daa7e0344597e756a1fb6e7054' },
    { type: 'tls', _path: 'ssl', ...head, version: 'SSLv2' },
    { type: 'tls', _path: 'ssl', ...head, version: 'TLSv12', client_version: 'TLSv12', client_cipher_count: 0 },
    { type: 'http', _path: 'http', ...head, trans_depth: 3, request_body_len: 2 ** 40, response_body_len: 0, method: 'GET', host: '日本.example', uri: '/a"b\\c\u0007',
      version: '1.1', user_agent: 'curl/8.5.0 \u00e9', status_code: 200, status_msg: 'OK', missed_bytes: 1460 },
    { type: 'http', _path: 'http', ...head, trans_depth: 1, request_body_len: 0, response_body_len: 512, status_code: 404, status_msg: '' },
  ];
  assert.equal(await writtenText(records), jsonLines(records));
});

/** The tls and http records the engine makes of a capture file. */
async function appRecordsOf(path: string): Promise<LoopyRecord[]> {
  return (await runCapture(path)).records.filter((r) => r.type === 'tls' || r.type === 'http');
}

test('every tls and http record of a generated office capture and of the corpus comes out as JSON.stringify writes it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'loopy-app-json-'));
  const records: LoopyRecord[] = [];
  try {
    const file = join(dir, 'office.pcap');
    writeFileSync(file, (await generatedCapture({ seed: 11, packets: 20000 })).bytes);
    records.push(...(await appRecordsOf(file)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  if (haveCorpus()) {
    for (const row of readManifest().filter((r) => /^(mixed|tcp|ipv6)\//.test(r.path))) records.push(...(await appRecordsOf(corpusPath(row.path))));
  }
  const tls = records.filter((r) => r.type === 'tls').length;
  assert.ok(tls > 300 && records.length - tls > 300, `${tls} tls, ${records.length - tls} http records`);
  assert.equal(await writtenText(records), jsonLines(records));
});

test('the room tls and http lines are given holds them with every number at its longest and every character escaped', () => {
  const long = -1.2345678901234567e-308; // String() writes 24 characters
  const escaped = '\u0001'.repeat(40); // each written as \u0001, six bytes
  const head = { ts: long, uid: 'CabcdefghijklmnopQ', 'id.orig_h': 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'id.orig_p': long, 'id.resp_h': 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'id.resp_p': long, proto: 'icmp' as const };
  const tls: TlsFlowRecord = { type: 'tls', _path: 'ssl', ...head, server_name: escaped, version: escaped, cipher: escaped, next_protocol: escaped, client_version: escaped, client_alpn: [escaped, escaped], client_cipher_count: long, ja3: escaped, ja3s: escaped };
  const http: HttpRecord = { type: 'http', _path: 'http', ...head, trans_depth: long, request_body_len: long, response_body_len: long, method: escaped, host: escaped, uri: escaped, version: escaped, user_agent: escaped, status_code: long, status_msg: escaped, missed_bytes: long };
  const buf = Buffer.alloc(1 << 16);
  const tlsEnd = writeTlsJson(buf, 0, tls);
  assert.equal(buf.toString('utf8', 0, tlsEnd), JSON.stringify(tls));
  assert.ok(tlsEnd <= tlsJsonRoom(tls), `tls: ${tlsEnd} bytes, room ${tlsJsonRoom(tls)}`);
  const httpEnd = writeHttpJson(buf, 0, http);
  assert.equal(buf.toString('utf8', 0, httpEnd), JSON.stringify(http));
  assert.ok(httpEnd <= httpJsonRoom(http), `http: ${httpEnd} bytes, room ${httpJsonRoom(http)}`);
});
