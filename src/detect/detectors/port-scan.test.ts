/** Vertical port scan, and the alert lifecycle through it: fire, update, close, suppression, allow-lists. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DetectionHarness } from '../testing/harness.js';
import { Outcome, type OutcomeCode } from '../types.js';
import { ACK, FIN, PSH, RST, URG, icmpPortUnreachable, tcp4, udp4, type Frame } from '../../test-support/frames.js';
import { runFrames } from '../testing/frames.js';

const SCANNER = '10.0.0.5';
const TARGET = '10.0.0.9';

/** `n` probes of ports from..from+n-1, one every `gap` seconds from `t0`; returns the time after the last. */
function scan(h: DetectionHarness, t0: number, from: number, n: number, gap = 0.01, outcome: OutcomeCode = Outcome.Rejected, src = SCANNER, dst = TARGET): number {
  for (let i = 0; i < n; i++) h.attempt({ src, dst, dport: from + i, outcome, start: t0 + i * gap });
  return t0 + n * gap;
}

test('fires at the 100th distinct port within the window, not before, with the counters, thresholds and ports', () => {
  // The slow rule off (its 20 ports would fire first): the fast rule alone.
  const h = new DetectionHarness({ detectors: { port_scan: { slowMinPorts: 1000 } } });
  scan(h, 1000, 1, 99);
  assert.equal(h.alerts.length, 0, '99 ports: quiet');
  scan(h, 1001, 100, 1, 0.01, Outcome.HalfOpen);
  assert.equal(h.alerts.length, 1);
  const a = h.alerts[0];
  assert.equal(a.type, 'alert');
  assert.equal(a.state, 'open');
  assert.equal(a.detector, 'port_scan');
  assert.equal(a.severity, 'medium');
  assert.equal(a.src, SCANNER);
  assert.equal(a.dst, TARGET);
  assert.equal(a.ts, 1001.001);
  assert.equal(a.message, `${SCANNER} scanned 100 TCP ports on ${TARGET} in 1 s (99.9 ports/s)`);
  assert.equal(a.evidence.counters.distinct_ports, 100);
  assert.equal(a.evidence.counters.refused, 99);
  assert.equal(a.evidence.counters.half_open, 1);
  assert.equal(a.evidence.thresholds.distinct_ports, 100);
  assert.equal(a.evidence.thresholds.decayed_ports, 1000);
  assert.equal(a.evidence.first_seen, 1000);
  assert.equal(a.evidence.last_seen, 1001.001);
  assert.deepEqual(a.evidence.hosts, [SCANNER, TARGET]);
  assert.deepEqual(a.evidence.ports, Array.from({ length: 50 }, (_, i) => i + 1));
  assert.match(a.alert_id, /^A[0-9A-Za-z]{17}$/);
});

test('an incident that goes on updates its one alert (rate-limited), then closes after the quiet period', () => {
  const h = new DetectionHarness({ alerts: { updateInterval: 10, quietPeriod: 60 } });
  let t = scan(h, 1000, 1, 100);
  t = scan(h, t, 101, 400, 0.05); // 20 more seconds of scanning
  const open = h.states('open');
  assert.equal(open.length, 1);
  const updates = h.states('update');
  assert.ok(updates.length >= 1 && updates.length <= 2, `${updates.length} updates in 20 s at one per 10 s`);
  for (const u of updates) assert.equal(u.alert_id, open[0].alert_id);
  for (let i = 1; i < updates.length; i++) assert.ok(updates[i].state_ts - updates[i - 1].state_ts >= 10);
  h.tick(t + 59);
  assert.equal(h.states('closed').length, 0, 'not closed before 60 s of quiet');
  h.tick(t + 61);
  const closed = h.states('closed');
  assert.equal(closed.length, 1);
  assert.equal(closed[0].alert_id, open[0].alert_id);
  assert.equal(closed[0].closed_reason, 'quiet');
  assert.equal(closed[0].evidence.counters.distinct_ports, 500);
  assert.equal(closed[0].ts, open[0].ts, 'ts stays the time it fired');
  // A new scan later is a new incident.
  scan(h, t + 200, 1, 100);
  assert.equal(h.states('open').length, 2);
  assert.notEqual(h.states('open')[1].alert_id, open[0].alert_id);
});

test('end of input closes open alerts with their final evidence', () => {
  const h = new DetectionHarness();
  scan(h, 1000, 1, 150);
  h.finish();
  const closed = h.states('closed');
  assert.equal(closed.length, 1);
  assert.equal(closed[0].closed_reason, 'end_of_input');
  assert.equal(closed[0].evidence.counters.distinct_ports, 150);
});

