/**
 * The DNS application analyzer: UDP datagrams are one message each; TCP arrives reassembled (the dispatch's
 * stream adapter) and is framed per direction (tcp-framing.ts). Every parsed message goes to the optional onMessage hook (for detectors) and,
 * for the opcodes Zeek tracks (QUERY, NOTIFY, UPDATE), to the transaction table that emits dns records.
 */
import { defineWeird } from '../../../decode/weirds.js';
import type { AnalyzerContext, AppAnalyzer } from '../types.js';
import { parseDnsMessage, type DnsMessage } from './message.js';
import { DnsTcpFraming, type DnsTcpHandlers } from './tcp-framing.js';
import { DEFAULT_MAX_PENDING, DEFAULT_QUERY_TIMEOUT, DnsTransactions } from './transactions.js';
import { OPCODE } from './type-names.js';

const W_DNS_TCP_CONTENT_GAP = defineWeird('dns_tcp_content_gap');
const W_DNS_TCP_BAD_LENGTH = defineWeird('dns_tcp_bad_length');
const W_DNS_TCP_TRUNCATED_MESSAGE = defineWeird('dns_tcp_truncated_message');

export type DnsMessageHook = (msg: DnsMessage, flowId: number, fromOrig: boolean, ts: number) => void;

export interface DnsAnalyzerOptions {
  /** Called for every message that parsed at least its header (msg.error says whether it parsed whole). */
  onMessage?: DnsMessageHook;
  /** Seconds of capture time an unanswered query waits before it is reported (default 10). */
  queryTimeout?: number;
  /** Unanswered queries kept at most, over all flows (default 100 000). */
  maxPending?: number;
}

interface FlowState {
  confirmed: boolean;
  /** TCP only: each direction's framing, from its first delivery on. */
  orig: DnsTcpFraming | null;
  resp: DnsTcpFraming | null;
}

export class DnsAnalyzer implements AppAnalyzer {
  private readonly flows = new Map<number, FlowState>();
  readonly transactions: DnsTransactions;
  private readonly onMessage: DnsMessageHook | undefined;

  constructor(private readonly ctx: AnalyzerContext, options: DnsAnalyzerOptions = {}) {
    this.onMessage = options.onMessage;
    this.transactions = new DnsTransactions(
      { connId: (flowId) => ctx.connId(flowId), emit: (record) => ctx.emit(record) },
      options.queryTimeout ?? DEFAULT_QUERY_TIMEOUT,
      options.maxPending ?? DEFAULT_MAX_PENDING,
    );
  }

  onDatagram(flowId: number, fromOrig: boolean, data: Buffer, offset: number, length: number, ts: number): void {
    this.handle(flowId, fromOrig, data, offset, length, ts);
  }

  onStream(flowId: number, fromOrig: boolean, data: Buffer, offset: number, length: number, ts: number): void {
    this.framing(flowId, fromOrig).data(data, offset, length, ts);
  }

  onGap(flowId: number, fromOrig: boolean): void {
    this.framing(flowId, fromOrig).gap();
  }

  onFlowEnd(flowId: number): void {
    const flow = this.flows.get(flowId);
    flow?.orig?.end();
    flow?.resp?.end();
    this.transactions.flowEnd(flowId);
    this.flows.delete(flowId);
  }

  advance(now: number): void {
    this.transactions.advance(now);
  }

  finish(): void {
    for (const flow of this.flows.values()) {
      flow.orig?.end();
      flow.resp?.end();
    }
    this.flows.clear();
    this.transactions.finish();
  }

  private flow(flowId: number): FlowState {
    let flow = this.flows.get(flowId);
    if (!flow) this.flows.set(flowId, (flow = { confirmed: false, orig: null, resp: null }));
    return flow;
  }

  /** A TCP direction's framing, made on its first delivery (or gap). */
  private framing(flowId: number, fromOrig: boolean): DnsTcpFraming {
    const flow = this.flow(flowId);
    const existing = fromOrig ? flow.orig : flow.resp;
    if (existing !== null) return existing;
    const framing = new DnsTcpFraming(this.tcpHandlers(flowId, fromOrig), this.ctx.joinedMidStream(flowId, fromOrig));
    if (fromOrig) flow.orig = framing;
    else flow.resp = framing;
    return framing;
  }

  private tcpHandlers(flowId: number, fromOrig: boolean): DnsTcpHandlers {
    const weirds = this.ctx.weirds;
    return {
      probe: (buf, offset, length) => {
        const r = parseDnsMessage(buf, offset, length);
        return r.ok ? r.msg.length : -1;
      },
      message: (buf, offset, length, ts) => this.handle(flowId, fromOrig, buf, offset, length, ts),
      lost: (kind) => weirds.add(kind === 'gap' ? W_DNS_TCP_CONTENT_GAP : kind === 'bad_length' ? W_DNS_TCP_BAD_LENGTH : W_DNS_TCP_TRUNCATED_MESSAGE),
    };
  }

  private handle(flowId: number, fromOrig: boolean, buf: Buffer, offset: number, length: number, ts: number): void {
    const r = parseDnsMessage(buf, offset, length);
    const weirds = this.ctx.weirds;
    if (!r.ok) weirds.add(defineWeird(r.weird));
    const msg = r.msg;
    if (!msg) return;
    for (const w of msg.weirds) weirds.add(defineWeird(w));
    const flow = this.flow(flowId);
    if (r.ok && !flow.confirmed) {
      flow.confirmed = true;
      this.ctx.confirmService(flowId, 'dns');
    }
    this.onMessage?.(msg, flowId, fromOrig, ts);
    // A header followed by bytes that are not questions is more likely not DNS at all: no transaction.
    if (msg.questions.length < msg.qdcount) return;
    if (msg.opcode !== OPCODE.QUERY && msg.opcode !== OPCODE.NOTIFY && msg.opcode !== OPCODE.UPDATE) return;
    if (msg.qr) this.transactions.response(flowId, ts, msg);
    else this.transactions.query(flowId, ts, msg);
  }
}
