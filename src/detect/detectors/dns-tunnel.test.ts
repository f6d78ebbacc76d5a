/** DNS tunnelling from hand-built dns records. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDetectionConfig } from '../config.js';
import { DetectionHarness } from '../testing/harness.js';

const B32 = 'abcdefghijklmnopqrstuvwxyz234567';
/** A deterministic base32-looking label of n characters (a tunnel's encoded data). */
function encoded(i: number, n: number): string {
  let x = (Math.imul(i + 1, 0x9e3779b1) ^ 0x5bd1e995) >>> 0;
  let out = '';
  for (let k = 0; k < n; k++) {
    // xorshift32: fast, deterministic, and every seed gives its own sequence.
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out += B32[x & 31];
  }
  return out;
}

test('encoded-looking TXT names under one domain score 3 each and fire at the 8th; the alert names the registered domain', () => {
  const h = new DetectionHarness();
  for (let i = 0; i < 7; i++) h.dns({ ts: 1000 + i * 0.1, client: '10.0.0.7', query: `${encoded(i, 50)}.${encoded(i + 100, 30)}.xfil.example.net`, qtype: 16, qtype_name: 'TXT' });
  assert.equal(h.alerts.length, 0);
  h.dns({ ts: 1003, client: '10.0.0.7', query: `${encoded(29, 50)}.t.xfil.example.net`, qtype: 16, qtype_name: 'TXT' });
  assert.equal(h.alerts.length, 1);
  const a = h.alerts[0];
  assert.equal(a.detector, 'dns_tunnel');
  assert.equal(a.src, '10.0.0.7');
  assert.equal(a.dst, '10.0.0.1');
  assert.equal(a.evidence.domain, 'example.net');
  assert.equal(a.evidence.counters.encoded_names, 8);
  assert.equal(a.evidence.counters.score, 24);
  assert.equal(a.evidence.thresholds.score, 24);
  assert.deepEqual(a.evidence.qtypes, { TXT: 8 });
  assert.match(a.message, /^10\.0\.0\.7 sent 8 queries with encoded-looking names under example\.net \(8 TXT; \d+ bytes of subdomains\) in 3 s$/);
});

/** Hex of `n` characters (dnscat2 encodes its packets so), deterministic per i. */
function hex(i: number, n: number): string {
  return encoded(i, n).replace(/[^a-f0-9]/g, (c) => '0123456789abcdef'[c.charCodeAt(0) & 15]);
}

test('a dnscat2-like client: hex labels under the single label "dnscat", TXT/CNAME/MX at 2.5 queries/s → fires within 4 s', () => {
  const h = new DetectionHarness();
  const types: Array<[number, string]> = [[16, 'TXT'], [5, 'CNAME'], [15, 'MX']];
  for (let i = 0; i < 150 && h.alerts.length === 0; i++) {
    const [qtype, qtype_name] = types[i % 3];
    // Idle polls are short (18 bytes: 36 hex), data packets long and split into labels.
    const name = i % 4 === 3 ? `${hex(i, 63)}.${hex(i + 500, 40)}.dnscat` : `${hex(i, 36)}.dnscat`;
    h.dns({ ts: 1000 + i * 0.4, client: '10.0.0.7', query: name, qtype, qtype_name });
  }
  assert.equal(h.alerts.length, 1);
  const a = h.alerts[0];
  assert.equal(a.evidence.domain, 'dnscat');
  assert.ok(a.ts - 1000 <= 4, `fired ${a.ts - 1000} s after the first query`);
  // The other direction of the same idea: dnscat2 without a domain puts its tag first.
  const g = new DetectionHarness();
  for (let i = 0; i < 20; i++) g.dns({ ts: 1000 + i * 0.4, client: '10.0.0.8', query: `dnscat.${hex(i, 36)}`, qtype: 16, qtype_name: 'TXT' });
  assert.equal(g.alerts.length, 1);
  assert.equal(g.alerts[0].evidence.domain, 'dnscat');
});

test("iodine's handshake: NULL queries with short encoded labels fire at the 4th name", () => {
  const h = new DetectionHarness();
  const handshake = ['vaaaakarzhqbq', 'laaaawalm5la1', 'iaawbzhza', 'zaagmlaq', 'yrbqaaaaa', 'srbaa', 'oiaab', 'rbbaaqaa'];
  handshake.forEach((label, i) => h.dns({ ts: 1000 + i * 0.05, client: '10.0.0.7', query: `${label}.t.tunnel.example.org`, qtype: 10, qtype_name: 'NULL' }));
  assert.equal(h.states('open').length, 1);
  const a = h.states('open')[0];
  assert.equal(a.ts, 1000.15);
  assert.equal(a.evidence.domain, 'example.org');
  assert.equal(a.evidence.counters.tunnel_type_names, 4);
});

