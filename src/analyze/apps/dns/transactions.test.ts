import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConnId, DnsRecord } from '../../records.js';
import { DnsWire } from './message.js';
import { DnsTransactions } from './transactions.js';

/** A query or a response (one A answer) of transaction `id` for the name `name`. */
function message(id: number, qr: boolean, name: string): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(qr ? 0x8180 : 0x0100, 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(qr ? 1 : 0, 6);
  const question = Buffer.concat([Buffer.from([name.length]), Buffer.from(name), Buffer.from([0, 0, 1, 0, 1])]);
  const answer = qr ? Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1]) : Buffer.alloc(0);
  return Buffer.concat([header, question, answer]);
}

function table(maxPending = 100) {
  const records: DnsRecord[] = [];
  const conn = (flowId: number): ConnId => ({ uid: `C${flowId}`, 'id.orig_h': '10.0.0.1', 'id.orig_p': flowId, 'id.resp_h': '10.0.0.53', 'id.resp_p': 53, proto: 'udp' });
  const tx = new DnsTransactions({ connId: conn, emit: (r) => records.push(r) }, 10, maxPending);
  const w = new DnsWire();
  const feed = (flowId: number, ts: number, id: number, qr: boolean, name = 'a') => {
    const buf = message(id, qr, name);
    assert.ok(w.parse(buf, 0, buf.length) && w.error < 0);
    if (qr) tx.response(flowId, ts, w);
    else tx.query(flowId, ts, w);
  };
  return { tx, records, feed };
}

test("a flow's end reports its queries by time; those of one time in the order their ids became pending", () => {
  const { tx, records, feed } = table();
  feed(1, 5, 7, false, 'x');
  feed(1, 3, 9, false, 'y'); // earlier capture time, seen later
  feed(1, 5, 9, false, 'z');
  feed(1, 5, 7, false, 'w');
  feed(2, 1, 7, false, 'other-flow');
  tx.flowEnd(1);
  assert.deepEqual(records.map((r) => [r.ts, r.trans_id, r.query]), [[3, 9, 'y'], [5, 7, 'x'], [5, 7, 'w'], [5, 9, 'z']]);
  assert.equal(tx.pending, 1);
  tx.finish();
  assert.deepEqual(records.at(-1)?.query, 'other-flow');
  assert.equal(tx.pending, 0);
});

test('a response takes the oldest query of its id in its flow, also after others of the flow were answered', () => {
  const { tx, records, feed } = table();
  for (let i = 0; i < 50; i++) feed(1, i, i % 5, false, `q${i}`);
  feed(1, 60, 3, true);
  feed(1, 61, 3, true);
  feed(2, 62, 3, true); // another flow: no query to pair with
  assert.deepEqual(records.map((r) => [r.query, r.rtt ?? null]), [['q3', 57], ['q8', 53], ['a', null]]);
  assert.equal(tx.pending, 48);
});

test('past maxPending the oldest query is reported early; advance reports in arrival order up to the first not yet due', () => {
  const { tx, records, feed } = table(3);
  feed(1, 1, 1, false, 'a');
  feed(2, 2, 2, false, 'b');
  feed(1, 3, 3, false, 'c');
  feed(2, 4, 4, false, 'd');
  assert.deepEqual(records.map((r) => r.query), ['a']);
  feed(2, 5, 2, true); // answers b
  tx.advance(13.5);
  assert.deepEqual(records.map((r) => r.query), ['a', 'b', 'c']);
  tx.advance(14);
  assert.deepEqual(records.map((r) => r.query), ['a', 'b', 'c', 'd']);
  assert.equal(tx.pending, 0);
});
