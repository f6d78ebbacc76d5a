/**
 * The dispatch and its TCP stream adapter, seen from an analyzer: hand-made packets in, the calls a recording
 * analyzer gets out. Client data is "abcdefghij" from ISN 999 (bytes at 1000-1009), server data "0123456789"
 * from ISN 4999; each delivery is written as "> text@ts" (from the originator) or "< text@ts".
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Packet, TCP_ACK, TCP_SYN } from '../decode/packet.js';
import { AppDriver } from './apps/testing/app-driver.js';
import { FakeAppContext, fillTcpPacket, fillUdpPacket, synPacket } from './apps/testing/fake-context.js';
import type { AnalyzerContext, AppAnalyzer, AppRegistration } from './apps/types.js';

const CLIENT_ISN = 999;
const SERVER_ISN = 4999;
const CLIENT_TEXT = 'abcdefghij';
const SERVER_TEXT = '0123456789';
const FLOW = 5;

class Recorder implements AppAnalyzer {
  readonly calls: string[] = [];
  /** Called on each delivery; true releases the flow. */
  releaseWhen: (text: string) => boolean = () => false;
  responderFirst = false;
  midStream: string[] = [];

  constructor(private readonly ctx: AnalyzerContext) {}

  onDatagram(flowId: number, fromOrig: boolean, data: Buffer, offset: number, length: number, ts: number): void {
    this.calls.push(`${fromOrig ? '>' : '<'} datagram ${data.toString('latin1', offset, offset + length)}@${ts}`);
  }
  onStream(flowId: number, fromOrig: boolean, data: Buffer, offset: number, length: number, ts: number): void {
    const text = data.toString('latin1', offset, offset + length);
    this.calls.push(`${fromOrig ? '>' : '<'} ${text}@${ts}`);
    if (this.ctx.joinedMidStream(flowId, fromOrig)) this.midStream.push(text);
    if (this.releaseWhen(text)) this.ctx.release(flowId);
  }
  onGap(_flowId: number, fromOrig: boolean, bytes: number): void {
    this.calls.push(`${fromOrig ? '>' : '<'} <gap ${bytes}>`);
  }
  originatorFlushesFirst(): boolean {
    return !this.responderFirst;
  }
  onFlowEnd(flowId: number): void {
    this.calls.push(`end ${flowId}`);
  }
  advance(): void {}
  finish(): void {
    this.calls.push('finish');
  }
}

interface Run {
  driver: AppDriver<Recorder>;
  calls: string[];
  pkt: Packet;
}

function run(options: Partial<AppRegistration> = {}, ctx = new FakeAppContext()): Run {
  const driver = new AppDriver(ctx, { name: 'rec', tcpPorts: [7], udpPorts: [7], ...options }, (c) => new Recorder(c));
  return { driver, calls: driver.analyzer.calls, pkt: new Packet() };
}

/** CLIENT_TEXT[from, to) from the client at capture time `ts`, acknowledging `ack` when given. */
function client(r: Run, from: number, to: number, ts: number, ack?: number): void {
  r.driver.packet(FLOW, true, fillTcpPacket(r.pkt, { seq: CLIENT_ISN + 1 + from, payload: Buffer.from(CLIENT_TEXT.slice(from, to)), ts, ack }));
}

function server(r: Run, from: number, to: number, ts: number, ack?: number): void {
  r.driver.packet(FLOW, false, fillTcpPacket(r.pkt, { seq: SERVER_ISN + 1 + from, payload: Buffer.from(SERVER_TEXT.slice(from, to)), ts, ack }));
}

function handshake(r: Run): void {
  r.driver.packet(FLOW, true, synPacket(r.pkt, CLIENT_ISN, 1));
  r.driver.packet(FLOW, false, synPacket(r.pkt, SERVER_ISN, 1, CLIENT_ISN + 1));
}

test('TCP: in-order bytes with their segment time; a hole the peer ACKs past is a gap, then the kept bytes with their own time', () => {
  const r = run();
  handshake(r);
  client(r, 0, 3, 2);
  client(r, 6, 10, 3); // "def" never captured: kept
  assert.deepEqual(r.calls, ['> abc@2']);
  server(r, 0, 4, 4, CLIENT_ISN + 1 + 10); // its own bytes first, then its ACK: it had all ten
  assert.deepEqual(r.calls, ['> abc@2', '< 0123@4', '> <gap 3>', '> ghij@3']);
  assert.deepEqual(r.driver.analyzer.midStream, [], 'both directions started at their SYN');
});

