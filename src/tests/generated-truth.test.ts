/**
 * The engine against the generator's ground truth: runs without the shared corpus, so a user's clone
 * checks every decoder and analyzer the generator exercises (Ethernet, VLAN, IPv4, IPv6, TCP, UDP, ICMP,
 * DNS, TLS, HTTP) with exact counts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { Pipeline } from '../analyze/pipeline.js';
import type { ConnRecord, DnsRecord, LoopyRecord, TlsRecord } from '../analyze/records.js';
import { openCaptureFile } from '../capture/capture-file.js';
import { connToJson } from '../analyze/flows/conn-json.js';
import { generatedCapture } from '../test-support/sample-frames.js';

async function run(bytes: Buffer): Promise<LoopyRecord[]> {
  const records: LoopyRecord[] = [];
  const pipeline = new Pipeline().observe({ onRecord: (r) => records.push(r) });
  const input = new PassThrough();
  input.end(bytes);
  await pipeline.run(openCaptureFile('-', { input }));
  pipeline.finish();
  return records;
}

function count<T>(items: T[], key: (item: T) => string | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of items) {
    const k = key(item);
    if (k !== undefined) out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}

test('generated traffic: packets, flows, TCP states, DNS, TLS and HTTP equal the ground truth', async () => {
  const { bytes, truth } = await generatedCapture({ seed: 11, packets: 30_000, vlan: 7 });
  const records = await run(bytes);
  const summary = records.at(-1) as Extract<LoopyRecord, { type: 'summary' }>;
  assert.equal(summary.packets, truth.packets);
  assert.equal(summary.bytes, truth.bytes);

  const conns = records.filter((r): r is ConnRecord => r.type === 'conn');
  const tcp = conns.filter((c) => c.proto === 'tcp');
  assert.equal(tcp.length, truth.tcp.connections);
  assert.deepEqual(count(tcp, (c) => c.conn_state), truth.tcp.states);
  assert.equal(tcp.reduce((n, c) => n + c.orig_bytes, 0), truth.tcp.origBytes);
  assert.equal(tcp.reduce((n, c) => n + c.resp_bytes, 0), truth.tcp.respBytes);
  assert.ok(tcp.every((c) => c.vlan === 7 && c.community_id.startsWith('1:')));
  assert.deepEqual(count(tcp, (c) => c.service), truth.tcp.services === undefined ? {} : pick(truth.tcp.services, ['ssl', 'http', 'ssh']));
  assert.equal(conns.filter((c) => c.proto === 'udp').length, truth.udp.flows);

  const dns = records.filter((r): r is DnsRecord => r.type === 'dns');
  assert.equal(dns.length, truth.dns.queries);
  assert.equal(dns.filter((d) => d.rcode === undefined).length, truth.dns.unanswered);
  assert.deepEqual(count(dns, (d) => d.rcode_name), truth.dns.rcodes);
  assert.deepEqual(count(dns, (d) => d.qtype_name), truth.dns.qtypes);

  const tls = records.filter((r): r is TlsRecord => r.type === 'tls');
  assert.equal(tls.length, truth.tls.clientHellos);
  assert.deepEqual(count(tls, (t) => t.server_name), truth.tls.serverNames);
  assert.deepEqual(count(tls, (t) => t.version), truth.tls.versions);

  const http = records.filter((r) => r.type === 'http') as Array<{ method?: string; status_code?: number }>;
  assert.equal(http.length, truth.http.requests);
  assert.deepEqual(count(http, (h) => h.method), truth.http.methods);
  assert.deepEqual(count(http, (h) => (h.status_code === undefined ? undefined : String(h.status_code))), truth.http.statuses);
});

function pick(source: Record<string, number>, keys: string[]): Record<string, number> {
  return Object.fromEntries(keys.filter((k) => source[k] !== undefined).map((k) => [k, source[k]]));
}

test('conn records written by hand are byte-identical to JSON.stringify', async () => {
  const { bytes } = await generatedCapture({ seed: 5, packets: 5000, vlan: 3, incidents: ['port_scan'] });
  const conns = (await run(bytes)).filter((r): r is ConnRecord => r.type === 'conn');
  assert.ok(conns.length > 100 && conns.some((c) => c.service) && conns.some((c) => c.rtt !== undefined));
  for (const c of conns) assert.equal(connToJson(c), JSON.stringify(c));
});