test('probes that carried data, a trickle of refusals and two small scanners are told apart', () => {
  const h = new DetectionHarness();
  scan(h, 1000, 1, 200, 0.01, Outcome.Ok);
  assert.equal(h.alerts.length, 0, 'real conversations are not probes');
  // One new refused port every 2 minutes for 2 hours: the decayed count levels off near 3.6.
  scan(h, 2000, 1, 60, 120);
  assert.equal(h.alerts.length, 0, 'a trickle never adds up');
  scan(h, 9500, 1, 12, 0.01, Outcome.Rejected, '10.0.0.6');
  scan(h, 9500, 13, 12, 0.01, Outcome.Rejected, '10.0.0.7');
  assert.equal(h.alerts.length, 0, 'two sources with 12 ports each');
});

test('a slow scan (nmap --scan-delay 500ms over 40 ports) fires at its 20th port, with its real duration and rate', () => {
  const h = new DetectionHarness();
  scan(h, 1000, 1, 19, 0.5);
  assert.equal(h.alerts.length, 0, '19 ports');
  scan(h, 1009.5, 20, 21, 0.5);
  assert.equal(h.states('open').length, 1);
  const a = h.states('open')[0];
  assert.equal(a.ts, 1009.501, 'the 20th probe crossed it');
  assert.equal(a.message, `${SCANNER} scanned 20 TCP ports on ${TARGET} in 9.5 s (2.1 ports/s)`);
  assert.equal(a.evidence.counters.distinct_ports, 20);
  assert.equal(a.evidence.thresholds.decayed_ports, 20);
  h.finish();
  const closed = h.states('closed')[0];
  assert.equal(closed.evidence.counters.distinct_ports, 40);
  assert.equal(closed.alert_id, a.alert_id, 'one incident');
});

test('a scan spread over minutes adds up (decay, not a cliff): 30 ports at one every 10 s', () => {
  const h = new DetectionHarness();
  scan(h, 1000, 1, 30, 10);
  assert.equal(h.states('open').length, 1);
  const a = h.states('open')[0];
  // Halved every 300 s: the first 20 ports (190 s) count about 16.5, so it takes a few more.
  assert.ok(a.evidence.counters.distinct_ports > 20 && a.evidence.counters.distinct_ports < 30, a.message);
  assert.equal(a.message, `${SCANNER} scanned 26 TCP ports on ${TARGET} in 4 min (6.2 ports/min)`);
});

test('UDP: a closed port is a refused probe at its ICMP port unreachable; DNS answers to closed sockets are not probes', async () => {
  const frames: Frame[] = [];
  for (let i = 0; i < 25; i++) {
    const probe = udp4(SCANNER, TARGET, 50000, 100 + i, 8);
    frames.push({ ts: 1000 + i * 0.05, bytes: probe }, { ts: 1000 + i * 0.05 + 0.0002, bytes: icmpPortUnreachable(TARGET, SCANNER, probe) });
  }
  // A resolver's late answers to 40 client ports, refused by the client (its sockets had closed).
  for (let i = 0; i < 40; i++) {
    const answer = udp4('10.0.0.53', '10.0.0.20', 53, 30000 + i, 40);
    frames.push({ ts: 1000 + i * 0.05, bytes: answer }, { ts: 1000 + i * 0.05 + 0.0002, bytes: icmpPortUnreachable('10.0.0.20', '10.0.0.53', answer) });
  }
  frames.sort((a, b) => a.ts - b.ts);
  const { alerts } = await runFrames(frames);
  const open = alerts.filter((a) => a.state === 'open');
  assert.equal(open.length, 1, JSON.stringify(open.map((a) => a.message)));
  assert.equal(open[0].src, SCANNER);
  assert.equal(open[0].dst, TARGET);
  assert.ok(open[0].ts < 1001, `fired at ${open[0].ts}, at the 20th refusal (not after the 2 s grace)`);
  assert.equal(open[0].evidence.counters.refused, 20);
  assert.match(open[0].message, /scanned 20 UDP ports/);
});

