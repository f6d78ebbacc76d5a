/** SYN flood / half-open surge from hand-built attempt outcomes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DetectionHarness } from '../testing/harness.js';
import { Outcome } from '../types.js';
import { random } from '../testing/random.js';


/** A random address outside 10/8 (the targets' network), as text. */
function randomAddress(rnd: () => number): string {
  const n = Math.floor(rnd() * 2 ** 32);
  return `${11 + ((n >>> 24) % 200)}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

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
  // 400 SYNs over 0.4 s: 1000 a second, measured over the incident (not the window's 400 / 5 s).
  const m = /^10\.0\.0\.9:80 got 400 TCP SYNs without a completed handshake from 10\.0\.0\.5 in \d+ ms \((\d+)\/s\)$/.exec(a.message);
  assert.ok(m && Math.abs(Number(m[1]) - 1000) <= 10, a.message);
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
  assert.match(last.message, /^10\.0\.0\.9:443 got 1500 TCP SYNs without a completed handshake from about 1,[3-7]00 sources in /);
  assert.ok(Math.abs(last.evidence.counters.sources - 1500) <= 150, `sources estimated ${last.evidence.counters.sources}`);
  assert.equal(last.evidence.hosts.length, 21, 'the target and the first 20 sources');
});

test('a scan (many ports, few probes each), a slow trickle and completed handshakes do not fire', () => {
  const h = new DetectionHarness();
  for (let i = 0; i < 1000; i++) h.attempt({ src: '10.0.0.5', dst: '10.0.0.9', dport: i + 1, outcome: Outcome.Unanswered, start: 1000 + i * 0.001 });
  for (let i = 0; i < 1000; i++) h.attempt({ src: '10.0.0.6', sport: 1024 + i, dst: '10.0.0.10', dport: 80, outcome: Outcome.Unanswered, start: 2000 + i * 0.05 });
  for (let i = 0; i < 2000; i++) h.attempt({ src: '10.0.0.7', sport: 1024 + i, dst: '10.0.0.11', dport: 80, outcome: Outcome.Ok, start: 3000 + i * 0.001 });
  h.finish();
  assert.deepEqual(h.alerts.map((a) => a.detector), ['port_scan', 'port_scan']);
});

test('a spoofed SYN flood to random ports of one host raises one host-wide incident, sources estimated', () => {
  const h = new DetectionHarness();
  const rnd = random(42);
  const sources = new Set<string>();
  const ports = new Set<number>();
  for (let i = 0; i < 5000; i++) {
    const src = randomAddress(rnd);
    const dport = 1 + Math.floor(rnd() * 65535);
    sources.add(src);
    ports.add(dport);
    h.attempt({ src, sport: 1024 + (i % 60000), dst: '10.0.0.5', dport, outcome: Outcome.Unanswered, start: 1000 + i * 0.001 });
  }
  const raised = h.alerts.filter((a) => a.detector === 'syn_flood');
  assert.equal(raised.length, 1, 'raised during the flood, at the host-wide threshold');
  assert.equal(raised[0].evidence.thresholds.host_in_window_peak, 800);
  assert.ok(raised[0].evidence.counters.host_in_window_peak >= 800);
  h.finish();
  const alerts = h.alerts.filter((a) => a.detector === 'syn_flood');
  assert.equal(alerts.filter((a) => a.state === 'open').length, 1);
  assert.equal(new Set(alerts.map((a) => a.alert_id)).size, 1, 'one incident for the target');
  const last = alerts.at(-1)!;
  assert.equal(last.dst, '10.0.0.5');
  assert.equal(last.src, undefined);
  assert.match(last.message, /^10\.0\.0\.5 got 5000 TCP SYNs without a completed handshake on about [\d,]+ ports from about [\d,]+ sources in 5 s \(\d+\/s\)$/);
  const c = last.evidence.counters;
  assert.equal(c.failed_handshakes, 5000);
  assert.ok(Math.abs(c.sources - sources.size) <= 0.15 * sources.size, `sources estimated ${c.sources} for ${sources.size}`);
  assert.ok(Math.abs(c.distinct_ports - ports.size) <= 0.15 * ports.size, `ports estimated ${c.distinct_ports} for ${ports.size}`);
  const [spread, from] = /on about ([\d,]+) ports from about ([\d,]+) sources/.exec(last.message)!.slice(1).map((x) => Number(x.replace(/,/g, '')));
  assert.ok(Math.abs(spread - ports.size) <= 0.15 * ports.size, `message says ${spread} ports`);
  assert.ok(Math.abs(from - sources.size) <= 0.15 * sources.size, `message says ${from} sources`);
  assert.equal(last.evidence.thresholds.in_window_peak, 800);
  assert.equal(last.evidence.thresholds.host_sources, 50);
});

test('a one-source vertical scan of 2000 ports in 5 s is not a SYN flood (port_scan reports it)', () => {
  const h = new DetectionHarness();
  for (let i = 0; i < 2000; i++) h.attempt({ src: '10.0.0.5', dst: '10.0.0.9', dport: i + 1, outcome: i % 3 === 0 ? Outcome.Rejected : Outcome.Unanswered, start: 1000 + i * 0.0025 });
  h.finish();
  assert.deepEqual(h.alerts.filter((a) => a.detector === 'syn_flood'), []);
  assert.ok(h.alerts.some((a) => a.detector === 'port_scan'));
});

test('the host-wide rule needs its sources: 49 sources spraying ports stay quiet, 50 fire', () => {
  for (const [n, fires] of [[49, false], [50, true]] as const) {
    const h = new DetectionHarness();
    for (let i = 0; i < 2000; i++) h.attempt({ src: `10.1.0.${1 + (i % n)}`, dst: '10.0.0.9', dport: 1 + i, outcome: Outcome.Unanswered, start: 1000 + i * 0.002 });
    h.finish();
    assert.equal(h.alerts.some((a) => a.detector === 'syn_flood'), fires, `${n} sources`);
  }
});

test('100,000 one-off spoofed targets do not blind a small table to a real flood that starts after it filled', () => {
  const h = new DetectionHarness({ detectors: { syn_flood: { maxTargets: 64 } } });
  const rnd = random(7);
  const junk = () => `10.${1 + Math.floor(rnd() * 250)}.${Math.floor(rnd() * 256)}.${Math.floor(rnd() * 256)}`;
  const size = () => h.detection.stateReport().find((r) => r.detector === 'syn_flood' && r.table === 'targets')!;
  let t = 1000;
  let maxSize = 0;
  // The table fills first: 64 targets with a few failed handshakes each (past a quarter full, a new target is taken
  // on its second sighting)...
  for (let k = 0; k < 64; k++) {
    for (let j = 0; j < 3; j++) h.attempt({ src: '172.16.0.1', sport: 30000 + j, dst: `10.200.0.${k + 1}`, dport: 22, outcome: Outcome.Rejected, start: (t += 0.0001) });
  }
  assert.equal(size().size, 64, 'full before the junk and the real flood');
  // ...then 100,000 one-off spoofed targets, with a real flood on one port of one host starting among them
  // (one flood SYN for every 45 junk ones).
  for (let i = 0; i < 100_000; i++) {
    h.attempt({ src: randomAddress(rnd), dst: junk(), dport: 80, outcome: Outcome.Unanswered, start: (t += 0.00005) });
    if (i >= 10_000 && i % 45 === 0) h.attempt({ src: randomAddress(rnd), dst: '192.168.1.10', dport: 443, outcome: Outcome.HalfOpen, start: t });
    if (i % 100 === 0) maxSize = Math.max(maxSize, size().size);
  }
  const report = size();
  assert.ok(maxSize <= 64, `table grew to ${maxSize}`);
  assert.ok(report.size <= 64);
  assert.ok(report.declined > 0 && report.evicted > 0, 'the bound was at work (the real target took a full table\'s place)');
  const flood = h.alerts.filter((a) => a.detector === 'syn_flood');
  assert.equal(flood.length >= 1, true, 'the real flood raised');
  assert.deepEqual(new Set(flood.map((a) => a.dst)), new Set(['192.168.1.10']), 'junk targets raise nothing');
  assert.match(flood[0].message, /^192\.168\.1\.10:443 got 400 TCP SYNs/);
});
