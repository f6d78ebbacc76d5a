/**
 * The HTTP analyzer: one `http` record per request/response pair (Zeek http.log names). Requests queue in
 * order and each final response answers the oldest one (pipelining is FIFO). A record goes out when its
 * response has ended (so its body length is known), or at flow end for requests never answered.
 */
import { TCP_SYN, type Packet } from '../../../decode/packet.js';
import { defineWeird } from '../../../decode/weirds.js';
import type { ConnId } from '../../records.js';
import type { AppAnalyzer, AppContext } from '../types.js';
import { StreamReassembler } from '../stream.js';
import { FRAME_TUNNEL, requestFraming, responseFraming } from './framing.js';
import { parseRequestHead, parseResponseHead, type RequestHead, type ResponseHead } from './head.js';
import { HttpMessageStream } from './message-stream.js';

const W_HTTP_TOO_MANY_PENDING = defineWeird('http_too_many_pending_requests');
/** Requests waiting for a response, per flow; past it the oldest is reported unanswered (memory bound). */
const MAX_PENDING_REQUESTS = 100;

/** A type alias of mapped/literal types (not an interface) so that it fits LoopyRecord's open record shape. */
export type HttpRecord = Pick<ConnId, keyof ConnId> & {
  type: 'http';
  /** Time of the request (of the response when no request was seen). */
  ts: number;
  /** 1 for the connection's first transaction, 2 for the next... */
  trans_depth: number;
  method?: string;
  host?: string;
  uri?: string;
  version?: string;
  user_agent?: string;
  /** Body bytes (after de-chunking) as Zeek counts them. */
  request_body_len: number;
  response_body_len: number;
  status_code?: number;
  status_msg?: string;
};

interface Transaction {
  ts: number;
  depth: number;
  request?: RequestHead;
  requestBodyLen: number;
}

class HttpFlow {
  readonly pending: Transaction[] = [];
  /** The request whose body is arriving now (it may already have been answered). */
  sending?: Transaction;
  /** The response being received, with the transaction it answers, until its body ends. */
  answering?: { tx: Transaction; head: ResponseHead; bodyLen: number };
  depth = 0;
  confirmed = false;
  readonly requests: HttpMessageStream<RequestHead>;
  readonly responses: HttpMessageStream<ResponseHead>;
  readonly origStream: StreamReassembler;
  readonly respStream: StreamReassembler;
  /** Which side sends requests: decided by the first data seen (see deliver). */
  private requestsFromOrig: boolean | undefined;
  /** gapBytes of each reassembler already reported to the message streams. */
  private origGap = 0;
  private respGap = 0;

  constructor(analyzer: HttpAnalyzer, flowId: number) {
    this.requests = new HttpMessageStream(parseRequestHead, {
      onHead: (head) => analyzer.onRequest(flowId, this, head),
      onBody: (n) => {
        if (this.sending) this.sending.requestBodyLen += n;
      },
      onMessageEnd: () => (this.sending = undefined),
      onError: (weird) => analyzer.onError(this, weird),
    });
    this.responses = new HttpMessageStream(parseResponseHead, {
      onHead: (head) => analyzer.onResponse(flowId, this, head),
      onBody: (n) => {
        if (this.answering) this.answering.bodyLen += n;
      },
      onMessageEnd: () => analyzer.onResponseEnd(flowId, this),
      onError: (weird) => analyzer.onError(this, weird),
    });
    this.origStream = new StreamReassembler((data, offset, length) => this.deliver(true, data, offset, length));
    this.respStream = new StreamReassembler((data, offset, length) => this.deliver(false, data, offset, length));
  }

  /** The message stream fed by one side; undefined until the first data says which side is the client. */
  messagesFrom(fromOrig: boolean): HttpMessageStream<unknown> | undefined {
    if (this.requestsFromOrig === undefined) return undefined;
    return fromOrig === this.requestsFromOrig ? this.requests : this.responses;
  }

  private deliver(fromOrig: boolean, data: Buffer, offset: number, length: number): void {
    if (this.requestsFromOrig === undefined) {
      // Whichever side speaks first with "HTTP/" is the server, even when the flow table (which saw some
      // other packet first) calls it the originator.
      const statusLine = length >= 5 && data[offset] === 0x48 && data[offset + 1] === 0x54 && data[offset + 2] === 0x54 && data[offset + 3] === 0x50 && data[offset + 4] === 0x2f;
      this.requestsFromOrig = statusLine ? !fromOrig : fromOrig;
    }
    const messages = fromOrig === this.requestsFromOrig ? this.requests : this.responses;
    // The reassembler skipped bytes it never got: tell the message stream before the data after them.
    const gap = (fromOrig ? this.origStream : this.respStream).gapBytes;
    const reported = fromOrig ? this.origGap : this.respGap;
    if (gap !== reported) {
      messages.skipGap(gap - reported);
      if (fromOrig) this.origGap = gap;
      else this.respGap = gap;
    }
    messages.feed(data, offset, length);
  }
}

