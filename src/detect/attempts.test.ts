/**
 * Connection attempt outcomes from hand-built packet sequences (test-support/frames.ts, checked against tshark)
 * through the real engine: each sequence is what nmap/hping3/a client puts on the wire.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { ACK, FIN, PSH, RST, SYN, URG, icmpEcho, tcp4, udp4, type Frame } from '../test-support/frames.js';
import { runFrames } from './testing/frames.js';
import { detectorConfig } from './detector-config.js';
import { hostText } from './addresses.js';
import { Outcome, type DetectorRegistration } from './types.js';

const NAMES: Record<number, string> = { [Outcome.Rejected]: 'rejected', [Outcome.Unanswered]: 'unanswered', [Outcome.HalfOpen]: 'half-open', [Outcome.Empty]: 'empty', [Outcome.Ok]: 'ok' };

/** A detector that only writes down the attempts it is given. */
function recorder(seen: string[]): DetectorRegistration {
  return {
    name: 'recorder',
    title: 'test',
    config: detectorConfig({}) as unknown as z.ZodType<never>,
    create: () => ({
      name: 'recorder',
      onAttempt: (a) => seen.push(`${hostText(a.origKey)}>${hostText(a.respKey)}:${a.respPort} ${NAMES[a.outcome]} @${a.ts - a.start >= 0 ? 'ok' : 'bad'}${a.handshake ? '' : ' no-syn'}`),
    }),
  };
}

async function outcomes(frames: Frame[]): Promise<string[]> {
  const seen: string[] = [];
  await runFrames(frames, {}, { registrations: [recorder(seen)] });
  return seen;
}

const C = '10.0.0.5';
const S = '10.0.0.9';

test('SYN answered by RST-ACK: rejected (a closed port; Zeek REJ)', async () => {
  assert.deepEqual(await outcomes([
    { ts: 10, bytes: tcp4(C, S, 40000, 81, SYN, 1000, 0) },
    { ts: 10.0002, bytes: tcp4(S, C, 81, 40000, RST | ACK, 0, 1001) },
  ]), [`${C}>${S}:81 rejected @ok`]);
});

test('SYN, SYN-ACK, then the scanner resets: half-open (nmap -sS on an open port; Zeek RSTO)', async () => {
  assert.deepEqual(await outcomes([
    { ts: 10, bytes: tcp4(C, S, 40000, 22, SYN, 1000, 0) },
    { ts: 10.0002, bytes: tcp4(S, C, 22, 40000, SYN | ACK, 5000, 1001) },
    { ts: 10.0003, bytes: tcp4(C, S, 40000, 22, RST, 1001, 0) },
  ]), [`${C}>${S}:22 half-open @ok`]);
});

test('SYN never answered: unanswered (a filtered port or no host; Zeek S0)', async () => {
  assert.deepEqual(await outcomes([{ ts: 10, bytes: tcp4(C, S, 40000, 23, SYN, 1000, 0) }]), [`${C}>${S}:23 unanswered @ok`]);
});

test('handshake completed then reset with no data: empty (nmap -sT)', async () => {
  assert.deepEqual(await outcomes([
    { ts: 10, bytes: tcp4(C, S, 40000, 80, SYN, 1000, 0) },
    { ts: 10.0002, bytes: tcp4(S, C, 80, 40000, SYN | ACK, 5000, 1001) },
    { ts: 10.0003, bytes: tcp4(C, S, 40000, 80, ACK, 1001, 5001) },
    { ts: 10.0004, bytes: tcp4(C, S, 40000, 80, RST | ACK, 1001, 5001) },
  ]), [`${C}>${S}:80 empty @ok`]);
});

test('a real conversation: ok, known as soon as data flows', async () => {
  assert.deepEqual(await outcomes([
    { ts: 10, bytes: tcp4(C, S, 40000, 443, SYN, 1000, 0) },
    { ts: 10.0002, bytes: tcp4(S, C, 443, 40000, SYN | ACK, 5000, 1001) },
    { ts: 10.0003, bytes: tcp4(C, S, 40000, 443, ACK, 1001, 5001) },
    { ts: 10.0004, bytes: tcp4(C, S, 40000, 443, PSH | ACK, 1001, 5001, 100) },
    { ts: 10.01, bytes: tcp4(S, C, 443, 40000, FIN | ACK, 5001, 1101) },
    { ts: 10.02, bytes: tcp4(C, S, 40000, 443, FIN | ACK, 1101, 5002) },
  ]), [`${C}>${S}:443 ok @ok`]);
});

test('flows that did not begin with a bare SYN are not attempts (mid-stream, SYN-ACK first)', async () => {
  assert.deepEqual(await outcomes([
    { ts: 10, bytes: tcp4(C, S, 40000, 443, ACK, 1001, 5001) },
    { ts: 10.1, bytes: tcp4(S, C, 8080, 40001, SYN | ACK, 5000, 1001) },
  ]), []);
});

