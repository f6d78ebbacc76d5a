/**
 * The HTTP analyzer: one `http` record per request/response pair (Zeek http.log names). Requests queue in
 * order and each final response answers the oldest one (pipelining is FIFO). A record goes out when its
 * response has ended (so its body length is known), or at flow end for requests never answered.
 *
 * Content gaps (segments the capture lost, given up on by the dispatch's TCP stream adapter: the peer's ACK
 * proved the loss, too much was kept, or the flow ended) are an http_content_gap weird each;
 * message-stream.ts decides what they cost. A message whose start was lost keeps the pairing in step: a lost request becomes a transaction
 * with no request fields (reported only if a response pairs with it), a lost response answers the oldest
 * request with no status.
 */
import { defineWeird } from '../../../decode/weirds.js';
import { FLOW_FREE_LIST_CAPACITY, FreeList } from '../../free-list.js';
import { setRecordHead, type ConnId } from '../../records.js';
import type { AnalyzerContext, AppAnalyzer } from '../types.js';
import { FRAME_TUNNEL, requestFraming, responseFraming } from './framing.js';
import { parseRequestHead, parseResponseHead, type RequestHead, type ResponseHead } from './head.js';
import { isRequestLine, isStatusLine } from './message-start.js';
import { HttpMessageStream, type MessageHandler } from './message-stream.js';
import type { HttpRecord } from './record.js';
import { moveEntry } from '../../flows/flow-table.js';

export type { HttpRecord } from './record.js';

const W_HTTP_TOO_MANY_PENDING = defineWeird('HTTP_excessive_pipelining');
/** The capture lost bytes of one direction (one per gap). */
export const W_HTTP_CONTENT_GAP = defineWeird('http_content_gap');
/** Requests waiting for a response, per flow; past it the oldest is reported unanswered (memory bound). */
const MAX_PENDING_REQUESTS = 100;

interface Transaction {
  ts: number;
  depth: number;
  request?: RequestHead;
  requestBodyLen: number;
  missedBytes: number;
  /** A request whose start a gap swallowed: reported only if a response pairs with it. */
  lost?: boolean;
}

interface Answer {
  tx: Transaction;
  head: ResponseHead;
  bodyLen: number;
  missedBytes: number;
}

/**
 * What the request stream tells its flow. A class with one field rather than a literal of closures: a flow's
 * state lives as long as the flow, and six closures a direction made it several times larger.
 */
class RequestEvents implements MessageHandler<RequestHead> {
  constructor(private readonly flow: HttpFlow) {}

  onHead(head: RequestHead): number {
    return this.flow.analyzer.onRequest(this.flow.flowId, this.flow, head);
  }

  onBody(n: number): void {
    const tx = this.flow.sending;
    if (tx) tx.requestBodyLen += n;
  }

  onBodyGap(n: number): void {
    const tx = this.flow.sending;
    if (tx === undefined) return;
    tx.requestBodyLen += n;
    tx.missedBytes += n;
  }

  onMessageEnd(): void {
    this.flow.sending = undefined;
  }

  onMessageLost(): void {
    this.flow.analyzer.onRequestLost(this.flow.flowId, this.flow);
  }

  onError(weird: number): void {
    this.flow.analyzer.onError(this.flow, weird);
  }
}

/** What the response stream tells its flow (see RequestEvents). */
class ResponseEvents implements MessageHandler<ResponseHead> {
  constructor(private readonly flow: HttpFlow) {}

  onHead(head: ResponseHead): number {
    return this.flow.analyzer.onResponse(this.flow.flowId, this.flow, head);
  }

  onBody(n: number): void {
    const answer = this.flow.answering;
    if (answer) answer.bodyLen += n;
  }

  onBodyGap(n: number): void {
    const answer = this.flow.answering;
    if (answer === undefined) return;
    answer.bodyLen += n;
    answer.missedBytes += n;
  }

  onMessageEnd(): void {
    this.flow.analyzer.onResponseEnd(this.flow.flowId, this.flow);
  }

  onMessageLost(): void {
    this.flow.analyzer.onResponseLost(this.flow.flowId, this.flow);
  }

  onError(weird: number): void {
    this.flow.analyzer.onError(this.flow, weird);
  }
}

class HttpFlow {
  readonly pending: Transaction[] = [];
  /** The request whose body is arriving now (it may already have been answered). */
  sending?: Transaction;
  /** The response being received, with the transaction it answers, until its body ends. */
  answering?: Answer;
  depth = 0;
  confirmed = false;
  /** Capture time of the segment being parsed (a kept segment's own time): what records are dated with. */
  ts = 0;
  readonly requests: HttpMessageStream<RequestHead>;
  readonly responses: HttpMessageStream<ResponseHead>;
  /** Which side sends requests: decided by the first data seen (see deliver). */
  private requestsFromOrig: boolean | undefined;
  /** Gaps met before the first data decided which side is which. */
  private origGapFirst = 0;
  private respGapFirst = 0;

