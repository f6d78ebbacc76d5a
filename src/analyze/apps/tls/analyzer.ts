/**
 * The TLS analyzer: one `tls` record per flow from the ClientHello and ServerHello (Zeek ssl.log names).
 * The record goes out when the ServerHello is parsed (and the ClientHello, if it is coming), or at flow end /
 * finish when only one hello was seen. Once it is out the flow is released: its later (encrypted) segments
 * are neither reassembled nor delivered.
 */
import { defineWeird } from '../../../decode/weirds.js';
import { FLOW_FREE_LIST_CAPACITY, FreeList } from '../../free-list.js';
import { setRecordHead, type ConnId, type TlsRecord } from '../../records.js';
import type { AnalyzerContext, AppAnalyzer } from '../types.js';
import { alpnList, escapedText, HELLO_OK, HelloFields, parseClientHello, parseServerHello, parseSslv2ClientHello, parseSslv2ServerHello } from './hello.js';
import { HelloSide, SIDE_DONE, SIDE_FAILED, SIDE_PENDING } from './hello-side.js';
import { Ja3Writer } from './ja3.js';
import { tlsCipherName, tlsVersionName } from './names.js';
import { FirstHandshake, HANDSHAKE_CLIENT_HELLO, HANDSHAKE_SERVER_HELLO, SSLV2_CLIENT_HELLO, SSLV2_SERVER_HELLO } from './record-layer.js';
import { moveEntry } from '../../flows/flow-table.js';

const W_SSL_UNEXPECTED_HANDSHAKE = defineWeird('ssl_unexpected_handshake');

/** What Loopy writes beyond TlsRecord; names are Zeek's (ssl.log, ja3 package) where Zeek has one. */
export interface TlsFlowRecord extends TlsRecord {
  /** The suite the server selected, by IANA name ("unknown-<n>" when not in the table). */
  cipher?: string;
  /** The protocol the server selected via ALPN. */
  next_protocol?: string;
  /** The client's ALPN offer, in order. */
  client_alpn?: string[];
  /** How many cipher suites the client offered (GREASE included). */
  client_cipher_count?: number;
  ja3?: string;
  ja3s?: string;
}

/** A flow until its record is out: what the record keeps of each hello (decoded when the hello is parsed). */
class TlsFlow {
  ts = 0;
  weirdCounted = false;
  /** A hello parsed: confirmService is due (called from settle, outside the hello handling). */
  confirmDue = false;
  serviceConfirmed = false;
  readonly client = new HelloSide();
  readonly server = new HelloSide();
  hasClientHello = false;
  /** The client's highest offer. */
  clientVersion = 0;
  clientCipherCount = 0;
  serverName: string | undefined = undefined;
  clientAlpn: string[] | undefined = undefined;
  ja3: string | undefined = undefined;
  hasServerHello = false;
  serverVersion = 0;
  /** -1: the hello names no suite (SSLv2). */
  cipher = -1;
  serverAlpn: string | undefined = undefined;
  ja3s: string | undefined = undefined;

  /** The record is out and the state is kept for the next flow (see FreeList): nothing of this flow stays, buffers neither. */
  reset(): void {
    this.ts = 0;
    this.weirdCounted = false;
    this.confirmDue = false;
    this.serviceConfirmed = false;
    this.client.reset();
    this.server.reset();
    this.hasClientHello = false;
    this.clientVersion = 0;
    this.clientCipherCount = 0;
    this.serverName = undefined;
    this.clientAlpn = undefined;
    this.ja3 = undefined;
    this.hasServerHello = false;
    this.serverVersion = 0;
    this.cipher = -1;
    this.serverAlpn = undefined;
    this.ja3s = undefined;
  }
}

