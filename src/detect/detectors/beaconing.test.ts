/** Beaconing from hand-built connection attempts and DNS records (the harness: exact times, no packets). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DetectionHarness } from '../testing/harness.js';
import { Outcome } from '../types.js';
import { random } from '../testing/random.js';


/** Connection start times: every `interval` s, each off by up to ±jitter·interval. */
function times(n: number, t0: number, interval: number, jitter: number, rnd = random(7)): number[] {
  return Array.from({ length: n }, (_, i) => t0 + i * interval + (rnd() * 2 - 1) * jitter * interval);
}

test('a connection every 60 s ±5 % to one outside host:port: one alert at the 12th, naming client, destination and interval', () => {
  const h = new DetectionHarness();
  for (const [i, start] of times(20, 1000, 60, 0.05).entries()) h.attempt({ src: '192.168.1.20', sport: 40000 + i, dst: '203.0.113.7', dport: 443, outcome: Outcome.Ok, start });
  h.finish();
  const open = h.states('open');
  assert.equal(open.length, 1);
  const a = open[0];
  assert.deepEqual([a.detector, a.src, a.dst], ['beaconing', '192.168.1.20', '203.0.113.7']);
  assert.ok(a.ts > 1000 + 10.5 * 60 && a.ts < 1000 + 11.5 * 60, `raised at the 12th contact (${a.ts})`);
  assert.match(a.message, /^192\.168\.1\.20 contacted 203\.0\.113\.7:443\/tcp 12 times, every (59|60|61) s \(jitter \d %\) for 11 min$/);
  assert.equal(h.alerts.at(-1)!.evidence.counters.contacts, 20);
});

test('irregular contacts, a fast poll loop and a local destination (scope outbound) raise nothing', () => {
  const h = new DetectionHarness();
  const rnd = random(3);
  let t = 1000;
  for (let i = 0; i < 40; i++) h.attempt({ src: '192.168.1.21', sport: 40000 + i, dst: '203.0.113.8', dport: 443, outcome: Outcome.Ok, start: (t += 5 + rnd() * 200) });
  for (const [i, start] of times(60, 1000, 2, 0.01).entries()) h.attempt({ src: '192.168.1.22', sport: 41000 + i, dst: '203.0.113.9', dport: 80, outcome: Outcome.Ok, start });
  for (const [i, start] of times(20, 1000, 30, 0.01).entries()) h.attempt({ src: '192.168.1.23', sport: 42000 + i, dst: '192.168.1.1', dport: 9100, outcome: Outcome.Ok, start });
  h.finish();
  assert.deepEqual(h.alerts.map((a) => a.message), []);
});

test('a DNS lookup of one name every 30 s: one alert naming the client and the name', () => {
  const h = new DetectionHarness();
  for (const ts of times(14, 1000, 30, 0.02).sort((a, b) => a - b)) h.dns({ ts, client: '192.168.1.30', query: 'cdn-7f3a.example.net' });
  h.finish();
  const open = h.states('open');
  assert.equal(open.length, 1);
  assert.deepEqual([open[0].src, open[0].dst, open[0].evidence.names], ['192.168.1.30', undefined, ['cdn-7f3a.example.net']]);
  assert.match(open[0].message, /^192\.168\.1\.30 looked up cdn-7f3a\.example\.net 12 times, every 30 s/);
});

test('with scope all and a short interval (what the live test sets), a local heartbeat every second fires', () => {
  const h = new DetectionHarness({ detectors: { beaconing: { scope: 'all', minInterval: 0.5, minEvents: 8 } } });
  for (const [i, start] of times(10, 1000, 1, 0.05).entries()) h.attempt({ src: '10.0.0.2', sport: 40000 + i, dst: '10.0.0.1', dport: 8000, outcome: Outcome.Ok, start });
  h.finish();
  assert.deepEqual(h.states('open').map((a) => [a.src, a.dst]), [['10.0.0.2', '10.0.0.1']]);
});

test('a series past its first eight times moves to a ring; a ring freed by a series that ended serves the next one, judged on its own times only', () => {
  const h = new DetectionHarness({ detectors: { beaconing: { maxSeries: 4 } } });
  const rnd = random(11);
  // Four clients, thirty irregular contacts each to one server: every series moves to a ring, none is regular.
  let t = 1000;
  for (let i = 0; i < 30; i++) {
    for (let c = 0; c < 4; c++) h.attempt({ src: `192.168.1.${50 + c}`, sport: 40000 + i, dst: '203.0.113.20', dport: 443, outcome: Outcome.Ok, start: t + c });
    t += 20 + rnd() * 300;
  }
  // Quiet for an hour: the series end and give their slots and rings back.
  for (let s = 0; s < 130; s++) h.tick((t += 30));
  // A regular beacon now takes a slot and, at its ninth contact, a ring the irregular series wrote in.
  const start = t;
  for (let i = 0; i < 14; i++) h.attempt({ src: '192.168.1.60', sport: 41000 + i, dst: '203.0.113.21', dport: 8443, outcome: Outcome.Ok, start: start + i * 45 });
  h.finish();
  const open = h.states('open');
  assert.deepEqual(open.map((a) => a.src), ['192.168.1.60']);
  assert.match(open[0].message, /contacted 203\.0\.113\.21:8443\/tcp 12 times, every 45 s \(jitter 0 %\) for 8 min$/);
});
