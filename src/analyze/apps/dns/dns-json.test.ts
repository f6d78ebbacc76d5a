import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Pipeline } from '../../pipeline.js';
import type { DnsRecord } from '../../records.js';
import { openCaptureFile } from '../../../capture/capture-file.js';
import { generatedCapture } from '../../../test-support/sample-frames.js';
import { corpusPath, corpusSkipReason, readManifest } from '../../../test-support/corpus.js';
import { CaptureFileError } from '../../../capture/capture-file.js';
import { PassThrough } from 'node:stream';
import { dnsJsonRoom, writeDnsJson } from './dns-json.js';

function written(r: DnsRecord): string {
  const buf = Buffer.alloc(dnsJsonRoom(r));
  return buf.toString('utf8', 0, writeDnsJson(buf, 0, r));
}

async function dnsRecordsOf(source: AsyncIterable<import('../../../capture/batch.js').PacketBatch>): Promise<DnsRecord[]> {
  const out: DnsRecord[] = [];
  const pipeline = new Pipeline().observe({ onRecord: (r) => r.type === 'dns' && out.push(r as DnsRecord) });
  try {
    await pipeline.run(source);
  } catch (err) {
    if (!(err instanceof CaptureFileError)) throw err;
  }
  pipeline.finish();
  return out;
}

test('hand-made records with every optional field, odd names and answers are written as JSON.stringify writes them', () => {
  const base: DnsRecord = {
    type: 'dns', _path: 'dns', ts: 1718000000.5, uid: 'CabcdefghijklmnopQ', 'id.orig_h': '2001:db8::1', 'id.orig_p': 5353, 'id.resp_h': '2001:db8::53', 'id.resp_p': 53,
    proto: 'udp', trans_id: 4660, AA: true, TC: false, RD: true, RA: false, Z: 3, rejected: false,
  };
  const full: DnsRecord = {
    ...base, rtt: 0.000123, query: 'we"ird\\\\x00.名前.example', qclass: 32769, qclass_name: 'C_INTERNET', qtype: 16, qtype_name: 'TXT', rcode: 3, rcode_name: 'NXDOMAIN',
    answers: ['TXT 5 "a\\b"', '\u2028line', ''], TTLs: [0, 4294967295, 86400],
  };
  const fallback: DnsRecord = { ...base, query: 'owner.example', rcode: 0, rcode_name: 'NOERROR' };
  for (const r of [base, full, fallback]) assert.equal(written(r), JSON.stringify(r));
});

test('every dns record of a generated capture is written as JSON.stringify writes it', async () => {
  const { bytes } = await generatedCapture({ seed: 9, packets: 6000, incidents: ['dns_tunnel', 'nxdomain_burst'] });
  const input = new PassThrough();
  input.end(bytes);
  const records = await dnsRecordsOf(openCaptureFile('-', { input }));
  assert.ok(records.length > 300 && records.some((r) => r.answers) && records.some((r) => r.answers === undefined) && records.some((r) => r.rcode_name === 'NXDOMAIN'));
  for (const r of records) assert.equal(written(r), JSON.stringify(r));
});

test('every dns record of the corpus dns/ folder is written as JSON.stringify writes it', { skip: corpusSkipReason() }, async () => {
  let n = 0;
  for (const row of readManifest().filter((r) => r.path.startsWith('dns/'))) {
    for (const r of await dnsRecordsOf(openCaptureFile(corpusPath(row.path)))) {
      assert.equal(written(r), JSON.stringify(r), row.path);
      n++;
    }
  }
  assert.ok(n > 500, `${n} records`);
});
