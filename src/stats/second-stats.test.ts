import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Pipeline } from '../analyze/pipeline.js';
import type { LoopyRecord } from '../analyze/records.js';
import type { InterfaceStats } from '../capture/live.js';
import { SecondStats, type StatsExtra } from './second-stats.js';
import { statsEngine } from './stats-engine.test-util.js';
import { ACK, PSH, SYN, batchOf, tcp4, udp4, type Frame } from '../test-support/frames.js';

const NO_EXTRA: StatsExtra = { interfaces: [], process: { cpuPercent: 0, rssBytes: 0 } };

const A = '192.168.10.5';
const B = '192.168.10.6';
const R1 = '198.51.100.7';
const R2 = '203.0.113.9';

// Ports chosen where no application analyzer listens, so the zero payloads make no records or weirds.
function firstSecond(): Frame[] {
  return [
    // f1, UDP A → R1: three 12-byte datagrams (IP 20 + UDP 8 + 12 = 40 bytes), one 60-byte reply (IP 88).
    { ts: 1000.1, bytes: udp4(A, R1, 40000, 9999, 12) },
    { ts: 1000.2, bytes: udp4(A, R1, 40000, 9999, 12) },
    { ts: 1000.3, bytes: udp4(A, R1, 40000, 9999, 12) },
    { ts: 1000.4, bytes: udp4(R1, A, 9999, 40000, 60) },
    // f2, TCP B → R2: handshake (IP 40 each), then 1000 bytes of data (IP 1040).
    { ts: 1000.5, bytes: tcp4(B, R2, 50000, 7000, SYN, 100, 0) },
    { ts: 1000.55, bytes: tcp4(R2, B, 7000, 50000, SYN | ACK, 900, 101) },
    { ts: 1000.6, bytes: tcp4(B, R2, 50000, 7000, ACK, 101, 901) },
    { ts: 1000.7, bytes: tcp4(B, R2, 50000, 7000, PSH | ACK, 101, 901, 1000) },
    // f3, UDP A → B, both local: two 100-byte datagrams (IP 128).
    { ts: 1000.8, bytes: udp4(A, B, 5000, 6000, 100) },
    { ts: 1000.9, bytes: udp4(A, B, 5000, 6000, 100) },
  ];
}

test('one second by hand: totals, in/out by local nets, top talkers, flows, protocols', () => {
  const { pipeline, stats } = statsEngine({ localNets: ['192.168.10.0/24'], topN: 3 });
  pipeline.process(batchOf(firstSecond()));
  const s = stats.roll(1001, NO_EXTRA);
  assert.equal(s.type, 'stats');
  assert.equal(s.ts, 1001);
  assert.equal(s.duration, 0.9, 'the first second starts at the first packet');
  assert.equal(s.packets, 10);
  // Frames: UDP 54 ×3, 102, TCP 54 ×3, 1054, UDP 142 ×2.
  assert.equal(s.bytes, 54 * 3 + 102 + 54 * 3 + 1054 + 142 * 2);
  // In: R1's reply, R2's SYN-ACK, both A → B datagrams (local to local: in, as B, the responder, sees them).
  // Out: A's three, B's three. Every packet of a flow with a local end counts once.
  assert.equal(s.packets_in, 1 + 1 + 2);
  assert.equal(s.bytes_in, 88 + 40 + 256);
  assert.equal(s.packets_out, 3 + 3);
  assert.equal(s.bytes_out, 120 + 40 + 40 + 1040);
  assert.equal(s.packets_in + s.packets_out, s.packets);
  // A host's bytes are everything it sent and received: B = f2 (1160) + f3 (256); R2 = f2; A = f1 (208) + f3.
  assert.deepEqual(s.top_talkers, [
    { host: B, bytes: 1416, packets: 6, flows: 2, local: true },
    { host: R2, bytes: 1160, packets: 4, flows: 1, local: false },
    { host: A, bytes: 464, packets: 6, flows: 2, local: true },
  ]);
  assert.equal(s.flows_opened, 3);
  assert.equal(s.flows_closed, 0);
  assert.equal(s.flows_active, 3);
  assert.equal(s.protocols.ethernet, 10);
  assert.equal(s.protocols.ipv4, 10);
  assert.equal(s.protocols.udp, 6);
  assert.equal(s.protocols.tcp, 4);
  assert.deepEqual(s.weirds, {});
  assert.deepEqual(s.dns, { queries: 0, answers: 0, rcodes: {} });

  // The next second holds only R2's last ACK: counts are this second's, not running totals.
  pipeline.process(batchOf([{ ts: 1001.2, bytes: tcp4(R2, B, 7000, 50000, ACK, 901, 1101) }]));
  const s2 = stats.roll(1002, NO_EXTRA);
  assert.equal(s2.duration, 1);
  assert.equal(s2.packets, 1);
  assert.equal(s2.bytes, 54);
  assert.deepEqual([s2.packets_in, s2.bytes_in, s2.packets_out, s2.bytes_out], [1, 40, 0, 0]);
  assert.deepEqual(s2.top_talkers, [
    { host: B, bytes: 40, packets: 1, flows: 1, local: true },
    { host: R2, bytes: 40, packets: 1, flows: 1, local: false },
  ]);
  assert.deepEqual(s2.protocols, { ethernet: 1, ipv4: 1, tcp: 1 });
  assert.equal(s2.flows_opened, 0);
  assert.equal(s2.flows_active, 3);
});