test('SYNs carrying data (hping3 -S -d): refused, unanswered or left half-open are probes; data after a handshake is a conversation', async () => {
  const got = await outcomes([
    { ts: 10, bytes: tcp4(C, S, 40000, 81, SYN, 1000, 0, 200) },
    { ts: 10.0002, bytes: tcp4(S, C, 81, 40000, RST | ACK, 0, 1201) },
    { ts: 10, bytes: tcp4(C, S, 40001, 80, SYN, 1000, 0, 200) },
    { ts: 10, bytes: tcp4(C, S, 40002, 22, SYN, 1000, 0, 200) },
    { ts: 10.0002, bytes: tcp4(S, C, 22, 40002, SYN | ACK, 5000, 1001) },
    { ts: 10.0003, bytes: tcp4(C, S, 40002, 22, RST, 1001, 0) },
    // A real client: its request, then the server resets the connection, all within the first second.
    { ts: 10, bytes: tcp4(C, S, 40003, 443, SYN, 1000, 0) },
    { ts: 10.0002, bytes: tcp4(S, C, 443, 40003, SYN | ACK, 5000, 1001) },
    { ts: 10.0003, bytes: tcp4(C, S, 40003, 443, PSH | ACK, 1001, 5001, 100) },
    { ts: 10.0004, bytes: tcp4(S, C, 443, 40003, RST, 5001, 0) },
    // Seen one way only (a tap of one direction): a SYN, then the request.
    { ts: 10, bytes: tcp4(C, S, 40004, 8080, SYN, 1000, 0) },
    { ts: 10.0003, bytes: tcp4(C, S, 40004, 8080, PSH | ACK, 1001, 5001, 100) },
    // A FIN probe carrying data is still a probe.
    { ts: 10, bytes: tcp4(C, S, 40005, 82, FIN, 1000, 0, 50) },
    { ts: 10.0002, bytes: tcp4(S, C, 82, 40005, RST | ACK, 0, 1051) },
  ].sort((a, b) => a.ts - b.ts));
  assert.deepEqual(got.sort(), [
    `${C}>${S}:22 half-open @ok`,
    `${C}>${S}:443 ok @ok`,
    `${C}>${S}:80 unanswered @ok`,
    `${C}>${S}:8080 ok @ok`,
    `${C}>${S}:81 rejected @ok`,
    `${C}>${S}:82 rejected @ok no-syn`,
  ]);
});

test('FIN, NULL and Xmas probes (nmap -sF, -sN, -sX): a reset is rejected, silence unanswered; neither asked for a connection', async () => {
  const got = await outcomes([
    { ts: 10, bytes: tcp4(C, S, 40000, 81, FIN, 1000, 0) },
    { ts: 10.0002, bytes: tcp4(S, C, 81, 40000, RST | ACK, 0, 1001) },
    { ts: 10, bytes: tcp4(C, S, 40000, 82, 0, 1000, 0) },
    { ts: 10.0002, bytes: tcp4(S, C, 82, 40000, RST | ACK, 0, 1000) },
    { ts: 10, bytes: tcp4(C, S, 40000, 83, FIN | PSH | URG, 1000, 0) },
    { ts: 10, bytes: tcp4(C, S, 40000, 84, FIN, 1000, 0) },
  ].sort((a, b) => a.ts - b.ts));
  assert.deepEqual(got.sort(), [
    `${C}>${S}:81 rejected @ok no-syn`,
    `${C}>${S}:82 rejected @ok no-syn`,
    `${C}>${S}:83 unanswered @ok no-syn`,
    `${C}>${S}:84 unanswered @ok no-syn`,
  ]);
});

test('bare ACK probes (nmap -sA, -sW): only a lone reset in answer makes one a probe; a FIN-ACK first never does', async () => {
  const got = await outcomes([
    // The ACK scan's probe, answered by a reset.
    { ts: 10, bytes: tcp4(C, S, 40000, 81, ACK, 1000, 7) },
    { ts: 10.0002, bytes: tcp4(S, C, 81, 40000, RST, 7, 0) },
    // A teardown joined late (or nmap -sM): the peer had forgotten the connection.
    { ts: 10, bytes: tcp4(C, S, 40000, 82, FIN | ACK, 1000, 7) },
    { ts: 10.0002, bytes: tcp4(S, C, 82, 40000, RST, 7, 0) },
    // Joined mid-way: the other side answers with an ACK, or data, or not at all (a one-way tap).
    { ts: 10, bytes: tcp4(C, S, 40000, 443, ACK, 1000, 5000) },
    { ts: 10.0002, bytes: tcp4(S, C, 443, 40000, ACK, 5000, 1000) },
    { ts: 10, bytes: tcp4(C, S, 40000, 8443, ACK, 1000, 5000) },
    { ts: 10.0002, bytes: tcp4(S, C, 8443, 40000, PSH | ACK, 5000, 1000, 200) },
    { ts: 10, bytes: tcp4(C, S, 40000, 993, ACK, 1000, 5000) },
    // A data segment first is a conversation joined mid-way, even if it is then reset.
    { ts: 10, bytes: tcp4(C, S, 40000, 995, PSH | ACK, 1000, 5000, 100) },
    { ts: 10.0002, bytes: tcp4(S, C, 995, 40000, RST, 5000, 0) },
  ].sort((a, b) => a.ts - b.ts));
  assert.deepEqual(got.sort(), [`${C}>${S}:81 rejected @ok no-syn`]);
});

