import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import type { ConnRecord, LoopyRecord } from './records.js';
import { NdjsonWriter } from './ndjson-writer.js';

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