test('packets of a flow that ends between two rolls are still counted, once', () => {
  const { pipeline, stats } = statsEngine({ localNets: ['192.168.10.0/24'] });
  pipeline.process(batchOf([
    { ts: 2000.1, bytes: udp4(A, R1, 41000, 9999, 12) },
    { ts: 2000.2, bytes: udp4(R1, A, 9999, 41000, 12) },
  ]));
  const before = stats.roll(2000.5, NO_EXTRA);
  assert.deepEqual([before.packets_out, before.packets_in, before.flows_opened], [1, 1, 1]);
  pipeline.process(batchOf([{ ts: 2000.9, bytes: udp4(A, R1, 41000, 9999, 12) }]));
  // UDP idles out after 60 s: the engine ends the flow before the next roll.
  pipeline.tick(2100);
  assert.equal(pipeline.engine.connections.table.count, 0);
  const s = stats.roll(2100, NO_EXTRA);
  assert.equal(s.packets_out, 1);
  assert.equal(s.bytes_out, 40);
  assert.equal(s.packets_in, 0);
  assert.equal(s.flows_closed, 1);
  assert.equal(s.flows_active, 0);
  assert.deepEqual(s.top_talkers.map((t) => [t.host, t.packets, t.flows]), [[A, 1, 1], [R1, 1, 1]]);
  const after = stats.roll(2101, NO_EXTRA);
  assert.deepEqual([after.packets, after.packets_out, after.flows_closed, after.top_talkers.length], [0, 0, 0, 0]);
});

test('an active timeout restarts the flow counters without losing or repeating a packet', () => {
  const records: LoopyRecord[] = [];
  const { pipeline, stats } = statsEngine({ localNets: ['192.168.10.0/24'] }, { timeouts: { active: 2 } }, records);
  const perSecond: number[] = [];
  for (let second = 0; second < 10; second++) {
    const t = 3000 + second;
    pipeline.process(batchOf([0.1, 0.35, 0.6, 0.85].map((f) => ({ ts: t + f, bytes: udp4(A, R1, 42000, 9999, 12) }))));
    perSecond.push(stats.roll(t + 1, NO_EXTRA).packets_out);
  }
  pipeline.finish();
  const last = stats.roll(3011, NO_EXTRA);
  const conns = records.filter((r) => r.type === 'conn');
  assert.ok(conns.length >= 3, `the flow was reported ${conns.length} times: the active timeout did not fire`);
  assert.deepEqual(perSecond, Array(10).fill(4));
  assert.equal(last.packets_out, 0);
  assert.equal(last.flows_closed, 1, 'only the end of input closes it; active timeouts are not closes');
});

test('interface counters become per-second shares, with drop % and running totals', () => {
  const { stats } = statsEngine({});
  // What LiveCapture.stats() returns goes in as it is.
  const fromLive: InterfaceStats[] = [{ interface: 'eth0', received: 100, dropped: 0, ifDropped: 0, addonDropped: 0 }];
  const first = stats.roll(1, { interfaces: fromLive, process: { cpuPercent: 2.5, rssBytes: 50e6 } });
  assert.deepEqual(first.interfaces, [{ name: 'eth0', packets: 0, bytes: 0, received: 100, dropped: 0, if_dropped: 0, drop_pct: 0, received_total: 100, dropped_total: 0 }]);
  assert.equal(first.cpu_percent, 2.5);
  assert.equal(first.rss_bytes, 50e6);
  const second = stats.roll(2, { interfaces: [{ interface: 'eth0', received: 250, dropped: 50, ifDropped: 2, addonDropped: 1 }], process: { cpuPercent: 3, rssBytes: 51e6 } });
  // 150 received this second, of which 50 + 1 lost: 34 %.
  assert.deepEqual(second.interfaces, [{ name: 'eth0', packets: 0, bytes: 0, received: 150, dropped: 51, if_dropped: 2, drop_pct: 34, received_total: 250, dropped_total: 51 }]);
  // The capture was reopened: its counters start again from zero.
  const third = stats.roll(3, { interfaces: [{ interface: 'eth0', received: 10, dropped: 0, ifDropped: 0 }], process: { cpuPercent: 0, rssBytes: 0 } });
  assert.equal(third.interfaces[0].received, 10);
  assert.equal(third.interfaces[0].dropped, 0);
});

