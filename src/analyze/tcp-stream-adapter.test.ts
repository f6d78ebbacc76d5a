/**
 * The TCP stream adapter's columns by flow slot: once a flow ends or is released, the next flow of its slot
 * starts the slot's columns afresh. Nothing of the old flow may reach the new one: its sequence numbers, the segments it kept behind a hole, whether it started at its SYN,
 * its release, its analyzer. Each test runs the new flow twice — after an old flow that left state behind,
 * and on a fresh adapter — and the analyzer must hear the same calls both times.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Packet, TCP_ACK } from '../decode/packet.js';
import { fillTcpPacket, synPacket } from './apps/testing/fake-context.js';
import type { AppAnalyzer } from './apps/types.js';
import { grownTo } from './flows/flow-table.js';
import { TcpStreamAdapter } from './tcp-stream-adapter.js';

/** Writes what it hears as "flowId> text@ts", "flowId< <gap N>", and releases when told. */
class Recorder implements AppAnalyzer {
  readonly calls: string[] = [];
  releaseOn = '';
  adapter?: TcpStreamAdapter;
  slot = 0;

  onStream(flowId: number, fromOrig: boolean, data: Buffer, offset: number, length: number, ts: number): void {
    const text = data.toString('latin1', offset, offset + length);
    this.calls.push(`${flowId}${fromOrig ? '>' : '<'} ${text}@${ts}`);
    if (text === this.releaseOn) this.adapter?.release(this.slot);
  }
  onGap(flowId: number, fromOrig: boolean, bytes: number): void {
    this.calls.push(`${flowId}${fromOrig ? '>' : '<'} <gap ${bytes}>`);
  }
  onFlowEnd(): void {}
  advance(): void {}
  finish(): void {}
}

const SLOT = 3;
const pkt = new Packet();

/** One side's bytes at `seq`, optionally acknowledging `ack`. */
function data(a: TcpStreamAdapter, rec: Recorder, flowId: number, fromOrig: boolean, seq: number, text: string, ts: number, ack?: number): void {
  a.segment(SLOT, flowId, fromOrig, fillTcpPacket(pkt, { seq, payload: Buffer.from(text, 'latin1'), ts, ack }), rec, 64 * 1024);
}

function syn(a: TcpStreamAdapter, rec: Recorder, flowId: number, fromOrig: boolean, isn: number, ack?: number): void {
  a.segment(SLOT, flowId, fromOrig, synPacket(pkt, isn, 1, ack), rec, 64 * 1024);
}

function fresh(): { a: TcpStreamAdapter; rec: Recorder } {
  const a = new TcpStreamAdapter();
  a.columns((column, perFlow = 1) => grownTo(column, (SLOT + 1) * perFlow));
  const rec = new Recorder();
  rec.adapter = a;
  rec.slot = SLOT;
  return { a, rec };
}

/** The new flow (id 1003 in slot 3): a handshake at ISNs 100 / 900, "hello" in two pieces, "ok" back, its end. */
function newFlow(a: TcpStreamAdapter, rec: Recorder): string[] {
  const from = rec.calls.length;
  syn(a, rec, 1003, true, 100);
  syn(a, rec, 1003, false, 900, 101);
  assert.equal(a.joinedMidStream(SLOT, 1003, true), false, 'the new flow started at its SYN');
  data(a, rec, 1003, true, 101, 'hel', 2);
  data(a, rec, 1003, true, 104, 'lo', 3);
  data(a, rec, 1003, false, 901, 'ok', 4, 106);
  a.end(SLOT);
  return rec.calls.slice(from);
}

test('a flow that ended with a segment kept behind a hole: the next flow of its slot hears only its own bytes', () => {
  const { a, rec } = fresh();
  // The old flow (id 3) joined mid-stream and keeps "zzz" behind a hole of 7 bytes at its end.
  data(a, rec, 3, true, 50_000, 'abc', 1);
  data(a, rec, 3, true, 50_010, 'zzz', 1);
  assert.equal(a.joinedMidStream(SLOT, 3, true), true);
  a.end(SLOT);
  assert.deepEqual(rec.calls, ['3> abc@1', '3> <gap 7>', '3> zzz@1'], 'the end flushes what was kept');
  const reused = newFlow(a, rec);
  const alone = fresh();
  assert.deepEqual(reused, newFlow(alone.a, alone.rec));
  assert.deepEqual(reused, ['1003> hel@2', '1003> lo@3', '1003< ok@4']);
});

test('a flow released from inside a delivery, with bytes kept behind a hole: they never reach the next flow', () => {
  const { a, rec } = fresh();
  syn(a, rec, 3, true, 7000);
  data(a, rec, 3, true, 7010, 'later', 1); // kept: bytes 7001-7009 are missing
  rec.releaseOn = 'first';
  data(a, rec, 3, true, 7001, 'first', 1); // delivered, released inside the delivery; "later" is still behind a hole
  rec.releaseOn = '';
  assert.deepEqual(rec.calls, ['3> first@1']);
  const reused = newFlow(a, rec);
  const alone = fresh();
  assert.deepEqual(reused, newFlow(alone.a, alone.rec));
  assert.deepEqual(reused, ['1003> hel@2', '1003> lo@3', '1003< ok@4'], 'not released, nothing of "later", no gap');
});

test('a flow that started at its SYN, then one that joins mid-stream in the same streams: mid-stream it is', () => {
  const { a, rec } = fresh();
  newFlow(a, rec);
  data(a, rec, 2003, false, 30_000, 'mid', 5, 200);
  assert.equal(a.joinedMidStream(SLOT, 2003, false), true);
  // The originator's first bytes start its stream wherever they are: no gap from the old flow's sequence.
  data(a, rec, 2003, true, 5, 'x', 6);
  assert.deepEqual(rec.calls.slice(-2), ['2003< mid@5', '2003> x@6']);
});

test('a bare ACK before any SYN or data takes no streams', () => {
  const { a, rec } = fresh();
  newFlow(a, rec);
  a.segment(SLOT, 4003, true, fillTcpPacket(pkt, { seq: 1, flags: TCP_ACK, ack: 1, ts: 1 }), rec, 64 * 1024);
  assert.equal(a.joinedMidStream(SLOT, 4003, true), false, 'no streams');
  a.end(SLOT);
  a.release(SLOT);
  newFlow(a, rec);
  assert.deepEqual(rec.calls.slice(-3), ['1003> hel@2', '1003> lo@3', '1003< ok@4'], 'ending or releasing a flow with no streams leaves the slot as it was');
});

test('two analyzers: each flow is delivered to the one that claimed it, and a slot passes from one to the other', () => {
  const { a, rec } = fresh();
  const other = new Recorder();
  a.columns((column, perFlow = 1) => grownTo(column, 8 * perFlow));
  a.segment(7, 7, true, fillTcpPacket(pkt, { seq: 10, payload: Buffer.from('to other'), ts: 1 }), other, 64 * 1024);
  data(a, rec, 3, true, 50, 'to rec', 2);
  a.end(SLOT);
  a.end(7);
  a.segment(SLOT, 1003, true, fillTcpPacket(pkt, { seq: 90, payload: Buffer.from('slot 3, now other'), ts: 3 }), other, 64 * 1024);
  a.end(SLOT);
  assert.deepEqual(rec.calls, ['3> to rec@2']);
  assert.deepEqual(other.calls, ['7> to other@1', '1003> slot 3, now other@3']);
});
