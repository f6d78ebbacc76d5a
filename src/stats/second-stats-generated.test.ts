/**
 * A generated capture (known ground truth) fed second by second: the per-second records must add up to
 * the engine's totals and to the ground truth, and their in/out and per-host bytes to what the conn
 * records say, classified here independently of LocalNets.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConnRecord, DnsRecord, LoopyRecord } from '../analyze/records.js';
import { generatedCapture } from '../test-support/sample-frames.js';
import type { StatsSecond } from './second-stats.js';
import { feedBySecond, statsEngine } from './stats-engine.test-util.js';

const EXTRA = { interfaces: [], process: { cpuPercent: 0, rssBytes: 0 } };

async function runBySecond(bytes: Buffer, localNets: string[]) {
  const records: LoopyRecord[] = [];
  const { pipeline, stats } = statsEngine({ localNets, topN: 1e9 }, {}, records);
  const engine = pipeline.engine;
  const seconds: StatsSecond[] = [];
  const packetsInSecond: number[] = [];
  let inThisSecond = 0;
  // Every whole second that ended before the next packet is rolled, empty ones too, as the agent's timer would.
  const second = await feedBySecond(
    bytes,
    pipeline,
    (s) => {
      seconds.push(stats.roll(s, EXTRA));
      packetsInSecond.push(inThisSecond);
      inThisSecond = 0;
    },
    () => inThisSecond++,
  );
  pipeline.finish();
  seconds.push(stats.roll(second + 1, EXTRA));
  packetsInSecond.push(inThisSecond);
  return { engine, seconds, packetsInSecond, records };
}

function sum(seconds: StatsSecond[], pick: (s: StatsSecond) => number): number {
  return seconds.reduce((acc, s) => acc + pick(s), 0);
}

function addAll(target: Record<string, number>, source: Record<string, number>): void {
  for (const [k, v] of Object.entries(source)) target[k] = (target[k] ?? 0) + v;
}

test('a generated capture second by second adds up to the engine, the ground truth and the conn records', async () => {
  const { bytes, truth } = await generatedCapture({ seed: 11, packets: 6000, durationSeconds: 12, incidents: ['nxdomain_burst'] });
  const clientNet = (h: string) => h.startsWith('192.168.10.');
  const { engine, seconds, packetsInSecond, records } = await runBySecond(bytes, ['192.168.10.0/24']);
  assert.ok(seconds.length >= 12, `only ${seconds.length} seconds`);

  // Totals: per second exactly the packets whose time falls in it; all of them together, the whole file.
  assert.deepEqual(seconds.map((s) => s.packets), packetsInSecond);
  assert.equal(sum(seconds, (s) => s.packets), truth.packets);
  assert.equal(sum(seconds, (s) => s.bytes), truth.bytes);
  assert.equal(engine.packets, truth.packets);

  // Flows: every one opened is closed by the end, and the table is empty.
  assert.equal(sum(seconds, (s) => s.flows_opened), engine.connections.flowsCreated);
  assert.equal(sum(seconds, (s) => s.flows_closed), engine.connections.flowsCreated);
  assert.equal(seconds.at(-1)!.flows_active, 0);
  assert.ok(engine.connections.flowsCreated > 100);

  // In/out and hosts, against the conn records (each a flow's packets and IP bytes, both ways).
  const conns = records.filter((r): r is ConnRecord => r.type === 'conn');
  let bytesIn = 0;
  let bytesOut = 0;
  let packetsIn = 0;
  const hostBytes: Record<string, number> = {};
  for (const c of conns) {
    const o = c['id.orig_h'];
    const r = c['id.resp_h'];
    // Local to local counts once, as the responder sees it: the originator's bytes in, the answers out.
    const inside = clientNet(o) && clientNet(r);
    if (clientNet(r)) (bytesIn += c.orig_ip_bytes), (packetsIn += c.orig_pkts);
    if (clientNet(o) && !inside) (bytesIn += c.resp_ip_bytes), (packetsIn += c.resp_pkts);
    if (clientNet(o) && !inside) bytesOut += c.orig_ip_bytes;
    if (clientNet(r)) bytesOut += c.resp_ip_bytes;
    addAll(hostBytes, { [o]: c.orig_ip_bytes + c.resp_ip_bytes });
    if (r !== o) addAll(hostBytes, { [r]: c.orig_ip_bytes + c.resp_ip_bytes });
  }
  assert.equal(sum(seconds, (s) => s.bytes_in), bytesIn);
  assert.equal(sum(seconds, (s) => s.bytes_out), bytesOut);
  assert.equal(sum(seconds, (s) => s.packets_in), packetsIn);
  assert.ok(bytesIn > 0 && bytesOut > 0);
  const talkerBytes: Record<string, number> = {};
  for (const s of seconds) for (const t of s.top_talkers) addAll(talkerBytes, { [t.host]: t.bytes });
  assert.deepEqual(talkerBytes, hostBytes);
  for (const s of seconds) for (const t of s.top_talkers) assert.equal(t.local, clientNet(t.host), t.host);

  // Protocols and weirds: the per-second shares add up to the engine's summary.
  const protocols: Record<string, number> = {};
  const weirds: Record<string, number> = {};
  for (const s of seconds) addAll(protocols, s.protocols), addAll(weirds, s.weirds);
  const summary = engine.summary();
  assert.deepEqual(protocols, summary.protocols);
  assert.deepEqual(weirds, summary.weirds);

  // DNS: one per dns record, rcodes as the generator wrote them.
  const dnsRecords = records.filter((r): r is DnsRecord => r.type === 'dns');
  assert.equal(sum(seconds, (s) => s.dns.queries), dnsRecords.length);
  assert.equal(sum(seconds, (s) => s.dns.answers), truth.dns.responses);
  const rcodes: Record<string, number> = {};
  for (const s of seconds) addAll(rcodes, s.dns.rcodes);
  assert.deepEqual(rcodes, truth.dns.rcodes);
  assert.ok((rcodes.NXDOMAIN ?? 0) > 0, 'the nxdomain burst shows');
});

test('with every address local, each packet counts once: in + out are all IP bytes and packets of the flows', async () => {
  const { bytes, truth } = await generatedCapture({ seed: 12, packets: 3000, durationSeconds: 5 });
  const { seconds, records } = await runBySecond(bytes, ['0.0.0.0/0', '::/0']);
  // Every generated IP packet is TCP, UDP or ICMP, so every one belongs to a flow.
  assert.equal(truth.tcpPackets + truth.udpPackets + truth.icmpPackets, truth.ipv4Packets + truth.ipv6Packets);
  assert.equal(sum(seconds, (s) => s.bytes_in + s.bytes_out), truth.ipBytes);
  assert.equal(sum(seconds, (s) => s.packets_in + s.packets_out), truth.ipv4Packets + truth.ipv6Packets);
  // In is what originators sent (their responders, the services, received it), out the answers.
  const conns = records.filter((r): r is ConnRecord => r.type === 'conn');
  assert.equal(sum(seconds, (s) => s.bytes_in), conns.reduce((n, c) => n + c.orig_ip_bytes, 0));
  assert.equal(sum(seconds, (s) => s.bytes_out), conns.reduce((n, c) => n + c.resp_ip_bytes, 0));
});