test('DNS transactions are counted from the records, answers by rcode name', () => {
  const { stats } = statsEngine({});
  const dns = (rcode_name?: string) => ({ type: 'dns', query: 'example.org', ...(rcode_name ? { rcode: 0, rcode_name } : {}) });
  stats.onRecord(dns('NOERROR'));
  stats.onRecord(dns('NXDOMAIN'));
  stats.onRecord(dns('NOERROR'));
  stats.onRecord(dns()); // a query that got no answer
  stats.onRecord({ type: 'conn' });
  assert.deepEqual(stats.roll(1, NO_EXTRA).dns, { queries: 4, answers: 3, rcodes: { NOERROR: 2, NXDOMAIN: 1 } });
  assert.deepEqual(stats.roll(2, NO_EXTRA).dns, { queries: 0, answers: 0, rcodes: {} });
});

test('a SecondStats made late counts only what happens after it', () => {
  const pipeline = new Pipeline();
  pipeline.process(batchOf([{ ts: 5000.1, bytes: udp4(A, R1, 43000, 9999, 12) }]));
  const stats = new SecondStats(pipeline, {});
  pipeline.process(batchOf([{ ts: 5000.5, bytes: udp4(B, R2, 43000, 9999, 12) }]));
  const s = stats.roll(5001, NO_EXTRA);
  assert.equal(s.packets, 1);
  assert.deepEqual(s.protocols, { ethernet: 1, ipv4: 1, udp: 1 });
  // The flow that was already there adds nothing it did before; the new one is classified as usual.
  assert.deepEqual(s.top_talkers.map((t) => [t.host, t.packets, t.local]), [[B, 1, true], [R2, 1, false]]);
  assert.deepEqual([s.packets_out, s.bytes_out], [1, 40]);
});

test('packets and bytes per interface: what the engine took from each, this second', () => {
  const { pipeline, stats } = statsEngine({});
  const a = udp4('10.0.0.1', '10.0.0.2', 5000, 9999, 10);
  const b = udp4('10.0.0.3', '10.0.0.4', 5000, 9999, 100);
  pipeline.process(batchOf([{ ts: 0.1, bytes: a }, { ts: 0.2, bytes: b, iface: 1 }, { ts: 0.3, bytes: b, iface: 1 }]));
  const counters = (name: string) => ({ interface: name, received: 0, dropped: 0, ifDropped: 0 });
  const first = stats.roll(1, { interfaces: [counters('eth0'), counters('eth1')], process: { cpuPercent: 0, rssBytes: 0 } });
  assert.deepEqual(first.interfaces.map((i) => [i.name, i.packets, i.bytes]), [['eth0', 1, a.length], ['eth1', 2, 2 * b.length]]);
  pipeline.process(batchOf([{ ts: 1.5, bytes: a, iface: 1 }]));
  const second = stats.roll(2, { interfaces: [counters('eth0'), counters('eth1')], process: { cpuPercent: 0, rssBytes: 0 } });
  assert.deepEqual(second.interfaces.map((i) => [i.name, i.packets, i.bytes]), [['eth0', 0, 0], ['eth1', 1, a.length]]);
  // One source (one interface, "any", a replayed file): all the engine took, whatever the frames' index.
  const one = statsEngine({});
  one.pipeline.process(batchOf([{ ts: 2.5, bytes: a }, { ts: 2.6, bytes: b, iface: 1 }]));
  const third = one.stats.roll(3, { interfaces: [counters('any')], process: { cpuPercent: 0, rssBytes: 0 } });
  assert.deepEqual([third.interfaces[0].packets, third.interfaces[0].bytes], [2, a.length + b.length]);
});
