/**
 * The TLS analyzer: one `tls` record per flow from the ClientHello and ServerHello (Zeek ssl.log names).
 * The record goes out when the ServerHello is parsed (and the ClientHello, if it is coming), or at flow end /
 * finish when only one hello was seen. Once it is out the flow is released: its later (encrypted) segments
 * are neither reassembled nor delivered.
 */
import { defineWeird } from '../../../decode/weirds.js';
import type { TlsRecord } from '../../records.js';
import type { AnalyzerContext, AppAnalyzer } from '../types.js';
import { parseClientHello, parseServerHello, parseSslv2ClientHello, parseSslv2ServerHello, type ClientHello, type HelloResult, type ServerHello } from './hello.js';
import { HelloSide, SIDE_FAILED, SIDE_PENDING, type HandshakeFound } from './hello-side.js';
import { ja3sString, ja3String, md5Hex } from './ja3.js';
import { tlsCipherName, tlsVersionName } from './names.js';
import { HANDSHAKE_CLIENT_HELLO, HANDSHAKE_SERVER_HELLO, SSLV2_CLIENT_HELLO, SSLV2_SERVER_HELLO } from './record-layer.js';

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

class TlsFlow {
  clientHello?: ClientHello;
  serverHello?: ServerHello;
  ts = 0;
  weirdCounted = false;
  /** A hello parsed: confirmService is due (called from settle, outside the hello callbacks). */
  confirmDue = false;
  serviceConfirmed = false;
  readonly client: HelloSide;
  readonly server: HelloSide;

  constructor(onFound: (flow: TlsFlow, fromOrig: boolean, m: HandshakeFound) => void, onFailed: (flow: TlsFlow, weird: number) => void) {
    this.client = new HelloSide((m) => onFound(this, true, m), (w) => onFailed(this, w));
    this.server = new HelloSide((m) => onFound(this, false, m), (w) => onFailed(this, w));
  }
}

export class TlsAnalyzer implements AppAnalyzer {
  /** Flows whose record is not out yet. */
  private readonly flows = new Map<number, TlsFlow>();
  /** Capture time of the bytes being parsed (the hello callbacks run synchronously inside onStream). */
  private now = 0;
  private readonly found = (flow: TlsFlow, fromOrig: boolean, m: HandshakeFound): void => this.onHandshake(flow, fromOrig, m);
  private readonly failed = (flow: TlsFlow, weird: number): void => this.countWeird(flow, weird);

  constructor(private readonly ctx: AnalyzerContext) {}

  onStream(flowId: number, fromOrig: boolean, data: Buffer, offset: number, length: number, ts: number): void {
    const flow = this.flow(flowId);
    this.now = ts;
    (fromOrig ? flow.client : flow.server).data(data, offset, length);
    this.settle(flowId, flow);
  }

  onGap(flowId: number, fromOrig: boolean): void {
    const flow = this.flow(flowId);
    (fromOrig ? flow.client : flow.server).gap();
    this.settle(flowId, flow);
  }

  /** What the hellos gave (a hello kept behind a hole was looked at in the flush before this). */
  onFlowEnd(flowId: number): void {
    const flow = this.flows.get(flowId);
    if (flow === undefined) return;
    this.flows.delete(flowId);
    this.emit(flowId, flow);
  }

  advance(_now: number): void {
    // Nothing expires on its own: a flow's hellos wait for the flow's end.
  }

  finish(): void {
    for (const [flowId, flow] of this.flows) this.emit(flowId, flow);
    this.flows.clear();
  }

  private flow(flowId: number): TlsFlow {
    let flow = this.flows.get(flowId);
    if (flow === undefined) {
      flow = new TlsFlow(this.found, this.failed);
      this.flows.set(flowId, flow);
    }
    return flow;
  }

  private onHandshake(flow: TlsFlow, fromOrig: boolean, m: HandshakeFound): void {
    const expected = fromOrig ? (m.sslv2 ? SSLV2_CLIENT_HELLO : HANDSHAKE_CLIENT_HELLO) : m.sslv2 ? SSLV2_SERVER_HELLO : HANDSHAKE_SERVER_HELLO;
    if (m.msgType !== expected) {
      this.countWeird(flow, W_SSL_UNEXPECTED_HANDSHAKE);
      (fromOrig ? flow.client : flow.server).state = SIDE_FAILED;
      return;
    }
    if (fromOrig) {
      const parsed = (m.sslv2 ? parseSslv2ClientHello : parseClientHello)(m.buf, m.offset, m.length);
      if (this.accept(flow, fromOrig, parsed)) {
        flow.clientHello = parsed.hello;
        flow.ts = this.now;
      }
    } else {
      const parsed = (m.sslv2 ? parseSslv2ServerHello : parseServerHello)(m.buf, m.offset, m.length);
      if (this.accept(flow, fromOrig, parsed)) {
        flow.serverHello = parsed.hello;
        if (flow.clientHello === undefined) flow.ts = this.now;
      }
    }
  }

  private accept<T>(flow: TlsFlow, fromOrig: boolean, parsed: HelloResult<T>): parsed is { status: 'ok'; hello: T } {
    if (parsed.status === 'ok') {
      flow.confirmDue = true;
      return true;
    }
    this.countWeird(flow, parsed.weird);
    (fromOrig ? flow.client : flow.server).state = SIDE_FAILED;
    return false;
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
    }
  }

  private emit(flowId: number, flow: TlsFlow): void {
    const ch = flow.clientHello;
    const sh = flow.serverHello;
    if (ch === undefined && sh === undefined) return;
    const record: TlsFlowRecord = { type: 'tls', ts: flow.ts, ...this.ctx.connId(flowId) };
    if (ch?.serverName !== undefined) record.server_name = ch.serverName;
    if (sh !== undefined) record.version = tlsVersionName(sh.version);
    else if (ch !== undefined) record.version = tlsVersionName(ch.maxVersion);
    if (sh !== undefined && sh.cipher >= 0) record.cipher = tlsCipherName(sh.cipher);
    if (sh?.alpn !== undefined) record.next_protocol = sh.alpn;
    if (ch !== undefined) {
      record.client_version = tlsVersionName(ch.maxVersion);
      if (ch.alpn.length > 0) record.client_alpn = ch.alpn;
      record.client_cipher_count = ch.cipherSuites.length;
      if (!ch.sslv2) record.ja3 = md5Hex(ja3String(ch));
    }
    if (sh !== undefined && !sh.sslv2) record.ja3s = md5Hex(ja3sString(sh));
    this.ctx.emit(record);
  }
}
