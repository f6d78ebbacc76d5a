/** DNS tunnelling from hand-built dns records. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
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

test('30 distinct encoded-looking TXT names under one domain fire; the alert names the registered domain', () => {
  const h = new DetectionHarness();
  for (let i = 0; i < 29; i++) h.dns({ ts: 1000 + i * 0.1, client: '10.0.0.7', query: `${encoded(i, 50)}.${encoded(i + 100, 30)}.xfil.example.net`, qtype: 16, qtype_name: 'TXT' });
  assert.equal(h.alerts.length, 0);
  h.dns({ ts: 1003, client: '10.0.0.7', query: `${encoded(29, 50)}.t.xfil.example.net`, qtype: 16, qtype_name: 'TXT' });
  assert.equal(h.alerts.length, 1);
  const a = h.alerts[0];
  assert.equal(a.detector, 'dns_tunnel');
  assert.equal(a.src, '10.0.0.7');
  assert.equal(a.dst, '10.0.0.1');
  assert.equal(a.evidence.domain, 'example.net');
  assert.equal(a.evidence.counters.encoded_names, 30);
  assert.equal(a.evidence.thresholds.encoded_names, 30);
  assert.deepEqual(a.evidence.qtypes, { TXT: 30 });
  assert.match(a.message, /^10\.0\.0\.7 sent 30 queries with encoded-looking names under example\.net \(30 TXT; \d+ bytes of subdomains\) in 3 s$/);
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

test('a volume of TXT queries for long low-entropy names fires on unusual types', () => {
  const h = new DetectionHarness();
  for (let i = 0; i < 100; i++) h.dns({ ts: 1000 + i * 0.1, client: '10.0.0.9', query: `${'ab'.repeat(12)}${i}.data.example.org`, qtype: 16, qtype_name: 'TXT' });
  assert.equal(h.alerts.length, 1);
  assert.equal(h.alerts[0].evidence.counters.encoded_names, 0);
  assert.equal(h.alerts[0].evidence.counters.unusual_type_names, 100);
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