test('ordinary DNS raises nothing: 200 names, CDNs, cloud hosts, reverse lookups, mail TXT lookups', () => {
  const h = new DetectionHarness();
  const words = ['mail', 'www', 'cdn', 'static', 'api', 'login', 'images', 'video', 'edge', 'assets', 'docs', 'news', 'shop', 'status', 'auth', 'media', 'search', 'maps', 'cloud', 'app'];
  const domains = ['example.com', 'example.org', 'wikipedia.org', 'github.com', 'debian.org', 'ubuntu.com', 'google.com', 'amazon.co.uk', 'bbc.co.uk', 'cloudflare.net'];
  let t = 1000;
  for (let i = 0; i < 200; i++) h.dns({ ts: (t += 0.05), client: '10.0.0.8', query: `${words[i % 20]}${i % 7 ? '' : i}.${domains[i % 10]}`, qtype: i % 2 ? 28 : 1, qtype_name: i % 2 ? 'AAAA' : 'A' });
  for (let i = 0; i < 40; i++) {
    h.dns({ ts: (t += 0.05), client: '10.0.0.8', query: `e${1000 + i * 37}.dsce${i % 9}.akamaiedge.net` });
    h.dns({ ts: (t += 0.05), client: '10.0.0.8', query: `d${hex(i, 13)}.cloudfront.net` });
    h.dns({ ts: (t += 0.05), client: '10.0.0.8', query: `r${i % 9}---sn-${encoded(i, 8)}.googlevideo.com` });
    h.dns({ ts: (t += 0.05), client: '10.0.0.8', query: `ec2-54-${i}-${(i * 7) % 255}-${(i * 13) % 255}.eu-west-1.compute.amazonaws.com` });
    h.dns({ ts: (t += 0.05), client: '10.0.0.8', query: `${(i * 3) % 255}.${i}.168.192.in-addr.arpa`, qtype: 12, qtype_name: 'PTR' });
    const nibbles = hex(i, 32).split('').reverse().join('.');
    h.dns({ ts: (t += 0.05), client: '10.0.0.8', query: `${nibbles}.ip6.arpa`, qtype: 12, qtype_name: 'PTR' });
    h.dns({ ts: (t += 0.05), client: '10.0.0.25', query: `selector${i % 3}._domainkey.${domains[i % 10]}`, qtype: 16, qtype_name: 'TXT' });
    h.dns({ ts: (t += 0.05), client: '10.0.0.25', query: `_dmarc.${words[i % 20]}.example.net`, qtype: 16, qtype_name: 'TXT' });
    h.dns({ ts: (t += 0.05), client: '10.0.0.25', query: `mail${i}.${words[i % 20]}-hosting.example.com`, qtype: 15, qtype_name: 'MX' });
  }
  h.finish();
  assert.deepEqual(h.alerts.map((a) => a.message), []);
});

test('many ordinary names of one domain, repeated names and short random labels do not fire', () => {
  const h = new DetectionHarness();
  const words = ['mail', 'www', 'cdn', 'static', 'api', 'login', 'images', 'video', 'edge', 'assets'];
  for (let i = 0; i < 300; i++) h.dns({ ts: 1000 + i * 0.05, client: '10.0.0.8', query: `${words[i % 10]}${i}.eu-west.example.com` });
  for (let i = 0; i < 100; i++) h.dns({ ts: 1020 + i * 0.05, client: '10.0.0.8', query: `${encoded(1, 50)}.same.example.org`, qtype: 16, qtype_name: 'TXT' });
  for (let i = 0; i < 100; i++) h.dns({ ts: 1030 + i * 0.05, client: '10.0.0.8', query: `${encoded(i, 8)}.example.info` });
  h.finish();
  assert.deepEqual(h.alerts, []);
});

test('a volume of TXT queries for long low-entropy names scores by its type and fires at the 12th', () => {
  const h = new DetectionHarness();
  for (let i = 0; i < 100; i++) h.dns({ ts: 1000 + i * 0.1, client: '10.0.0.9', query: `${'ab'.repeat(12)}${i}.data.example.org`, qtype: 16, qtype_name: 'TXT' });
  assert.equal(h.states('open').length, 1);
  assert.equal(h.alerts[0].evidence.counters.encoded_names, 0);
  assert.equal(h.alerts[0].evidence.counters.distinct_names, 12);
});

test('allowDomains, allowSources and registered domains under multi-label suffixes', () => {
  const h = new DetectionHarness({ detectors: { dns_tunnel: { allowDomains: ['*.av-vendor.example'], allowSources: ['10.0.1.0/24'] } } });
  for (let i = 0; i < 40; i++) h.dns({ ts: 1000 + i * 0.1, client: '10.0.0.7', query: `${encoded(i, 50)}.lookup.av-vendor.example` });
  for (let i = 0; i < 40; i++) h.dns({ ts: 1000 + i * 0.1, client: '10.0.1.7', query: `${encoded(i, 50)}.x.bad.example` });
  assert.equal(h.alerts.length, 0);
  for (let i = 0; i < 40; i++) h.dns({ ts: 1010 + i * 0.1, client: '10.0.0.7', query: `${encoded(i, 50)}.tunnel.co.uk` });
  assert.equal(h.alerts.length, 1);
  assert.equal(h.alerts[0].evidence.domain, 'tunnel.co.uk');
});

test('a reload that changes the encoded-name thresholds applies to names already seen (kept shapes are judged again)', () => {
  const h = new DetectionHarness();
  // 18 hex characters in two labels of 9: encoded data at minHexLength 16 (the default), too short at 30.
  const name = (i: number) => `${hex(i, 9)}.${hex(i + 900, 9)}.data.example.com`;
  h.detection.reconfigure(parseDetectionConfig({ detectors: { dns_tunnel: { minHexLength: 30 } } }));
  for (let i = 0; i < 30; i++) h.dns({ ts: 1000 + i * 0.1, client: '10.0.0.7', query: name(i) });
  assert.equal(h.alerts.length, 0, 'nothing encoded at minHexLength 30');
  h.detection.reconfigure(parseDetectionConfig({ detectors: { dns_tunnel: { minHexLength: 16 } } }));
  for (let i = 0; i < 30; i++) h.dns({ ts: 1010 + i * 0.1, client: '10.0.0.7', query: name(i) });
  assert.equal(h.states('open').length, 1, 'the same names, encoded at 16, fire');
  assert.equal(h.states('open')[0].evidence.domain, 'example.com');
});
