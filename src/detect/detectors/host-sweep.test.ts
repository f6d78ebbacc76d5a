/** Horizontal sweep: one port (or ping) across many hosts, from hand-built attempt outcomes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DetectionHarness } from '../testing/harness.js';
import { Outcome, type OutcomeCode } from '../types.js';

function sweep(h: DetectionHarness, t0: number, n: number, opts: { port?: number; proto?: 'tcp' | 'udp' | 'icmp'; outcome?: (i: number) => OutcomeCode; src?: string; gap?: number } = {}): number {
  const gap = opts.gap ?? 0.02;
  for (let i = 0; i < n; i++) {
    h.attempt({ src: opts.src ?? '10.0.0.5', dst: `192.168.20.${i + 1}`, dport: opts.port ?? 22, proto: opts.proto, outcome: opts.outcome?.(i) ?? Outcome.Unanswered, start: t0 + i * gap });
  }
  return t0 + n * gap;
}

/** The fast rule alone (the slow one would fire first, at the 20th host). */
const FAST_ONLY = { detectors: { host_sweep: { slowMinHosts: 1000 } } };

test('fast rule: fires at the 50th host probed on one port, says how many answered', () => {
  const h = new DetectionHarness(FAST_ONLY);
  sweep(h, 1000, 49, { outcome: (i) => (i % 10 === 0 ? Outcome.HalfOpen : Outcome.Unanswered) });
  assert.equal(h.alerts.length, 0);
  assert.equal(h.alerts.length, 0, 'the same host again is not a new one');
  sweep(h, 1001, 1, { outcome: () => Outcome.Rejected, gap: 0 });
  assert.equal(h.alerts.length, 0);
  h.attempt({ src: '10.0.0.5', dst: '192.168.20.77', dport: 22, outcome: Outcome.Rejected, start: 1001.5 });
  assert.equal(h.alerts.length, 1);
  const a = h.alerts[0];
  assert.equal(a.detector, 'host_sweep');
  assert.equal(a.src, '10.0.0.5');
  assert.equal(a.dst, undefined, 'many targets: no single dst');
  assert.equal(a.message, '10.0.0.5 probed 50 hosts on TCP port 22 in 1.5 s (33.8 hosts/s), 5 answered');
  assert.equal(a.evidence.counters.distinct_hosts, 50);
  assert.equal(a.evidence.counters.answered, 5);
  assert.equal(a.evidence.thresholds.distinct_hosts, 50);
  assert.deepEqual(a.evidence.ports, [22]);
  assert.equal(a.evidence.hosts[0], '10.0.0.5');
  assert.equal(a.evidence.hosts.length, 50, 'lists are capped at 50; the counters say how many');
});

test('a ping sweep (unanswered ICMP echoes) is reported as such', () => {
  const h = new DetectionHarness(FAST_ONLY);
  sweep(h, 1000, 60, { proto: 'icmp', port: 0 });
  assert.equal(h.alerts.length, 1);
  assert.match(h.alerts[0].message, /^10\.0\.0\.5 pinged 50 hosts in /);
  assert.equal(h.alerts[0].evidence.protocol, 'icmp');
});

test('conversations and spread-out ports do not add up', () => {
  const h = new DetectionHarness();
  sweep(h, 1000, 200, { port: 443, outcome: () => Outcome.Ok });
  for (let i = 0; i < 100; i++) h.attempt({ src: '10.0.0.5', dst: `192.168.20.${i + 1}`, dport: 1000 + i, outcome: Outcome.Unanswered, start: 1010 + i * 0.01 });
  assert.equal(h.alerts.length, 0, 'each port saw one host');
});

test('updates while it goes on, closes after the quiet period; allow-listed targets do not count', () => {
  const h = new DetectionHarness({ detectors: { host_sweep: { allowTargets: ['192.168.20.0/26'], slowMinHosts: 1000 } } });
  let t = sweep(h, 1000, 100);
  assert.equal(h.alerts.length, 0, '.1-.63 allowed: 37 left');
  t = sweep(h, t, 254, { src: '10.0.0.6', gap: 0.1 });
  assert.equal(h.states('open').length, 1);
  assert.equal(h.states('update').length >= 1, true);
  h.tick(t + 61);
  const closed = h.states('closed');
  assert.equal(closed.length, 1);
  assert.equal(closed[0].evidence.counters.distinct_hosts, 254 - 63);
});

test('a resolver with a few dozen unanswered name servers among thousands of answers is not sweeping', () => {
  const h = new DetectionHarness();
  // 60 s: 100 answered queries a second to many servers, and one unanswered every half second (60 servers).
  for (let i = 0; i < 6000; i++) {
    const t = 1000 + i * 0.01;
    h.attempt({ src: '10.0.0.53', sport: 1024 + (i % 60000), dst: `198.51.${(i >> 8) & 255}.${i & 255}`, dport: 53, proto: 'udp', outcome: Outcome.Ok, start: t });
    if (i % 50 === 0) h.attempt({ src: '10.0.0.53', dst: `203.0.113.${i / 50 + 1}`, dport: 53, proto: 'udp', outcome: Outcome.Unanswered, start: t });
  }
  h.finish();
  assert.deepEqual(h.alerts.map((a) => a.message), []);
});

test('slow rule: a ping sweep of one host every 6 s fires at its 23rd host, saying its real duration and rate', () => {
  const h = new DetectionHarness();
  sweep(h, 1000, 22, { proto: 'icmp', port: 0, gap: 6 });
  assert.equal(h.alerts.length, 0, '22 hosts over 2 min decay to 19.4');
  h.attempt({ src: '10.0.0.5', dst: '192.168.20.200', dport: 0, proto: 'icmp', outcome: Outcome.Unanswered, start: 1000 + 22 * 6 });
  assert.equal(h.alerts.length, 1);
  const a = h.alerts[0];
  assert.equal(a.message, '10.0.0.5 pinged 23 hosts in 2 min (10.5 hosts/min), 0 answered');
  assert.equal(a.evidence.counters.decayed_hosts, 19.8);
  assert.equal(a.evidence.thresholds.decayed_hosts, 20);
});

test('slow rule: a SYN sweep of 20 hosts at once fires at the 20th; a trickle of one failure every 2 min never', () => {
  const fast = new DetectionHarness();
  sweep(fast, 1000, 19);
  assert.equal(fast.alerts.length, 0);
  fast.attempt({ src: '10.0.0.5', dst: '192.168.20.200', dport: 22, outcome: Outcome.Unanswered, start: 1000.38 });
  assert.equal(fast.alerts.length, 1);
  assert.match(fast.alerts[0].message, /^10\.0\.0\.5 probed 20 hosts on TCP port 22 in 381 ms \(52\.5 hosts\/s\)/);
  const trickle = new DetectionHarness();
  sweep(trickle, 1000, 60, { gap: 120 });
  trickle.finish();
  assert.deepEqual(trickle.alerts.map((x) => x.message), []);
});