test('TCP Fast Open: data on the SYN starts one past its sequence number', () => {
  const r = run();
  r.driver.packet(FLOW, true, fillTcpPacket(r.pkt, { seq: CLIENT_ISN, flags: TCP_SYN, payload: Buffer.from('abc'), ts: 1 }));
  client(r, 3, 5, 2);
  assert.deepEqual(r.calls, ['> abc@1', '> de@2']);
});

test('a bare ACK before any SYN or data makes nothing; a stream joined mid-way says so', () => {
  const r = run();
  r.driver.packet(FLOW, false, fillTcpPacket(r.pkt, { seq: SERVER_ISN + 1, flags: TCP_ACK, ack: CLIENT_ISN + 1, ts: 1 }));
  client(r, 2, 5, 2);
  assert.deepEqual(r.calls, ['> cde@2']);
  assert.deepEqual(r.driver.analyzer.midStream, ['cde']);
});

test("the flow's end flushes both directions (the holes reported) before onFlowEnd, the originator's first", () => {
  const r = run();
  handshake(r);
  client(r, 0, 2, 2);
  client(r, 5, 10, 3);
  server(r, 6, 10, 4);
  r.driver.end(FLOW);
  assert.deepEqual(r.calls, ['> ab@2', '> <gap 3>', '> fghij@3', '< <gap 6>', '< 6789@4', `end ${FLOW}`]);
});

test('the analyzer may ask for the responder to be flushed first', () => {
  const r = run();
  r.driver.analyzer.responderFirst = true;
  handshake(r);
  client(r, 5, 10, 3);
  server(r, 6, 10, 4);
  r.driver.end(FLOW);
  assert.deepEqual(r.calls, ['< <gap 6>', '< 6789@4', '> <gap 5>', '> fghij@3', `end ${FLOW}`]);
});

test('the registration sets how much is kept behind a hole before it is given up', () => {
  const r = run({ maxPendingBytes: 4 });
  handshake(r);
  client(r, 0, 1, 2);
  client(r, 2, 5, 3); // 3 bytes kept: within the budget
  assert.deepEqual(r.calls, ['> a@2']);
  client(r, 6, 8, 4); // 5 kept: the oldest hole is given up, no ACK needed
  assert.deepEqual(r.calls, ['> a@2', '> <gap 1>', '> cde@3']);
});

test('a released flow is neither reassembled nor delivered, even mid-drain; onFlowEnd still comes', () => {
  const r = run();
  r.driver.analyzer.releaseWhen = (text) => text === 'cd';
  handshake(r);
  client(r, 0, 2, 2);
  client(r, 4, 6, 3); // kept
  client(r, 2, 4, 4); // fills the hole: "cd" releases the flow before the kept "ef" comes out
  client(r, 6, 8, 5);
  server(r, 0, 4, 6, CLIENT_ISN + 1 + 10);
  r.driver.end(FLOW);
  assert.deepEqual(r.calls, ['> ab@2', '> cd@4', `end ${FLOW}`]);
});

test('UDP: one call per non-empty datagram, nothing reassembled', () => {
  const r = run();
  r.driver.packet(FLOW, true, fillUdpPacket(r.pkt, Buffer.from('query'), 1));
  r.driver.packet(FLOW, false, fillUdpPacket(r.pkt, Buffer.alloc(0), 2));
  r.driver.packet(FLOW, false, fillUdpPacket(r.pkt, Buffer.from('answer'), 3));
  r.driver.finish();
  assert.deepEqual(r.calls, ['> datagram query@1', '< datagram answer@3', `end ${FLOW}`, 'finish']);
});

test("an analyzer's UDP inactivity limit is asked for each UDP flow it is given, once; its TCP flows keep TCP's", () => {
  const ctx = new FakeAppContext();
  const r = run({ udpIdleTimeout: 10 }, ctx);
  r.driver.packet(FLOW, true, fillUdpPacket(r.pkt, Buffer.from('query'), 1));
  r.driver.packet(FLOW, false, fillUdpPacket(r.pkt, Buffer.from('answer'), 2));
  r.driver.packet(FLOW + 1, true, synPacket(r.pkt, CLIENT_ISN, 1)); // a TCP flow of the same analyzer
  r.driver.packet(FLOW + 1, true, fillTcpPacket(r.pkt, { seq: CLIENT_ISN + 1, payload: Buffer.from('query'), ts: 2 }));
  assert.deepEqual([...ctx.idleLimits], [[FLOW, 10]]);

  const plain = new FakeAppContext();
  const p = run({}, plain);
  p.driver.packet(FLOW, true, fillUdpPacket(p.pkt, Buffer.from('query'), 1));
  assert.equal(plain.idleLimits.size, 0);
});
