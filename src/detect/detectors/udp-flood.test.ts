/** UDP flood and the volume detector from hand-built frames through the engine's flow deltas and pair tallies. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ACK, RST, SYN, icmpPortUnreachable, tcp4, udp4, type Frame } from '../../test-support/frames.js';
import { runFrames } from '../testing/frames.js';
import { tcpTransfer } from '../testing/tcp-transfer.js';

const SENDER = '10.0.0.66';
const VICTIM = '10.0.0.9';

/** `n` UDP packets from SENDER to VICTIM:9, a new source port each (as hping3 --udp), `gap` s apart, each refused. */
function udpFlood(n: number, t0: number, gap: number, refused = true): Frame[] {
  return Array.from({ length: n }, (_, i) => {
    const bytes = udp4(SENDER, VICTIM, 1024 + (i % 60000), 9, 0);
    const out = [{ ts: t0 + i * gap, bytes }];
    if (refused) out.push({ ts: t0 + i * gap + gap / 2, bytes: icmpPortUnreachable(VICTIM, SENDER, bytes) });
    return out;
  }).flat();
}

test('20,000 refused UDP packets in 2 s: one udp_flood naming the sender, raised within the first second or two', async () => {
  const { alerts } = await runFrames(udpFlood(20_000, 1000.2, 0.0001));
  const open = alerts.filter((a) => a.state === 'open');
  assert.deepEqual(open.map((a) => [a.detector, a.src, a.dst]), [['udp_flood', SENDER, VICTIM]]);
  assert.ok(open[0].ts - 1000.2 <= 2, `raised ${open[0].ts - 1000.2} s after the first packet`);
  const closed = alerts.at(-1)!;
  assert.equal(closed.state, 'closed');
  assert.equal(closed.evidence.counters.packets, 20_000);
  assert.equal(closed.evidence.counters.answered_packets, 0, 'port unreachables are refusals, not answers');
  // 20,000 packets of 28 IP bytes over 2 s, measured from the first packet to the last.
  assert.equal(closed.message, '10.0.0.66 sent 20000 UDP packets (560 kB) to 10.0.0.9 in 2 s (10001/s, 280 kB/s) over 20000 flows; 0 answered');
});

test('answered UDP at the same rate (a DNS or QUIC exchange), and one-way UDP at syslog rates, raise nothing', async () => {
  const asked = Array.from({ length: 20_000 }, (_, i) => [
    { ts: 1000 + i * 0.0001, bytes: udp4('10.0.0.5', VICTIM, 5353, 443, 1200) },
    { ts: 1000 + i * 0.0001 + 0.00005, bytes: udp4(VICTIM, '10.0.0.5', 443, 5353, 40) },
  ]).flat();
  const syslog = Array.from({ length: 4000 }, (_, i) => ({ ts: 1000 + i * 0.001, bytes: udp4('10.0.0.7', VICTIM, 514, 514, 200) }));
  const { alerts } = await runFrames([...asked, ...syslog].sort((a, b) => a.ts - b.ts));
  assert.deepEqual(alerts, []);
});

test('a TCP transfer of 60,000 segments in 3 s (87 MB, 29 MB/s, ACKed) raises nothing', async () => {
  const { alerts } = await runFrames(tcpTransfer('10.0.0.5', VICTIM, 60_000, 1000, 0.000025));
  assert.deepEqual(alerts, []);
});

test('an ACK flood (TCP without a handshake) with no answer: one volume alert naming the sender', async () => {
  const frames = Array.from({ length: 40_000 }, (_, i) => ({ ts: 1000.5 + i * 0.00005, bytes: tcp4(SENDER, VICTIM, 1024 + (i % 50000), 80, ACK, i, i) }));
  const { alerts } = await runFrames(frames);
  const open = alerts.filter((a) => a.state === 'open');
  assert.deepEqual(open.map((a) => [a.detector, a.src, a.dst]), [['volume', SENDER, VICTIM]]);
  assert.ok(open[0].ts - 1000.5 <= 2);
  assert.equal(alerts.at(-1)!.evidence.counters.packets, 40_000);
});

test('an RST flood (hping3 -R --flood): one volume alert naming the sender; the resets that refuse a SYN flood are not one', async () => {
  const rsts = Array.from({ length: 40_000 }, (_, i) => ({ ts: 1000.5 + i * 0.00005, bytes: tcp4(SENDER, VICTIM, 1024 + (i % 50000), 80, RST, i, 0) }));
  const open = (await runFrames(rsts)).alerts.filter((a) => a.state === 'open');
  assert.deepEqual(open.map((a) => [a.detector, a.src, a.dst]), [['volume', SENDER, VICTIM]]);
  // The victim of a SYN flood refuses every SYN: its 40,000 resets answer, they flood no one.
  const refused = Array.from({ length: 40_000 }, (_, i) => [
    { ts: 1000.5 + i * 0.00005, bytes: tcp4(SENDER, VICTIM, 1024 + (i % 50000), 81, SYN, i, 0) },
    { ts: 1000.5 + i * 0.00005 + 0.00002, bytes: tcp4(VICTIM, SENDER, 81, 1024 + (i % 50000), RST | ACK, 0, i + 1) },
  ]).flat();
  const raised = (await runFrames(refused)).alerts.filter((a) => a.state === 'open');
  assert.deepEqual(raised.map((a) => [a.detector, a.src, a.dst]), [['syn_flood', SENDER, VICTIM]]);
});

test('an allow-listed receiver is not counted', async () => {
  const { alerts } = await runFrames(udpFlood(20_000, 1000, 0.0001, false), { detectors: { udp_flood: { allowTargets: [VICTIM] } } });
  assert.deepEqual(alerts, []);
});
