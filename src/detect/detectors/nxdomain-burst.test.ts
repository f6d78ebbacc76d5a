/** NXDOMAIN burst (DGA-like) from hand-built dns records. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DetectionHarness } from '../testing/harness.js';

const TLDS = ['com', 'net', 'org', 'info', 'biz'];
const nx = { rcode: 3, rcode_name: 'NXDOMAIN' };

test('50 NXDOMAIN names over 20+ domains in a minute fire, per client', () => {
  const h = new DetectionHarness();
  for (let i = 0; i < 49; i++) h.dns({ ts: 1000 + i * 0.2, client: '10.0.0.12', query: `qx${i}zvk${i * 7}.${TLDS[i % 5]}`, ...nx });
  assert.equal(h.alerts.length, 0);
  h.dns({ ts: 1010, client: '10.0.0.12', query: 'lastonezz.com', ...nx });
  assert.equal(h.alerts.length, 1);
  const a = h.alerts[0];
  assert.equal(a.detector, 'nxdomain_burst');
  assert.equal(a.src, '10.0.0.12');
  assert.equal(a.message, '10.0.0.12 got NXDOMAIN for 50 names under 50 domains in 10 s (DGA-like lookups)');
  assert.deepEqual(a.evidence.thresholds, { distinct_names: 50, distinct_domains: 20 });
  assert.equal(a.evidence.names?.length, 5);
});

test('a wrong search domain (many names, one domain), answered names and a slow trickle stay quiet', () => {
  const h = new DetectionHarness();
  for (let i = 0; i < 200; i++) h.dns({ ts: 1000 + i * 0.1, client: '10.0.0.13', query: `host${i}.corp.example.corp.example`, ...nx });
  for (let i = 0; i < 200; i++) h.dns({ ts: 1000 + i * 0.1, client: '10.0.0.14', query: `site${i}.${TLDS[i % 5]}` });
  for (let i = 0; i < 200; i++) h.dns({ ts: 2000 + i * 2, client: '10.0.0.15', query: `slow${i}.${TLDS[i % 5]}x${i}`, ...nx });
  h.finish();
  assert.deepEqual(h.alerts, []);
});

test('closes after a quiet minute; allowDomains leaves out a domain', () => {
  const h = new DetectionHarness({ detectors: { nxdomain_burst: { allowDomains: ['dga-sinkhole.example'] } } });
  for (let i = 0; i < 60; i++) h.dns({ ts: 1000 + i * 0.1, client: '10.0.0.16', query: `n${i}.x${i}.dga-sinkhole.example`, ...nx });
  assert.equal(h.alerts.length, 0);
  for (let i = 0; i < 60; i++) h.dns({ ts: 1000 + i * 0.1, client: '10.0.0.16', query: `n${i}x.${TLDS[i % 5]}${i}`, ...nx });
  assert.equal(h.states('open').length, 1);
  h.tick(1080);
  assert.equal(h.states('closed').length, 1);
  assert.equal(h.states('closed')[0].closed_reason, 'quiet');
});