test('UDP and ICMP echo: answered is ok, silence is unanswered; multicast and broadcast are ignored', async () => {
  const got = await outcomes([
    { ts: 10, bytes: udp4(C, S, 40000, 53, 4) },
    { ts: 10.001, bytes: udp4(S, C, 53, 40000, 4) },
    { ts: 10, bytes: udp4(C, S, 40001, 161, 4) },
    { ts: 10, bytes: icmpEcho(C, S, 8, 1, 1) },
    { ts: 10.001, bytes: icmpEcho(S, C, 0, 1, 1) },
    { ts: 10, bytes: icmpEcho(C, '10.0.0.10', 8, 2, 1) },
    { ts: 10, bytes: udp4(C, '224.0.0.251', 5353, 5353, 4) },
    { ts: 10, bytes: udp4(C, '10.0.0.255', 137, 137, 4) },
  ]);
  assert.deepEqual(got.sort(), [`${C}>${S}:0 ok @ok`, `${C}>${S}:161 unanswered @ok`, `${C}>${S}:53 ok @ok`, `${C}>10.0.0.10:0 unanswered @ok`].sort());
});

test('a live flow is judged after the grace time, before its flow ends', async () => {
  // The SYN at t=10 is unanswered; traffic goes on until t=13; the flow itself lasts (TCP idle is 300 s).
  const frames: Frame[] = [{ ts: 10, bytes: tcp4(C, S, 40000, 23, SYN, 1000, 0) }];
  for (let t = 10.5; t <= 13; t += 0.5) frames.push({ ts: t, bytes: udp4('10.0.0.7', '10.0.0.8', 5000, 6000, 4) });
  const seen: Array<{ ts: number; start: number }> = [];
  const reg: DetectorRegistration = {
    name: 'recorder',
    title: 'test',
    config: detectorConfig({}) as unknown as z.ZodType<never>,
    create: () => ({ name: 'recorder', onAttempt: (a) => a.respPort === 23 && seen.push({ ts: a.ts, start: a.start }) }),
  };
  await runFrames(frames, {}, { registrations: [reg] });
  assert.equal(seen.length, 1);
  assert.equal(seen[0].start, 10);
  assert.ok(seen[0].ts >= 11 && seen[0].ts <= 12, `judged at ${seen[0].ts}, within a second after the 1 s grace`);
});

test('an attempt waiting for its answer follows its flow when a compaction moves it to another slot', async () => {
  const { Connections, DEFAULT_TIMEOUTS } = await import('../analyze/flows/connections.js');
  const { AttemptTracker } = await import('./attempts.js');
  const { Packet, IPPROTO_UDP } = await import('../decode/packet.js');
  const T = 1_700_000_000;
  const reported: string[] = [];
  let attempts: InstanceType<typeof AttemptTracker> | undefined;
  const conns = new Connections(40_000, DEFAULT_TIMEOUTS, (flow) => attempts!.onFlowEnd(flow, T + 0.5));
  attempts = new AttemptTracker(conns, (a) => reported.push(`${a.origPort} ${NAMES[a.outcome]}`));
  const pkt = new Packet();
  const datagram = (from: number, to: number, sport: number, dport: number, ts: number) => {
    pkt.ipVersion = 4;
    pkt.transport = IPPROTO_UDP;
    pkt.src.fill(0);
    pkt.dst.fill(0);
    pkt.src[0] = from;
    pkt.dst[0] = to;
    pkt.srcPort = sport;
    pkt.dstPort = dport;
    pkt.ts = ts;
    return conns.update(pkt);
  };
  const client = (i: number) => 0x0a000000 + i;
  const server = 0x0a0100fe;
  const flows: number[] = [];
  for (let i = 0; i < 20_000; i++) {
    const flow = datagram(client(i), server, 20_000 + i, 123, T) >>> 2;
    attempts.onFlowStart(flow, pkt);
    flows.push(flow);
  }
  // All but the ten highest end at once (unanswered, at their end); the ten wait for their answer.
  for (let i = 0; i < 19_990; i++) conns.end(flows[i], 'idle');
  reported.length = 0;
  const moved: number[] = [];
  conns.table.onMove((m) => moved.push(...m.to.subarray(0, m.count)));
  assert.ok(conns.table.releaseSparse(() => 0, () => true) === 0);
  assert.equal(moved.length, 10, 'the ten moved to the bottom');
  for (let i = 19_990; i < 20_000; i++) datagram(server, client(i), 123, 20_000 + i, T + 0.5);
  attempts.second(T + 1);
  assert.deepEqual(reported.sort(), Array.from({ length: 10 }, (_, k) => `${39_990 + k} ok`), 'each answered attempt is judged in the second it was answered, at its new slot');
});
