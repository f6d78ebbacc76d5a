/**
 * TCP state, history, retransmissions and timeouts from hand-built packet sequences, checked against what
 * Zeek writes for the same exchange (conn_state and history letters as in Zeek's conn.log documentation).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IPPROTO_TCP, IPPROTO_UDP, Packet, TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN } from '../../decode/packet.js';
import type { ConnRecord } from '../records.js';
import { connRecordOf } from './conn-record.js';
import { Connections, DEFAULT_TIMEOUTS, updatedFlow, type FlowEndReason } from './connections.js';

const CLIENT = 0x0a000001; // 10.0.0.1
const SERVER = 0x0a000002; // 10.0.0.2

interface Seg {
  from: 'c' | 's';
  flags: number;
  seq: number;
  len?: number;
  t?: number;
  window?: number;
}

function harness(maxFlows = 64) {
  const ended: Array<{ record: ConnRecord; reason: FlowEndReason }> = [];
  const conns: Connections = new Connections(maxFlows, DEFAULT_TIMEOUTS, (flow, reason) => ended.push({ record: connRecordOf(conns, flow, undefined), reason }));
  const pkt = new Packet();
  let clock = 1000;
  const send = (s: Seg, proto = IPPROTO_TCP, clientPort = 40000) => {
    clock = s.t ?? clock + 0.01;
    pkt.ts = clock;
    pkt.ipVersion = 4;
    pkt.vlan = 0;
    pkt.innerVlan = 0;
    pkt.transport = proto;
    pkt.src[0] = s.from === 'c' ? CLIENT : SERVER;
    pkt.dst[0] = s.from === 'c' ? SERVER : CLIENT;
    pkt.srcPort = s.from === 'c' ? clientPort : 80;
    pkt.dstPort = s.from === 'c' ? 80 : clientPort;
    pkt.tcpFlags = s.flags;
    pkt.seq = s.seq >>> 0;
    pkt.window = s.window ?? 1000;
    pkt.payloadWireLength = s.len ?? 0;
    pkt.payloadLength = s.len ?? 0;
    pkt.ipLength = 40 + (s.len ?? 0);
    return conns.update(pkt);
  };
  const finish = () => {
    conns.finishAll();
    return ended.map((e) => e.record);
  };
  return { conns, send, finish, ended };
}

const S = TCP_SYN;
const SA = TCP_SYN | TCP_ACK;
const A = TCP_ACK;
const FA = TCP_FIN | TCP_ACK;
const R = TCP_RST;
const RA = TCP_RST | TCP_ACK;

test('a full exchange: SF, history ShADdFf, handshake RTT, bytes from sequence numbers', () => {
  const h = harness();
  h.send({ from: 'c', flags: S, seq: 100, t: 10 });
  h.send({ from: 's', flags: SA, seq: 5000, t: 10.02 });
  h.send({ from: 'c', flags: A, seq: 101, t: 10.05 });
  h.send({ from: 'c', flags: A, seq: 101, len: 20 });
  h.send({ from: 's', flags: A, seq: 5001, len: 300 });
  h.send({ from: 'c', flags: FA, seq: 121 });
  h.send({ from: 's', flags: FA, seq: 5301 });
  h.send({ from: 'c', flags: A, seq: 122 });
  const [c] = h.finish();
  assert.equal(c.conn_state, 'SF');
  assert.equal(c.history, 'ShADdFf'); // the server never sent a pure ACK: no 'a'
  assert.equal(c.rtt, 0.05);
  assert.equal(c.orig_bytes, 20);
  assert.equal(c.resp_bytes, 300);
  assert.equal(c.orig_pkts, 5);
  assert.equal(c.resp_pkts, 3);
  assert.equal(c['id.orig_h'], '10.0.0.1');
  assert.equal(c['id.resp_p'], 80);
});

test('conn_state for the classic cases', () => {
  const cases: Array<[string, Seg[], string, string]> = [
    ['no answer', [{ from: 'c', flags: S, seq: 1 }], 'S0', 'S'],
    ['rejected', [{ from: 'c', flags: S, seq: 1 }, { from: 's', flags: RA, seq: 0 }], 'REJ', 'Sr'],
    ['established, still open', [{ from: 'c', flags: S, seq: 1 }, { from: 's', flags: SA, seq: 9 }, { from: 'c', flags: A, seq: 2 }], 'S1', 'ShA'],
    ['originator aborts', [{ from: 'c', flags: S, seq: 1 }, { from: 's', flags: SA, seq: 9 }, { from: 'c', flags: A, seq: 2 }, { from: 'c', flags: R, seq: 2 }], 'RSTO', 'ShAR'],
    ['responder aborts', [{ from: 'c', flags: S, seq: 1 }, { from: 's', flags: SA, seq: 9 }, { from: 'c', flags: A, seq: 2 }, { from: 's', flags: R, seq: 10 }], 'RSTR', 'ShAr'],
    ['SYN then RST from the originator', [{ from: 'c', flags: S, seq: 1 }, { from: 'c', flags: R, seq: 2 }], 'RSTOS0', 'SR'],
    ['half-closed by the originator, no answer', [{ from: 'c', flags: S, seq: 1 }, { from: 'c', flags: FA, seq: 2 }], 'SH', 'SF'],
    ['midstream, no SYN seen', [{ from: 'c', flags: A, seq: 7, len: 10 }, { from: 's', flags: A, seq: 70, len: 10 }], 'OTH', 'Dd'],
  ];
  for (const [name, segs, state, history] of cases) {
    const h = harness();
    for (const s of segs) h.send(s);
    const [c] = h.finish();
    assert.equal(c.conn_state, state, name);
    assert.equal(c.history, history, name);
  }
});

test('a flow first seen at its SYN-ACK is flipped: the SYN-ACK receiver is the originator', () => {
  const h = harness();
  h.send({ from: 's', flags: SA, seq: 9 });
  h.send({ from: 'c', flags: A, seq: 2 });
  const [c] = h.finish();
  assert.equal(c['id.orig_h'], '10.0.0.1');
  assert.equal(c['id.orig_p'], 40000);
  assert.equal(c.history, '^hA');
});

test('retransmissions and out-of-order segments are told apart, across the 2^32 wrap', () => {
  const h = harness();
  const isn = 0xffffff00;
  h.send({ from: 'c', flags: S, seq: isn });
  h.send({ from: 's', flags: SA, seq: 1 });
  h.send({ from: 'c', flags: A, seq: isn + 1, len: 100 }); // ends at 0xffffff65
  h.send({ from: 'c', flags: A, seq: isn + 1 + 100 + 200, len: 100 }); // a gap of 200 bytes, past the wrap
  h.send({ from: 'c', flags: A, seq: isn + 1 + 100, len: 200 }); // fills the gap: out of order
  h.send({ from: 'c', flags: A, seq: isn + 1 + 100, len: 200 }); // again: a retransmission
  h.send({ from: 'c', flags: A, seq: isn + 1, len: 100 }); // and an old one
  const [c] = h.finish();
  assert.equal(c.orig_ooo, 1);
  assert.equal(c.orig_retrans, 2);
  assert.equal(c.orig_bytes, 400);
  assert.equal(c.history, 'ShDT');
});

test('a keep-alive (one byte below the next sequence number) is no retransmission', () => {
  const h = harness();
  h.send({ from: 'c', flags: S, seq: 10 });
  h.send({ from: 's', flags: SA, seq: 90 });
  h.send({ from: 'c', flags: A, seq: 11, len: 5 });
  h.send({ from: 'c', flags: A, seq: 15, len: 1 });
  const [c] = h.finish();
  assert.equal(c.orig_retrans, 0);
});

test('a new SYN on a closed 4-tuple starts a new connection; an idle flow times out', () => {
  const h = harness();
  h.send({ from: 'c', flags: S, seq: 1, t: 100 });
  h.send({ from: 's', flags: RA, seq: 0, t: 100.1 });
  h.send({ from: 'c', flags: S, seq: 500, t: 101 });
  assert.equal(h.ended.length, 1);
  assert.equal(h.ended[0].reason, 'reused');
  assert.equal(h.ended[0].record.conn_state, 'REJ');
  h.conns.sweep(101 + DEFAULT_TIMEOUTS.tcpIdle + 1);
  assert.equal(h.ended.length, 2);
  assert.equal(h.ended[1].reason, 'idle');
  assert.equal(h.ended[1].record.conn_state, 'S0');
});

test('UDP: SF when both sides spoke, S0 when only the originator did; history Dd / D as Zeek writes it', () => {
  const h = harness();
  h.send({ from: 'c', flags: 0, seq: 0, len: 30 }, IPPROTO_UDP, 5353);
  h.send({ from: 's', flags: 0, seq: 0, len: 90 }, IPPROTO_UDP, 5353);
  h.send({ from: 'c', flags: 0, seq: 0, len: 30 }, IPPROTO_UDP, 5354);
  const records = h.finish();
  assert.deepEqual(records.map((r) => [r.proto, r.conn_state, r.orig_bytes, r.resp_bytes, r.history]), [['udp', 'SF', 30, 90, 'Dd'], ['udp', 'S0', 30, 0, 'D']]);
});

test('a full table evicts the least recently active flow and counts it', () => {
  const h = harness(4);
  for (let port = 1; port <= 5; port++) h.send({ from: 'c', flags: S, seq: 1, t: 200 + port }, IPPROTO_TCP, port);
  assert.equal(h.conns.flowsEvicted, 1);
  assert.equal(h.ended[0].reason, 'evicted');
  assert.equal(h.ended[0].record['id.orig_p'], 1);
  assert.equal(h.conns.table.count, 4);
});

test('each flow ends at its own limit: closed TCP after 5 s, UDP after 60 s, open TCP after 300 s; an active one is cut at 1 h', () => {
  const h = harness();
  const T = DEFAULT_TIMEOUTS;
  h.send({ from: 'c', flags: S, seq: 1, t: 1000 }, IPPROTO_TCP, 40001);
  h.send({ from: 's', flags: SA, seq: 9, t: 1000 }, IPPROTO_TCP, 40001); // open TCP (answered), last packet at 1000
  h.send({ from: 'c', flags: 0, seq: 0, len: 10, t: 1000 }, IPPROTO_UDP, 40002); // UDP, last packet at 1000
  h.send({ from: 'c', flags: S, seq: 1, t: 1000 }, IPPROTO_TCP, 40003);
  h.send({ from: 's', flags: RA, seq: 0, t: 1000 }, IPPROTO_TCP, 40003); // reset: closed, lingers
  const endedPorts = () => h.ended.map((e) => [e.record['id.orig_p'], e.reason]);
  h.conns.sweep(1000 + T.closedLinger); // exactly at the limit: not yet
  assert.deepEqual(endedPorts(), []);
  h.conns.sweep(1000 + T.closedLinger + 0.001);
  assert.deepEqual(endedPorts(), [[40003, 'closed']]);
  h.conns.sweep(1000 + T.udpIdle);
  assert.equal(h.ended.length, 1);
  h.conns.sweep(1000 + T.udpIdle + 0.001);
  assert.deepEqual(endedPorts(), [[40003, 'closed'], [40002, 'idle']]);
  h.conns.sweep(1000 + T.tcpIdle + 0.001);
  assert.deepEqual(endedPorts().at(-1), [40001, 'idle']);

  // A UDP flow busy every 30 s for over an hour: reported at the active timeout, and goes on.
  for (let t = 2000; t <= 2000 + T.active + 60; t += 30) {
    h.send({ from: 'c', flags: 0, seq: 0, len: 10, t }, IPPROTO_UDP, 40004);
    h.conns.sweep(t + 1);
  }
  const active = h.ended.filter((e) => e.record['id.orig_p'] === 40004);
  assert.deepEqual(active.map((e) => e.reason), ['active']);
  assert.equal(active[0].record.orig_pkts, T.active / 30 + 1);
});

test("an unanswered SYN ends 5 s after the first, retransmissions or not (Zeek's tcp_attempt_delay); an answered one does not", () => {
  const h = harness();
  const T = DEFAULT_TIMEOUTS;
  for (const dt of [0, 1, 3]) h.send({ from: 'c', flags: S, seq: 1, t: 1000 + dt }, IPPROTO_TCP, 40020); // a client retrying
  h.send({ from: 'c', flags: S, seq: 1, t: 1000 }, IPPROTO_TCP, 40021);
  h.send({ from: 's', flags: SA, seq: 9, t: 1000.5 }, IPPROTO_TCP, 40021); // answered: TCP's 5 minutes
  h.send({ from: 'c', flags: A, seq: 2, t: 1000.5 }, IPPROTO_TCP, 40021);
  h.send({ from: 'c', flags: S, seq: 1, t: 1000 }, IPPROTO_TCP, 40022);
  h.send({ from: 's', flags: RA, seq: 0, t: 1000.5 }, IPPROTO_TCP, 40022); // refused: the close linger
  const endedPorts = () => h.ended.map((e) => [e.record['id.orig_p'], e.reason, e.record.conn_state, e.record.orig_pkts]);
  h.conns.sweep(1000 + T.attempt); // exactly at the limit: not yet
  assert.deepEqual(endedPorts(), []);
  h.conns.sweep(1000 + T.attempt + 0.001);
  assert.deepEqual(endedPorts(), [[40020, 'idle', 'S0', 3]]);
  h.conns.sweep(1000.5 + T.closedLinger + 0.001);
  assert.deepEqual(endedPorts().at(-1), [40022, 'closed', 'REJ', 1]);
  h.conns.sweep(1000 + T.tcpIdle);
  assert.equal(h.ended.length, 2);
  h.conns.sweep(1000.5 + T.tcpIdle + 0.001);
  assert.deepEqual(endedPorts().at(-1), [40021, 'idle', 'S1', 2]);

  // Retried past the limit before any sweep: the retry starts a new attempt, as in Zeek's conn.log.
  h.send({ from: 'c', flags: S, seq: 1, t: 2000 }, IPPROTO_TCP, 40023);
  h.send({ from: 'c', flags: S, seq: 1, t: 2003 }, IPPROTO_TCP, 40023);
  h.send({ from: 'c', flags: S, seq: 1, t: 2007 }, IPPROTO_TCP, 40023);
  assert.deepEqual(endedPorts().at(-1), [40023, 'idle', 'S0', 2]);
  assert.equal(h.finish().at(-1)?.orig_pkts, 1);
});

test('an analyzer may shorten a flow\'s inactivity limit (DNS over UDP: 10 s); sweeps and late packets both honour it', () => {
  const h = harness();
  const dns = updatedFlow(h.send({ from: 'c', flags: 0, seq: 0, len: 30, t: 1000 }, IPPROTO_UDP, 40030));
  h.conns.sweep(1001); // swept once before the limit was set: the sweep must look again in time
  h.conns.limitIdle(dns, 10);
  h.send({ from: 'c', flags: 0, seq: 0, len: 30, t: 1000 }, IPPROTO_UDP, 40031); // another UDP flow: a minute
  h.conns.sweep(1010);
  assert.equal(h.ended.length, 0);
  h.conns.sweep(1010.001);
  assert.deepEqual(h.ended.map((e) => [e.record['id.orig_p'], e.reason]), [[40030, 'idle']]);
  h.conns.sweep(1060.001);
  assert.deepEqual(h.ended.map((e) => e.record['id.orig_p']), [40030, 40031]);

  const again = updatedFlow(h.send({ from: 'c', flags: 0, seq: 0, len: 30, t: 2000 }, IPPROTO_UDP, 40032));
  h.conns.limitIdle(again, 10);
  h.send({ from: 'c', flags: 0, seq: 0, len: 30, t: 2012 }, IPPROTO_UDP, 40032); // no sweep between: the packet decides
  assert.deepEqual(h.ended.at(-1)?.record['id.orig_p'], 40032);
  // The slot's next flow starts with UDP's own minute.
  h.send({ from: 'c', flags: 0, seq: 0, len: 30, t: 2050 }, IPPROTO_UDP, 40032);
  assert.equal(h.ended.length, 3);
});

test('a packet after the idle limit starts a new flow even before a sweep; one just inside it does not', () => {
  const h = harness();
  h.send({ from: 'c', flags: 0, seq: 0, len: 10, t: 500 }, IPPROTO_UDP, 40010);
  h.send({ from: 'c', flags: 0, seq: 0, len: 10, t: 500 + DEFAULT_TIMEOUTS.udpIdle }, IPPROTO_UDP, 40010);
  assert.equal(h.ended.length, 0);
  h.send({ from: 'c', flags: 0, seq: 0, len: 10, t: 500 + 2 * DEFAULT_TIMEOUTS.udpIdle + 0.001 }, IPPROTO_UDP, 40010);
  assert.deepEqual(h.ended.map((e) => [e.reason, e.record.orig_pkts]), [['idle', 2]]);
});

test("a reused flow slot starts from zero, and a neighbour's counters stay apart", () => {
  const { send, finish, ended } = harness();
  const first = updatedFlow(send({ from: 'c', flags: S, seq: 100 }));
  send({ from: 's', flags: SA, seq: 500 });
  send({ from: 'c', flags: A, seq: 101 });
  send({ from: 'c', flags: A, seq: 101, len: 10 });
  send({ from: 'c', flags: A, seq: 101, len: 10 }); // a retransmission
  send({ from: 's', flags: A, seq: 501, window: 0 }); // an ACK (a) with a zero window (w)
  send({ from: 'c', flags: R, seq: 111 });
  const neighbour = updatedFlow(send({ from: 'c', flags: 0, seq: 0, len: 5 }, IPPROTO_UDP, 40001));
  assert.equal(neighbour, first + 1);
  // A new SYN on the reset 4-tuple: the old connection ends, the new one takes its slot.
  const reused = updatedFlow(send({ from: 'c', flags: S, seq: 9000 }));
  assert.equal(reused, first);
  assert.equal(ended[0].reason, 'reused');
  const records = finish();
  const pick = (r: ConnRecord) => [r.history, r.conn_state, r.orig_pkts, r.orig_bytes, r.orig_ip_bytes, r.resp_pkts, r.resp_bytes, r.orig_retrans, r.resp_retrans, r.rtt];
  assert.deepEqual(pick(records[0]), ['ShADTawR', 'RSTO', 5, 10, 220, 2, 0, 1, 0, 0.02]);
  const byPort = new Map(records.slice(1).map((r) => [r['id.orig_p'], r]));
  assert.deepEqual(pick(byPort.get(40000)!), ['S', 'S0', 1, 0, 40, 0, 0, 0, 0, undefined]);
  assert.deepEqual(pick(byPort.get(40001)!), ['D', 'S0', 1, 5, 45, 0, 0, 0, 0, undefined]);
});
