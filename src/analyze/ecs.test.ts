/**
 * `loopy read --format ecs` as a user runs it: every field of every document is one ECS_FIELD_TYPES lists (the
 * table docs/records.md shows), with a value of that Elasticsearch type; flows carry the Community ID the
 * spec's published baseline gives.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isIP } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../test-support/cli.js';
import { generatedCapture } from '../test-support/sample-frames.js';
import { ECS_FIELD_TYPES, type EcsFieldType } from './ecs.js';
import { communityId, icmpCounterpart } from './flows/community-id.js';
import { addressBytes } from './parse-address.js';

/** Leaves of a document as dotted paths; objects inside arrays (dns.answers) by their own keys; flattened fields whole. */
function leaves(doc: Record<string, unknown>, prefix = '', out: Array<[string, unknown]> = []): Array<[string, unknown]> {
  for (const [key, value] of Object.entries(doc)) {
    const path = prefix + key;
    if (ECS_FIELD_TYPES[path as keyof typeof ECS_FIELD_TYPES] === 'flattened') out.push([path, value]);
    else if (Array.isArray(value) && value.every((v) => typeof v === 'object' && v !== null)) for (const v of value) leaves(v as Record<string, unknown>, `${path}.`, out);
    else if (typeof value === 'object' && value !== null && !Array.isArray(value)) leaves(value as Record<string, unknown>, `${path}.`, out);
    else out.push([path, value]);
  }
  return out;
}

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** A value (or each of an array's) fits the Elasticsearch type. */
function fits(value: unknown, type: EcsFieldType): boolean {
  if (Array.isArray(value)) return value.length > 0 && value.every((v) => fits(v, type));
  switch (type) {
    case 'date': return typeof value === 'string' && ISO.test(value);
    case 'ip': return typeof value === 'string' && isIP(value) !== 0;
    case 'long': return Number.isSafeInteger(value);
    case 'double': return typeof value === 'number' && Number.isFinite(value);
    case 'boolean': return typeof value === 'boolean';
    case 'flattened': return typeof value === 'object' && value !== null;
    default: return typeof value === 'string' && value.length > 0;
  }
}

test('read --format ecs: every field is a documented ECS field holding a value of its type', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'loopy-zeek14-ecs-'));
  try {
    const capture = join(dir, 'office.pcap');
    writeFileSync(capture, (await generatedCapture({ seed: 41, packets: 2000, incidents: ['dns_tunnel', 'nxdomain_burst'], ipv6Share: 0.2 })).bytes);
    const run = runCli(['read', capture, '--format', 'ecs', '--seed', '0']);
    assert.equal(run.status, 0, run.stderr);
    const docs = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const plain = runCli(['read', capture, '--json', '--seed', '0']).stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(docs.length, plain.length, 'one document per record');
    const seen = new Set<string>();
    for (const doc of docs) {
      for (const [path, value] of leaves(doc)) {
        const type = ECS_FIELD_TYPES[path as keyof typeof ECS_FIELD_TYPES];
        assert.ok(type !== undefined, `${path} is documented`);
        assert.ok(fits(value, type), `${path} = ${JSON.stringify(value)} is a ${type}`);
        seen.add(path);
      }
    }
    for (const path of ['source.ip', 'destination.port', 'network.community_id', 'dns.question.name', 'dns.answers.data', 'tls.client.server_name', 'http.request.method', 'url.original', 'rule.name', 'event.severity']) {
      assert.ok(seen.has(path), `${path} is written`);
    }
    // Each document is its record: conn by conn, with the same Community ID and counts.
    docs.forEach((doc, i) => {
      const r = plain[i];
      const event = doc.event as Record<string, unknown>;
      assert.equal(event.dataset, `loopy.${String(r.type)}`);
      if (r.type !== 'conn') return;
      const network = doc.network as Record<string, unknown>;
      assert.equal(network.community_id, r.community_id);
      assert.deepEqual([(doc.source as Record<string, unknown>).ip, (doc.source as Record<string, unknown>).bytes, (doc.destination as Record<string, unknown>).packets], [r['id.orig_h'], r.orig_bytes, r.resp_pkts]);
      assert.equal(doc['@timestamp'], new Date((r.ts as number) * 1000).toISOString());
    });
    // A DNS document's Community ID, computed from its 5-tuple, is its flow's conn record's.
    const connCid = new Map(plain.filter((r) => r.type === 'conn').map((r) => [r.uid, r.community_id]));
    const dnsDocs = docs.filter((d) => (d.event as Record<string, unknown>).dataset === 'loopy.dns');
    assert.ok(dnsDocs.length > 100);
    for (const d of dnsDocs) assert.equal((d.network as Record<string, unknown>).community_id, connCid.get((d.zeek as Record<string, unknown>).session_id));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Community ID v1, seed 0: the spec's baseline (corelight/community-id-spec, baseline/baseline_deflt.json). */
const BASELINE: Array<[number, string, string, number, number, string]> = [
  [58, 'fe80::200:86ff:fe05:80da', 'fe80::260:97ff:fe07:69ea', 135, 136, '1:dGHyGvjMfljg6Bppwm3bg0LO8TY='],
  [58, 'fe80::260:97ff:fe07:69ea', 'fe80::200:86ff:fe05:80da', 136, 135, '1:dGHyGvjMfljg6Bppwm3bg0LO8TY='],
  [58, 'fe80::260:97ff:fe07:69ea', 'fe80::200:86ff:fe05:80da', 135, 136, '1:zavyT/cezQr1fmImYCwYnMXbgck='],
  [58, '3ffe:501:1800:2345::2', '3ffe:507:0:1:200:86ff:fe05:80da', 3, 0, '1:2ObVBgIn28oZvibYZhZMBgh7WdQ='],
  [58, '3ffe:501:410:0:2c0:dfff:fe47:33e', '3ffe:507:0:1:200:86ff:fe05:80da', 1, 4, '1:hLZd0XGWojozrvxqE0dWB1iM6R0='],
  [58, '3ffe:507:0:1:200:86ff:fe05:80da', '3ffe:501:0:1001::2', 128, 129, '1:+TW+HtLHvV1xnGhV1lv7XoJrqQg='],
  [58, '3ffe:501:0:1001::2', '3ffe:507:0:1:200:86ff:fe05:80da', 129, 128, '1:+TW+HtLHvV1xnGhV1lv7XoJrqQg='],
  [58, 'fe80::200:86ff:fe05:80da', 'ff02::2', 133, 134, '1:hO+sN4H+MG5MY/8hIrXPqc4ZQz0='],
  [58, 'fe80::260:97ff:fe07:69ea', 'ff02::1', 134, 133, '1:pkvHqCL88/tg1k4cPigmZXUtL00='],
  [1, '192.168.0.89', '192.168.0.1', 8, 0, '1:X0snYXpgwiv9TZtqg64sgzUn6Dk='],
  [1, '192.168.0.1', '192.168.0.89', 0, 8, '1:X0snYXpgwiv9TZtqg64sgzUn6Dk='],
  [1, '10.0.0.1', '10.0.0.2', 11, 0, '1:YHxtAirCG//0OzkcVAukqKQN9xM='],
  [6, '2001:470:e5bf:dead:4957:2174:e82c:4887', '2607:f8b0:400c:c03::1a', 63943, 25, '1:/qFaeAR+gFe1KYjMzVDsMv+wgU4='],
  [6, '2607:f8b0:400c:c03::1a', '2001:470:e5bf:dead:4957:2174:e82c:4887', 25, 63943, '1:/qFaeAR+gFe1KYjMzVDsMv+wgU4='],
  [132, '192.168.170.8', '192.168.170.56', 7, 7, '1:MP2EtRCAUIZvTw6MxJHLV7N7JDs='],
  [6, '128.232.110.120', '66.35.250.204', 34855, 80, '1:LQU9qZlK+B5F3KDmev6m5PMibrg='],
  [17, '192.168.1.52', '8.8.8.8', 54585, 53, '1:d/FP5EW3wiY1vCndhwleRRKHowQ='],
  [17, '8.8.8.8', '192.168.1.52', 53, 54585, '1:d/FP5EW3wiY1vCndhwleRRKHowQ='],
];

/** The baseline gives ICMP's ports as the spec maps them (type, counterpart type); communityId takes type and code. */
const codeOf = (proto: number, sport: number, dport: number) => (proto === 1 || proto === 58) && icmpCounterpart(proto, sport) === dport ? 0 : dport;

test("Community ID v1 matches the spec's published baseline (TCP, UDP, SCTP, ICMP and ICMPv6, both directions)", () => {
  for (const [proto, src, dst, sport, dport, want] of BASELINE) {
    assert.equal(communityId(proto, addressBytes(src)!, addressBytes(dst)!, sport, codeOf(proto, sport, dport)), want, `${proto} ${src}:${sport} > ${dst}:${dport}`);
  }
});