test('scans without a SYN (nmap -sF, -sX, -sA): each fires, named for its probes; connections joined mid-way do not', async () => {
  for (const [flags, answered] of [[FIN, true], [FIN | PSH | URG, false], [ACK, true]] as const) {
    const frames: Frame[] = [];
    for (let i = 0; i < 30; i++) {
      const t = 1000 + i * 0.01;
      frames.push({ ts: t, bytes: tcp4(SCANNER, TARGET, 50000, 100 + i, flags, 1000, flags & ACK ? 7 : 0) });
      if (answered) frames.push({ ts: t + 0.0002, bytes: tcp4(TARGET, SCANNER, 100 + i, 50000, flags & ACK ? RST : RST | ACK, 7, 1001) });
    }
    // A capture joined mid-way: 40 connections of one client to a server, the server's ACK seen first and the
    // client's answered; and 40 more seen one way only (a tap of one direction).
    for (let i = 0; i < 40; i++) {
      frames.push({ ts: 1000 + i * 0.01, bytes: tcp4('10.0.0.80', '10.0.0.20', 443, 30000 + i, ACK, 5000, 1000) });
      frames.push({ ts: 1000 + i * 0.01 + 0.0002, bytes: tcp4('10.0.0.20', '10.0.0.80', 30000 + i, 443, ACK, 1000, 5000) });
      frames.push({ ts: 1000 + i * 0.01, bytes: tcp4('10.0.0.81', '10.0.0.21', 443, 31000 + i, ACK, 5000, 1000) });
    }
    frames.sort((a, b) => a.ts - b.ts);
    const open = (await runFrames(frames)).alerts.filter((a) => a.state === 'open');
    assert.equal(open.length, 1, `flags ${flags}: ${JSON.stringify(open.map((a) => a.message))}`);
    assert.equal(open[0].src, SCANNER);
    assert.equal(open[0].dst, TARGET);
    assert.match(open[0].message, /scanned 20 TCP ports on 10\.0\.0\.9 with probes that open no connection \(FIN, NULL, Xmas or ACK\)/);
    assert.equal(open[0].evidence.counters.no_syn, 20);
    assert.equal(open[0].evidence.counters[answered ? 'refused' : 'unanswered'], 20);
  }
});

test('UDP scans count; traceroute ports do not', () => {
  const h = new DetectionHarness({ detectors: { port_scan: { slowMinPorts: 1000 } } });
  for (let i = 0; i < 120; i++) h.attempt({ src: SCANNER, dst: TARGET, dport: 33434 + i, proto: 'udp', outcome: Outcome.Unanswered, start: 1000 + i * 0.01 });
  assert.equal(h.alerts.length, 0, 'ports 33434-33534 ignored, 19 left');
  for (let i = 1; i <= 100; i++) h.attempt({ src: SCANNER, dst: TARGET, dport: i, proto: 'udp', outcome: Outcome.Unanswered, start: 1002 + i * 0.01 });
  assert.equal(h.alerts.length, 1);
  assert.match(h.alerts[0].message, /scanned 100 ports \(0 TCP, 100 UDP\)|scanned 100 UDP ports/);
  assert.equal(h.alerts[0].evidence.udp_ports, 100);
});

test('suppression from the config, by detector and source, until it expires', () => {
  const h = new DetectionHarness({ suppressions: [{ detector: 'port_scan', src: '10.0.0.0/24', until: 1500 }] });
  scan(h, 1000, 1, 200, 0.004); // within one second: one signal, then none (no tick to send an update)
  assert.equal(h.alerts.length, 0, 'suppressed');
  assert.equal(h.detection.book.suppressed.get('port_scan'), 1);
  assert.equal(h.detection.suppressions()[0].hits, 1);
  scan(h, 1600, 1, 100);
  assert.equal(h.alerts.length, 1, 'expired at 1500');
});

test('suppression by destination does not touch other targets; suppress() closes a matching open alert', () => {
  const h = new DetectionHarness({ suppressions: [{ dst: '10.0.0.9' }] });
  scan(h, 1000, 1, 100);
  assert.equal(h.alerts.length, 0);
  scan(h, 1100, 1, 100, 0.01, Outcome.Rejected, '10.0.0.50', '10.0.0.10');
  assert.equal(h.states('open').length, 1);
  const id = h.detection.suppress({ detector: 'port_scan', src: '10.0.0.50' });
  const closed = h.states('closed');
  assert.equal(closed.length, 1);
  assert.equal(closed[0].closed_reason, 'suppressed');
  assert.ok(h.detection.unsuppress(id));
  assert.equal(h.detection.suppressions().length, 1);
});

test('allow-lists: an allowed source or target raises nothing', () => {
  const h = new DetectionHarness({ detectors: { port_scan: { allowSources: ['10.0.0.5'], allowTargets: ['192.168.0.0/16'] } } });
  scan(h, 1000, 1, 200);
  scan(h, 1000, 1, 200, 0.01, Outcome.Rejected, '10.0.0.6', '192.168.1.1');
  assert.equal(h.alerts.length, 0);
  scan(h, 1000, 1, 100, 0.01, Outcome.Rejected, '10.0.0.6', '10.0.0.9');
  assert.equal(h.alerts.length, 1);
});

test('thresholds and severity come from the config', () => {
  const h = new DetectionHarness({ detectors: { port_scan: { minPorts: 10, window: 5, severity: 'high' } } });
  scan(h, 1000, 1, 10);
  assert.equal(h.alerts.length, 1);
  assert.equal(h.alerts[0].severity, 'high');
  assert.equal(h.alerts[0].evidence.thresholds.distinct_ports, 10);
});
