/**
 * Test double: one HTTP connection fed to an HttpAnalyzer segment by segment, each side's bytes at the right
 * sequence numbers (the server's wrap past 2^32). `lose` makes a hole: the bytes are counted as sent but the
 * analyzer never sees them; `ack` is the bare ACK by which the other side acknowledges all that was sent.
 */
import { Packet, TCP_ACK } from '../../../../decode/packet.js';
import { AppDriver } from '../../testing/app-driver.js';
import { FakeAppContext, fillTcpPacket, synPacket } from '../../testing/fake-context.js';
import { HttpAnalyzer, type HttpRecord } from '../analyzer.js';
import { httpRegistration } from '../index.js';

export const CLIENT_ISN = 5000;
export const SERVER_ISN = 0xfffffff0; // server data wraps past 2^32

export class FakeHttpConnection {
  readonly ctx: FakeAppContext;
  /** The analyzer behind the real dispatch: packets in (`send`, `ack`), `end(flowId)` and `finish()` as the engine calls them. */
  readonly http: AppDriver<HttpAnalyzer>;
  private readonly pkt = new Packet();
  private sent = { orig: 0, resp: 0 };

  /** `after`: a connection whose analyzer this one shares (a later flow the same analyzer sees); else a new analyzer. */
  constructor(readonly flowId = 3, handshake = true, after?: FakeHttpConnection) {
    this.ctx = after?.ctx ?? new FakeAppContext();
    this.http = after?.http ?? new AppDriver(this.ctx, httpRegistration, (c) => new HttpAnalyzer(c));
    if (!handshake) return;
    this.http.packet(flowId, true, synPacket(this.pkt, CLIENT_ISN, 1));
    this.http.packet(flowId, false, synPacket(this.pkt, SERVER_ISN, 1, CLIENT_ISN + 1));
  }

  send(fromOrig: boolean, text: string, ts: number, isn = fromOrig ? CLIENT_ISN : SERVER_ISN): void {
    const key = fromOrig ? 'orig' : 'resp';
    const payload = Buffer.from(text, 'latin1');
    this.http.packet(this.flowId, fromOrig, fillTcpPacket(this.pkt, { seq: isn + 1 + this.sent[key], payload, ts }));
    this.sent[key] += payload.length;
  }

  /** Bytes `fromOrig` sent that the capture missed. */
  lose(fromOrig: boolean, text: string): void {
    this.sent[fromOrig ? 'orig' : 'resp'] += Buffer.byteLength(text, 'latin1');
  }

  /** A bare ACK from `fromOrig` for everything the other side has sent. */
  ack(fromOrig: boolean, ts: number): void {
    const peer = fromOrig ? SERVER_ISN + 1 + this.sent.resp : CLIENT_ISN + 1 + this.sent.orig;
    const own = fromOrig ? CLIENT_ISN + 1 + this.sent.orig : SERVER_ISN + 1 + this.sent.resp;
    this.http.packet(this.flowId, fromOrig, fillTcpPacket(this.pkt, { seq: own, flags: TCP_ACK, ts, ack: peer }));
  }

  get records(): HttpRecord[] {
    return this.ctx.records as HttpRecord[];
  }
}

/** The fields most tests compare, in a fixed order. */
export function pick(r: HttpRecord): unknown[] {
  return [r.ts, r.trans_depth, r.method, r.uri, r.status_code, r.status_msg, r.request_body_len, r.response_body_len];
}