  constructor(
    readonly analyzer: HttpAnalyzer,
    public flowId: number,
  ) {
    this.requests = new HttpMessageStream(parseRequestHead, isRequestLine, new RequestEvents(this));
    this.responses = new HttpMessageStream(parseResponseHead, isStatusLine, new ResponseEvents(this));
  }

  /** The flow ended and the state is kept for the next (see FreeList): nothing of this flow stays, buffers neither. */
  reset(): void {
    this.flowId = -1;
    this.pending.length = 0;
    this.sending = undefined;
    this.answering = undefined;
    this.depth = 0;
    this.confirmed = false;
    this.ts = 0;
    this.requests.reset();
    this.responses.reset();
    this.requestsFromOrig = undefined;
    this.origGapFirst = 0;
    this.respGapFirst = 0;
  }

  /** True unless the first data showed that the responder sends the requests. */
  get originatorSendsRequests(): boolean {
    return this.requestsFromOrig !== false;
  }

  /** The message stream fed by one side; undefined until the first data says which side is the client. */
  private messagesFrom(fromOrig: boolean): HttpMessageStream<unknown> | undefined {
    if (this.requestsFromOrig === undefined) return undefined;
    return fromOrig === this.requestsFromOrig ? this.requests : this.responses;
  }

  /**
   * End of the flow (what was kept behind holes came in first, requests first): heads cut short by the end
   * (a capture's snap length, a lost last segment) are reported as far as known.
   */
  end(): void {
    this.requests.end();
    this.responses.end();
  }

  gap(analyzer: HttpAnalyzer, fromOrig: boolean, bytes: number): void {
    const messages = this.messagesFrom(fromOrig);
    if (messages?.stopped) return;
    analyzer.countGap();
    if (messages !== undefined) messages.skipGap(bytes);
    else if (fromOrig) this.origGapFirst += bytes;
    else this.respGapFirst += bytes;
  }

  deliver(fromOrig: boolean, data: Buffer, offset: number, length: number, ts: number): void {
    this.ts = ts;
    if (this.requestsFromOrig === undefined) {
      // Whichever side speaks first with "HTTP/" is the server, even when the flow table (which saw some
      // other packet first) calls it the originator.
      const statusLine = length >= 5 && data[offset] === 0x48 && data[offset + 1] === 0x54 && data[offset + 2] === 0x54 && data[offset + 3] === 0x50 && data[offset + 4] === 0x2f;
      this.requestsFromOrig = statusLine ? !fromOrig : fromOrig;
      // A gap before any data was seen: its message stream learns of it now.
      if (this.origGapFirst > 0) this.requestsOrResponses(true).skipGap(this.origGapFirst);
      if (this.respGapFirst > 0) this.requestsOrResponses(false).skipGap(this.respGapFirst);
    }
    this.requestsOrResponses(fromOrig).feed(data, offset, length);
  }

  private requestsOrResponses(fromOrig: boolean): HttpMessageStream<unknown> {
    return fromOrig === this.requestsFromOrig ? this.requests : this.responses;
  }
}

export class HttpAnalyzer implements AppAnalyzer {
  private readonly flows = new Map<number, HttpFlow>();
  /** Flows' state kept from flows that ended, for the next ones (see FreeList). */
  private readonly spare = new FreeList<HttpFlow>(FLOW_FREE_LIST_CAPACITY);

  constructor(private readonly ctx: AnalyzerContext) {}

  onStream(flowId: number, fromOrig: boolean, data: Buffer, offset: number, length: number, ts: number): void {
    this.flow(flowId).deliver(fromOrig, data, offset, length, ts);
  }

  onGap(flowId: number, fromOrig: boolean, bytes: number): void {
    this.flow(flowId).gap(this, fromOrig, bytes);
  }

  /** Requests explain responses: the side that sends them is flushed first (the originator until known). */
  originatorFlushesFirst(flowId: number): boolean {
    return this.flows.get(flowId)?.originatorSendsRequests ?? true;
  }

  onFlowEnd(flowId: number): void {
    const flow = this.flows.get(flowId);
    if (flow === undefined) return;
    flow.end();
    this.flows.delete(flowId);
    // A response whose body ran to the close, or was cut short, ends here.
    if (flow.answering) this.onResponseEnd(flowId, flow);
    // A lost request that no response came for leaves nothing worth a record.
    for (const tx of flow.pending) if (!tx.lost) this.emit(flowId, tx);
    flow.reset();
    this.spare.give(flow);
  }

  /** Flows' state kept for the next flows (tests). */
  get spareFlows(): number {
    return this.spare.size;
  }

  advance(now: number): void {
    // Nothing expires on its own: open transactions are reported at the flow's end. Kept state no flow took goes.
    this.spare.settle(now);
  }

  finish(): void {
    for (const flowId of [...this.flows.keys()]) this.onFlowEnd(flowId);
  }

