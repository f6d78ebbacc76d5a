/** "New since the baseline" from hand-built attempt outcomes, with a short learning period. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DetectionHarness } from '../testing/harness.js';
import { Outcome } from '../types.js';

const CONFIG = { detectors: { new_service: { learnSeconds: 100 } } };

/** Learning: 10.0.0.5 uses tcp/443 and udp/53 each second for 100 s; 10.0.0.9 answers on tcp/22. */
function learned(): DetectionHarness {
  const h = new DetectionHarness(CONFIG);
  for (let t = 1000; t < 1101; t++) {
    h.attempt({ src: '10.0.0.5', dst: '198.51.100.1', dport: 443, outcome: Outcome.Ok, start: t });
    h.attempt({ src: '10.0.0.5', dst: '10.0.0.1', dport: 53, proto: 'udp', outcome: Outcome.Ok, start: t + 0.5 });
    h.attempt({ src: '198.51.100.2', dst: '10.0.0.9', dport: 22, outcome: Outcome.Ok, start: t + 0.7 });
  }
  return h;
}

test('nothing is new during learning; afterwards a new port for a local client fires, once per pair', () => {
  const h = learned();
  assert.equal(h.alerts.length, 0);
  h.attempt({ src: '10.0.0.5', dst: '198.51.100.1', dport: 443, outcome: Outcome.Ok, start: 1102 });
  h.attempt({ src: '10.0.0.5', dst: '203.0.113.9', dport: 6667, outcome: Outcome.Ok, start: 1103 });
  h.attempt({ src: '10.0.0.5', dst: '203.0.113.9', dport: 6667, outcome: Outcome.Ok, start: 1104 });
  assert.equal(h.alerts.length, 1);
  const a = h.alerts[0];
  assert.equal(a.detector, 'new_service');
  assert.equal(a.severity, 'low');
  assert.equal(a.src, '10.0.0.5');
  assert.equal(a.message, '10.0.0.5 used tcp/6667 for the first time since a 100 s baseline');
  assert.deepEqual(a.evidence.names, ['tcp/6667']);
});

test('a new listening service on a local host; a second new port updates the same alert', () => {
  const h = learned();
  h.attempt({ src: '198.51.100.3', dst: '10.0.0.9', dport: 8080, outcome: Outcome.Ok, start: 1102 });
  h.attempt({ src: '198.51.100.3', dst: '10.0.0.9', dport: 8443, outcome: Outcome.Ok, start: 1103 });
  h.finish();
  assert.equal(h.states('open').length, 1);
  const closed = h.states('closed')[0];
  assert.equal(closed.dst, '10.0.0.9');
  assert.equal(closed.message, '10.0.0.9 answered on 2 new ports: tcp/8080, tcp/8443 for the first time since a 100 s baseline (new listening service)');
});

test('probes, remote clients, ephemeral ports and learned pairs are not new', () => {
  const h = learned();
  h.attempt({ src: '10.0.0.5', dst: '10.0.0.9', dport: 23, outcome: Outcome.HalfOpen, start: 1102 });
  h.attempt({ src: '198.51.100.9', dst: '203.0.113.1', dport: 25, outcome: Outcome.Ok, start: 1102 });
  h.attempt({ src: '10.0.0.5', dst: '203.0.113.9', dport: 50000, proto: 'udp', outcome: Outcome.Ok, start: 1102 });
  h.attempt({ src: '198.51.100.7', dst: '10.0.0.9', dport: 22, outcome: Outcome.Ok, start: 1102 });
  h.finish();
  assert.deepEqual(h.alerts, []);
});

test('an application service a local host never spoke (conn.service from the analyzers), through the engine', async () => {
  const { runFrames } = await import('../testing/frames.js');
  const { udp4, dnsMessage } = await import('../../test-support/frames.js');
  const frames = [];
  // Three seconds of learning (a host pinging a UDP service), then a first DNS lookup by 10.0.0.5.
  for (let t = 1000; t < 1004; t += 0.5) frames.push({ ts: t, bytes: udp4('10.0.0.7', '10.0.0.8', 5000, 6000, 4) });
  frames.push({ ts: 1004, bytes: udp4('10.0.0.5', '10.0.0.1', 40000, 53, dnsMessage(7, false, 'www.example.com')) });
  frames.push({ ts: 1004.01, bytes: udp4('10.0.0.1', '10.0.0.5', 53, 40000, dnsMessage(7, true, 'www.example.com')) });
  const { alerts, records } = await runFrames(frames, { detectors: { new_service: { learnSeconds: 2 } } });
  assert.ok(records.some((r) => r.type === 'dns'), 'the DNS analyzer took the exchange');
  const last = alerts.filter((a) => a.src === '10.0.0.5').at(-1)!;
  assert.deepEqual(last.evidence.names, ['udp/53', 'dns']);
});
