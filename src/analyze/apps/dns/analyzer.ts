/**
 * The DNS application analyzer: UDP datagrams are one message each; TCP is reassembled and framed per
 * direction (tcp-framing.ts). Every parsed message goes to the optional onMessage hook (for detectors) and,
 * for the opcodes Zeek tracks (QUERY, NOTIFY, UPDATE), to the transaction table that emits dns records.
 */
import { IPPROTO_TCP, IPPROTO_UDP, TCP_ACK, TCP_SYN, type Packet } from '../../../decode/packet.js';
import { defineWeird } from '../../../decode/weirds.js';
import type { AppContext, PacketAnalyzer } from '../types.js';
import { parseDnsMessage, type DnsMessage } from './message.js';
import { DnsTcpDirection, type DnsTcpHandlers } from './tcp-framing.js';
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
  orig: DnsTcpDirection | null;
  resp: DnsTcpDirection | null;
}

export class DnsAnalyzer implements PacketAnalyzer {
  private readonly flows = new Map<number, FlowState>();
  readonly transactions: DnsTransactions;
  private readonly onMessage: DnsMessageHook | undefined;
  /** Time of the packet being processed: TCP messages complete inside reassembler callbacks. */
  private now = 0;

  constructor(private readonly ctx: AppContext, options: DnsAnalyzerOptions = {}) {
    this.onMessage = options.onMessage;
    this.transactions = new DnsTransactions(
      { connId: (flowId) => ctx.connId(flowId), emit: (record) => ctx.emit(record) },
      options.queryTimeout ?? DEFAULT_QUERY_TIMEOUT,
      options.maxPending ?? DEFAULT_MAX_PENDING,
    );
  }

  onPayload(flowId: number, fromOrig: boolean, pkt: Packet): void {
    this.now = pkt.ts;
    if (pkt.transport === IPPROTO_UDP) {
      if (pkt.payloadLength > 0) this.handle(flowId, fromOrig, pkt.data, pkt.payloadOffset, pkt.payloadLength);
      return;
    }
    if (pkt.transport !== IPPROTO_TCP) return;
    const flow = this.flow(flowId);
    if (!flow.orig) {
      flow.orig = new DnsTcpDirection(this.tcpHandlers(flowId, true));
      flow.resp = new DnsTcpDirection(this.tcpHandlers(flowId, false));
    }
    const own = (fromOrig ? flow.orig : flow.resp) as DnsTcpDirection;
    const peer = (fromOrig ? flow.resp : flow.orig) as DnsTcpDirection;
    const syn = (pkt.tcpFlags & TCP_SYN) !== 0;
    if (syn) own.syn(pkt.seq);
    // Data on a SYN (TCP Fast Open) starts after the SYN's own sequence number.
    if (pkt.payloadLength > 0) own.segment(syn ? (pkt.seq + 1) >>> 0 : pkt.seq, pkt.data, pkt.payloadOffset, pkt.payloadLength);
    if (pkt.tcpFlags & TCP_ACK) peer.peerAcked(pkt.ack);
  }

  onFlowEnd(flowId: number): void {
    const flow = this.flows.get(flowId);
    if (flow) {
      flow.orig?.finish();
      flow.resp?.finish();
    }
    this.transactions.flowEnd(flowId);
    this.flows.delete(flowId);
  }

  advance(now: number): void {
    this.transactions.advance(now);
  }

  finish(): void {
    for (const flow of this.flows.values()) {
      flow.orig?.finish();
      flow.resp?.finish();
    }
    this.flows.clear();
    this.transactions.finish();
  }

  private flow(flowId: number): FlowState {
    let flow = this.flows.get(flowId);
    if (!flow) this.flows.set(flowId, (flow = { confirmed: false, orig: null, resp: null }));
    return flow;
  }

  /** Created once per direction of a TCP flow. */
  private tcpHandlers(flowId: number, fromOrig: boolean): DnsTcpHandlers {
    const weirds = this.ctx.weirds;
    return {
      probe: (buf, offset, length) => {
        const r = parseDnsMessage(buf, offset, length);
        return r.ok ? r.msg.length : -1;
      },
      message: (buf, offset, length) => this.handle(flowId, fromOrig, buf, offset, length),
      lost: (kind) => weirds.add(kind === 'gap' ? W_DNS_TCP_CONTENT_GAP : kind === 'bad_length' ? W_DNS_TCP_BAD_LENGTH : W_DNS_TCP_TRUNCATED_MESSAGE),
    };
  }

  private handle(flowId: number, fromOrig: boolean, buf: Buffer, offset: number, length: number): void {
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
    this.onMessage?.(msg, flowId, fromOrig, this.now);
    // A header followed by bytes that are not questions is more likely not DNS at all: no transaction.
    if (msg.questions.length < msg.qdcount) return;
    if (msg.opcode !== OPCODE.QUERY && msg.opcode !== OPCODE.NOTIFY && msg.opcode !== OPCODE.UPDATE) return;
    if (msg.qr) this.transactions.response(flowId, this.now, msg);
    else this.transactions.query(flowId, this.now, msg);
  }
}