  onFlowMoved(oldId: number, newId: number): void {
    const flow = this.flows.get(oldId);
    if (flow === undefined) return;
    flow.flowId = newId;
    moveEntry(this.flows, oldId, newId);
  }

  private flow(flowId: number): HttpFlow {
    let flow = this.flows.get(flowId);
    if (flow === undefined) {
      flow = this.spare.take();
      if (flow === undefined) flow = new HttpFlow(this, flowId);
      else flow.flowId = flowId;
      this.flows.set(flowId, flow);
    }
    return flow;
  }

  /** @internal called by HttpFlow's request stream. */
  onRequest(flowId: number, flow: HttpFlow, head: RequestHead): number {
    this.confirm(flowId, flow);
    const tx: Transaction = { ts: flow.ts, depth: ++flow.depth, request: head, requestBodyLen: 0, missedBytes: 0 };
    flow.sending = tx;
    this.queue(flowId, flow, tx);
    return requestFraming(head);
  }

  /** @internal A request whose start a gap swallowed: a placeholder, so that its response pairs with it. */
  onRequestLost(flowId: number, flow: HttpFlow): void {
    this.queue(flowId, flow, { ts: flow.ts, depth: ++flow.depth, requestBodyLen: 0, missedBytes: 0, lost: true });
  }

  private queue(flowId: number, flow: HttpFlow, tx: Transaction): void {
    flow.pending.push(tx);
    if (flow.pending.length > MAX_PENDING_REQUESTS) {
      this.ctx.weirds.add(W_HTTP_TOO_MANY_PENDING);
      const oldest = flow.pending.shift() as Transaction;
      if (!oldest.lost) this.emit(flowId, oldest);
    }
  }

  /** @internal called by HttpFlow's response stream. */
  onResponse(flowId: number, flow: HttpFlow, head: ResponseHead): number {
    this.confirm(flowId, flow);
    const interim = head.statusCode >= 100 && head.statusCode < 200 && head.statusCode !== 101;
    // 1xx (100 Continue...) precede the final response to the same request: they pair with nothing.
    if (interim) return 0;
    const tx = flow.pending.shift() ?? { ts: flow.ts, depth: ++flow.depth, requestBodyLen: 0, missedBytes: 0 };
    flow.answering = { tx, head, bodyLen: 0, missedBytes: 0 };
    const framing = responseFraming(head, tx.request?.method);
    if (framing === FRAME_TUNNEL) {
      // The connection stops being HTTP: report this pair now and read nothing more of it.
      this.onResponseEnd(flowId, flow);
      flow.requests.stop();
      flow.responses.stop();
      this.ctx.release(flowId);
    }
    return framing;
  }

  /** @internal */
  onResponseEnd(flowId: number, flow: HttpFlow): void {
    const answering = flow.answering;
    if (answering === undefined) return;
    flow.answering = undefined;
    this.emit(flowId, answering.tx, answering);
  }

  /** @internal A response whose start a gap swallowed: the oldest request is answered by it, status unknown. */
  onResponseLost(flowId: number, flow: HttpFlow): void {
    const tx = flow.pending.shift();
    if (tx !== undefined && !tx.lost) this.emit(flowId, tx);
  }

  /** @internal called by HttpFlow for each content gap of a direction still read. */
  countGap(): void {
    this.ctx.weirds.add(W_HTTP_CONTENT_GAP);
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

  private emit(flowId: number, tx: Transaction, answer?: Answer): void {
    this.ctx.emit(new HttpRecordObject(this.ctx.connId(flowId), tx, answer));
  }
}

/**
 * A transaction's http record as a plain object (its prototype Object.prototype, as a literal's is), every
 * field assigned inside one constructor: V8 then sizes the object for all of them, whereas a spread and
 * fields added after it grow a property array as they go. Fields in Zeek's http.log order; an optional
 * field without a value is left out, not set to undefined.
 */
const HttpRecordObject = function (this: HttpRecord, id: ConnId, tx: Transaction, answer: Answer | undefined) {
  setRecordHead(this, 'http', 'http', tx.ts, id);
  this.trans_depth = tx.depth;
  this.request_body_len = tx.requestBodyLen;
  this.response_body_len = answer?.bodyLen ?? 0;
  const req = tx.request;
  if (req !== undefined) {
    this.method = req.method;
    if (req.host !== undefined) this.host = req.host;
    this.uri = req.uri;
    if (req.version !== undefined) this.version = req.version;
    if (req.userAgent !== undefined) this.user_agent = req.userAgent;
  }
  if (answer !== undefined) {
    this.status_code = answer.head.statusCode;
    this.status_msg = answer.head.statusMsg;
  }
  const missed = tx.missedBytes + (answer?.missedBytes ?? 0);
  if (missed > 0) this.missed_bytes = missed;
} as unknown as new (id: ConnId, tx: Transaction, answer: Answer | undefined) => HttpRecord;
HttpRecordObject.prototype = Object.prototype;