export class TlsAnalyzer implements AppAnalyzer {
  /** A flow is released once its record is out (settle), and forgotten before. */
  readonly forgetsOnRelease = true;
  /** Flows whose record is not out yet. */
  private readonly flows = new Map<number, TlsFlow>();
  /** Flows' state kept from flows whose record is out, for the next ones (see FreeList). */
  private readonly spare = new FreeList<TlsFlow>(FLOW_FREE_LIST_CAPACITY);
  /** Capture time of the bytes being parsed (a hello is parsed synchronously inside onStream). */
  private now = 0;
  /** One hello's fields at a time: filled by the parse, read into the flow right after. */
  private readonly fields = new HelloFields();
  private readonly ja3 = new Ja3Writer();
  /** The record layer's answer for the side being fed. */
  private readonly message = new FirstHandshake();

  constructor(private readonly ctx: AnalyzerContext) {}

  onStream(flowId: number, fromOrig: boolean, data: Buffer, offset: number, length: number, ts: number): void {
    const flow = this.flow(flowId);
    this.now = ts;
    const side = fromOrig ? flow.client : flow.server;
    if (side.state === SIDE_PENDING) {
      side.data(data, offset, length, this.message);
      this.sideSettled(flow, fromOrig, side);
    }
    this.settle(flowId, flow);
  }

  onGap(flowId: number, fromOrig: boolean): void {
    const flow = this.flow(flowId);
    const side = fromOrig ? flow.client : flow.server;
    if (side.state === SIDE_PENDING) {
      side.gap();
      this.sideSettled(flow, fromOrig, side);
    }
    this.settle(flowId, flow);
  }

  /** What the hellos gave (a hello kept behind a hole was looked at in the flush before this). */
  onFlowEnd(flowId: number): void {
    const flow = this.flows.get(flowId);
    if (flow === undefined) return;
    this.flows.delete(flowId);
    this.emit(flowId, flow);
    this.keep(flow);
  }

  /** Flows' state kept for the next flows (tests). */
  get spareFlows(): number {
    return this.spare.size;
  }

  advance(now: number): void {
    // Nothing expires on its own: a flow's hellos wait for the flow's end. Kept state no flow took goes.
    this.spare.settle(now);
  }

  finish(): void {
    for (const [flowId, flow] of this.flows) this.emit(flowId, flow);
    this.flows.clear();
  }

  onFlowMoved(oldId: number, newId: number): void {
    moveEntry(this.flows, oldId, newId);
  }

  private flow(flowId: number): TlsFlow {
    let flow = this.flows.get(flowId);
    if (flow === undefined) {
      flow = this.spare.take() ?? new TlsFlow();
      this.flows.set(flowId, flow);
    }
    return flow;
  }

  /** After a pending side's call: a hello found is parsed, a side given up counts its weird. */
  private sideSettled(flow: TlsFlow, fromOrig: boolean, side: HelloSide): void {
    if (side.state === SIDE_FAILED) this.countWeird(flow, side.weird);
    else if (side.state === SIDE_DONE) {
      this.onHandshake(flow, fromOrig, side, this.message);
      this.message.clear();
    }
  }

  private onHandshake(flow: TlsFlow, fromOrig: boolean, side: HelloSide, m: FirstHandshake): void {
    const expected = fromOrig ? (m.sslv2 ? SSLV2_CLIENT_HELLO : HANDSHAKE_CLIENT_HELLO) : m.sslv2 ? SSLV2_SERVER_HELLO : HANDSHAKE_SERVER_HELLO;
    if (m.msgType !== expected) {
      this.countWeird(flow, W_SSL_UNEXPECTED_HANDSHAKE);
      side.state = SIDE_FAILED;
      return;
    }
    const f = this.fields;
    const parse = fromOrig ? (m.sslv2 ? parseSslv2ClientHello : parseClientHello) : m.sslv2 ? parseSslv2ServerHello : parseServerHello;
    const weird = parse(m.buf, m.offset, m.length, f);
    if (weird !== HELLO_OK) {
      this.countWeird(flow, weird);
      side.state = SIDE_FAILED;
      return;
    }
    flow.confirmDue = true;
    if (fromOrig) {
      flow.hasClientHello = true;
      flow.ts = this.now;
      flow.clientVersion = f.version;
      flow.clientCipherCount = f.suiteCount;
      if (f.serverNameAt >= 0) flow.serverName = escapedText(m.buf, f.serverNameAt, f.serverNameLength);
      if (f.alpnCount > 0) flow.clientAlpn = alpnList(f, m.buf);
      if (!f.sslv2) flow.ja3 = this.ja3.ja3(f);
    } else {
      flow.hasServerHello = true;
      if (!flow.hasClientHello) flow.ts = this.now;
      flow.serverVersion = f.version;
      flow.cipher = f.cipher;
      if (f.alpnCount > 0) flow.serverAlpn = escapedText(m.buf, f.alpnAt[0], f.alpnLength[0]);
      if (!f.sslv2) flow.ja3s = this.ja3.ja3s(f);
    }
  }