export class HttpAnalyzer implements AppAnalyzer {
  private readonly flows = new Map<number, HttpFlow>();
  /** Capture time of the packet being handled (the reassembler calls back synchronously). */
  private now = 0;

  constructor(private readonly ctx: AppContext) {}

  onPayload(flowId: number, fromOrig: boolean, pkt: Packet): void {
    let flow = this.flows.get(flowId);
    if (flow === undefined) {
      flow = new HttpFlow(this, flowId);
      this.flows.set(flowId, flow);
    }
    const stream = fromOrig ? flow.origStream : flow.respStream;
    if (pkt.tcpFlags & TCP_SYN) stream.setInitialSequence(pkt.seq);
    if (pkt.payloadLength === 0 || flow.messagesFrom(fromOrig)?.stopped) return;
    this.now = pkt.ts;
    // Data on a SYN (TCP Fast Open) starts one after the SYN's own sequence number.
    const seq = pkt.tcpFlags & TCP_SYN ? (pkt.seq + 1) >>> 0 : pkt.seq;
    stream.push(seq, pkt.data, pkt.payloadOffset, pkt.payloadLength);
  }

  onFlowEnd(flowId: number): void {
    const flow = this.flows.get(flowId);
    if (flow === undefined) return;
    this.flows.delete(flowId);
    // A response whose body ran to the close, or was cut short, ends here.
    if (flow.answering) this.onResponseEnd(flowId, flow);
    for (const tx of flow.pending) this.emit(flowId, tx, undefined, 0);
  }

  advance(_now: number): void {
    // Nothing expires on its own: open transactions are reported at the flow's end.
  }

  finish(): void {
    for (const flowId of [...this.flows.keys()]) this.onFlowEnd(flowId);
  }

  /** @internal called by HttpFlow's request stream. */
  onRequest(flowId: number, flow: HttpFlow, head: RequestHead): number {
    this.confirm(flowId, flow);
    const tx: Transaction = { ts: this.now, depth: ++flow.depth, request: head, requestBodyLen: 0 };
    flow.pending.push(tx);
    flow.sending = tx;
    if (flow.pending.length > MAX_PENDING_REQUESTS) {
      this.ctx.weirds.add(W_HTTP_TOO_MANY_PENDING);
      this.emit(flowId, flow.pending.shift() as Transaction, undefined, 0);
    }
    return requestFraming(head);
  }

  /** @internal called by HttpFlow's response stream. */
  onResponse(flowId: number, flow: HttpFlow, head: ResponseHead): number {
    this.confirm(flowId, flow);
    const interim = head.statusCode >= 100 && head.statusCode < 200 && head.statusCode !== 101;
    // 1xx (100 Continue...) precede the final response to the same request: they pair with nothing.
    if (interim) return 0;
    const tx = flow.pending.shift() ?? { ts: this.now, depth: ++flow.depth, requestBodyLen: 0 };
    flow.answering = { tx, head, bodyLen: 0 };
    const framing = responseFraming(head, tx.request?.method);
    if (framing === FRAME_TUNNEL) {
      // The connection stops being HTTP: report this pair now and parse nothing more.
      this.onResponseEnd(flowId, flow);
      flow.requests.stop();
      flow.responses.stop();
    }
    return framing;
  }

  /** @internal */
  onResponseEnd(flowId: number, flow: HttpFlow): void {
    const answering = flow.answering;
    if (answering === undefined) return;
    flow.answering = undefined;
    this.emit(flowId, answering.tx, answering.head, answering.bodyLen);
  }

  /**
   * @internal Framing lost in one direction: that direction stops (the stream has stopped itself). The other
   * goes on, since its framing does not depend on this one: responses still pair with the requests queued
   * before the loss and then come out alone; requests still come out, without a response.
   */
  onError(_flow: HttpFlow, weird: number): void {
    this.ctx.weirds.add(weird);
  }

  private confirm(flowId: number, flow: HttpFlow): void {
    if (flow.confirmed) return;
    flow.confirmed = true;
    this.ctx.confirmService(flowId, 'http');
  }

  private emit(flowId: number, tx: Transaction, response: ResponseHead | undefined, responseBodyLen: number): void {
    const req = tx.request;
    const record: HttpRecord = { type: 'http', ts: tx.ts, ...this.ctx.connId(flowId), trans_depth: tx.depth, request_body_len: tx.requestBodyLen, response_body_len: responseBodyLen };
    if (req !== undefined) {
      record.method = req.method;
      if (req.host !== undefined) record.host = req.host;
      record.uri = req.uri;
      if (req.version !== undefined) record.version = req.version;
      if (req.userAgent !== undefined) record.user_agent = req.userAgent;
    }
    if (response !== undefined) {
      record.status_code = response.statusCode;
      record.status_msg = response.statusMsg;
    }
    this.ctx.emit(record);
  }
}
