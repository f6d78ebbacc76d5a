/** SYN flood / half-open surge from hand-built attempt outcomes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DetectionHarness } from '../testing/harness.js';
import { Outcome } from '../types.js';

test('400 failed handshakes to one host:port within 5 s fire, from one source', () => {
  const h = new DetectionHarness();
  for (let i = 0; i < 399; i++) h.attempt({ src: '10.0.0.5', sport: 1024 + i, dst: '10.0.0.9', dport: 80, outcome: Outcome.HalfOpen, start: 1000 + i * 0.001 });
  assert.equal(h.alerts.length, 0);
  h.attempt({ src: '10.0.0.5', sport: 2000, dst: '10.0.0.9', dport: 80, outcome: Outcome.Unanswered, start: 1000.4 });
  assert.equal(h.alerts.length, 1);
  const a = h.alerts[0];
  assert.equal(a.detector, 'syn_flood');
  assert.equal(a.severity, 'high');
  assert.equal(a.src, '10.0.0.5');
  assert.equal(a.dst, '10.0.0.9');
  assert.match(a.message, /^10\.0\.0\.9:80 got 400 TCP SYNs without a completed handshake from 10\.0\.0\.5 in 0\.4 s \(peak \d+\/s\)$/);
  assert.equal(a.evidence.counters.half_open, 399);
  assert.equal(a.evidence.counters.unanswered, 1);
  assert.equal(a.evidence.thresholds.in_window_peak, 400);
});

test('spoofed sources: one incident for the target, no single src', () => {
  const h = new DetectionHarness();
  for (let i = 0; i < 1500; i++) h.attempt({ src: `172.16.${(i >> 8) & 255}.${i & 255}`, dst: '10.0.0.9', dport: 443, outcome: Outcome.HalfOpen, start: 1000 + i * 0.002 });
  h.finish();
  assert.equal(h.states('open').length, 1);
  const last = h.alerts.at(-1)!;
  assert.equal(last.state, 'closed');
  assert.equal(last.src, undefined);
  assert.match(last.message, /from 1000\+ sources/);
});

test('a scan (many ports, few probes each), a slow trickle and completed handshakes do not fire', () => {
  const h = new DetectionHarness();
  for (let i = 0; i < 1000; i++) h.attempt({ src: '10.0.0.5', dst: '10.0.0.9', dport: i + 1, outcome: Outcome.Unanswered, start: 1000 + i * 0.001 });
  for (let i = 0; i < 1000; i++) h.attempt({ src: '10.0.0.6', sport: 1024 + i, dst: '10.0.0.10', dport: 80, outcome: Outcome.Unanswered, start: 2000 + i * 0.05 });
  for (let i = 0; i < 2000; i++) h.attempt({ src: '10.0.0.7', sport: 1024 + i, dst: '10.0.0.11', dport: 80, outcome: Outcome.Ok, start: 3000 + i * 0.001 });
  h.finish();
  assert.deepEqual(h.alerts.map((a) => a.detector), ['port_scan', 'port_scan']);
});