  /** One weird per flow: a flow that is not TLS at all would otherwise count one per direction. */
  private countWeird(flow: TlsFlow, weird: number): void {
    if (flow.weirdCounted) return;
    flow.weirdCounted = true;
    this.ctx.weirds.add(weird);
  }

  /**
   * Emits once both sides are settled (hello parsed or given up) and releases the flow: a ServerHello seen
   * before the client's last segment (a retransmission, reordering in the capture) still gets the
   * ClientHello's SNI. A side that never settles is reported at flow end.
   */
  private settle(flowId: number, flow: TlsFlow): void {
    if (flow.confirmDue && !flow.serviceConfirmed) {
      this.ctx.confirmService(flowId, 'ssl');
      flow.serviceConfirmed = true;
    }
    if (flow.client.state !== SIDE_PENDING && flow.server.state !== SIDE_PENDING) {
      this.flows.delete(flowId);
      this.emit(flowId, flow);
      this.ctx.release(flowId);
      this.keep(flow);
    }
  }

  /** The flow's record is out: its state, cleared, serves a later flow. */
  private keep(flow: TlsFlow): void {
    flow.reset();
    this.spare.give(flow);
  }

  private emit(flowId: number, flow: TlsFlow): void {
    if (!flow.hasClientHello && !flow.hasServerHello) return;
    this.ctx.emit(new TlsRecordObject(this.ctx.connId(flowId), flow));
  }
}

/**
 * A flow's tls record as a plain object (its prototype Object.prototype, as a literal's is), every field
 * assigned inside one constructor: V8 then sizes the object for all of them, whereas fields added to a
 * literal after it is made go to a property array made again as it grows. Fields in Zeek's ssl.log order;
 * an optional field the flow has no value for is left out, not set to undefined.
 */
const TlsRecordObject = function (this: TlsFlowRecord, id: ConnId, flow: TlsFlow) {
  const ch = flow.hasClientHello;
  const sh = flow.hasServerHello;
  setRecordHead(this, 'tls', 'ssl', flow.ts, id);
  if (flow.serverName !== undefined) this.server_name = flow.serverName;
  this.version = tlsVersionName(sh ? flow.serverVersion : flow.clientVersion);
  if (sh && flow.cipher >= 0) this.cipher = tlsCipherName(flow.cipher);
  if (flow.serverAlpn !== undefined) this.next_protocol = flow.serverAlpn;
  if (ch) {
    this.client_version = tlsVersionName(flow.clientVersion);
    if (flow.clientAlpn !== undefined) this.client_alpn = flow.clientAlpn;
    this.client_cipher_count = flow.clientCipherCount;
    if (flow.ja3 !== undefined) this.ja3 = flow.ja3;
  }
  if (flow.ja3s !== undefined) this.ja3s = flow.ja3s;
} as unknown as new (id: ConnId, flow: TlsFlow) => TlsFlowRecord;
TlsRecordObject.prototype = Object.prototype;
