/**
 * How long the engine holds a flow, as Zeek does: a DNS flow over UDP ends after 10 s without a packet
 * (dns_session_timeout) where other UDP waits a minute, and a TCP SYN nobody answers ends 5 s after it
 * (tcp_attempt_delay) where an open connection waits 5 minutes. Hand-made frames through the whole pipeline,
 * live (records as the clock ticks) and from a file (the records a flow splits into).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { batchOf, dnsMessage, SYN, tcp4, udp4 } from '../test-support/frames.js';
import { Pipeline } from './pipeline.js';
import type { ConnRecord, LoopyRecord } from './records.js';

const T0 = 1_700_000_000;
const CLIENT = '192.0.2.10';
const SERVER = '192.0.2.53';

function run() {
  const records: LoopyRecord[] = [];
  const pipeline = new Pipeline().observe({ onRecord: (r) => records.push(r) });
  const conns = () => records.filter((r): r is ConnRecord => r.type === 'conn').map((c) => `${c['id.orig_p']}>${c['id.resp_p']} ${c.service ?? '-'} ${c.conn_state} ${c.orig_pkts}/${c.resp_pkts}`);
  return { pipeline, conns };
}

/** A query from port `sport` to the server's `dport` at `ts`, and its answer 10 ms later. */
function exchange(sport: number, dport: number, ts: number) {
  return [
    { bytes: udp4(CLIENT, SERVER, sport, dport, dnsMessage(7, false, 'example.com')), ts },
    { bytes: udp4(SERVER, CLIENT, dport, sport, dnsMessage(7, true, 'example.com')), ts: ts + 0.01 },
  ];
}

test('live: a DNS flow over UDP is reported 10 s after its last packet, other UDP after a minute', () => {
  const { pipeline, conns } = run();
  pipeline.tick(T0);
  pipeline.process(batchOf([...exchange(40001, 53, T0 + 1), ...exchange(40002, 5000, T0 + 1)]));
  pipeline.tick(T0 + 10);
  assert.deepEqual(conns(), [], 'not before its 10 s');
  pipeline.tick(T0 + 14);
  assert.deepEqual(conns(), ['40001>53 dns SF 1/1']);
  pipeline.tick(T0 + 60);
  assert.equal(conns().length, 1, 'the other UDP flow waits its minute');
  pipeline.tick(T0 + 64);
  assert.deepEqual(conns(), ['40001>53 dns SF 1/1', '40002>5000 - SF 1/1']);
});

test('live: an unanswered SYN is reported 5 s after it, retransmissions and all', () => {
  const { pipeline, conns } = run();
  pipeline.tick(T0);
  pipeline.process(batchOf([0, 1, 3].map((dt) => ({ bytes: tcp4(CLIENT, SERVER, 40003, 22, SYN, 100, 0), ts: T0 + 1 + dt }))));
  pipeline.tick(T0 + 5);
  assert.deepEqual(conns(), []);
  pipeline.tick(T0 + 9);
  assert.deepEqual(conns(), ['40003>22 - S0 3/0']);
});

test('a file: queries 15 s apart on one UDP 4-tuple are two DNS flows, as in Zeek; non-DNS UDP stays one flow', () => {
  const { pipeline, conns } = run();
  pipeline.process(batchOf([...exchange(40004, 53, T0), ...exchange(40005, 5000, T0), ...exchange(40004, 53, T0 + 15), ...exchange(40005, 5000, T0 + 15)]));
  pipeline.finish();
  assert.deepEqual(conns().sort(), ['40004>53 dns SF 1/1', '40004>53 dns SF 1/1', '40005>5000 - SF 2/2']);
});
