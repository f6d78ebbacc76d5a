/**
 * The DNS application analyzer: UDP datagrams are one message each; TCP arrives reassembled (the dispatch's
 * stream adapter) and is framed per direction (tcp-framing.ts). Every parsed message goes to the optional onMessage hook (for detectors) and,
 * for the opcodes Zeek tracks (QUERY, NOTIFY, UPDATE), to the transaction table that emits dns records.
 *
 * On the packet loop a message is parsed in place into the analyzer's one DnsWire (offsets, counts, no
 * strings); the strings a record holds are read from the bytes when the record is made. Per flow it keeps
 * objects only for DNS over TCP (the framing of each direction); the flow's service is the engine's to keep
 * (confirmService, by slot), told again at each message that parses whole.
 */
import { defineWeird } from '../../../decode/weirds.js';
import type { AnalyzerContext, AppAnalyzer } from '../types.js';
import { DnsWire, parseDnsMessage, type DnsMessage } from './message.js';
import { DnsTcpFraming, type DnsTcpHandlers } from './tcp-framing.js';
import { DEFAULT_MAX_PENDING, DEFAULT_QUERY_TIMEOUT, DnsTransactions } from './transactions.js';
import { OPCODE } from './type-names.js';

const W_DNS_TCP_CONTENT_GAP = defineWeird('dns_tcp_content_gap');
const W_DNS_TCP_BAD_LENGTH = defineWeird('dns_tcp_bad_length');
const W_DNS_TCP_TRUNCATED_MESSAGE = defineWeird('dns_tcp_truncated_message');

export type DnsMessageHook = (msg: DnsMessage, flowId: number, fromOrig: boolean, ts: number) => void;

export interface DnsAnalyzerOptions {
  /** Called for every message that parsed at least its header (msg.error says whether it parsed whole); it costs a second parse into objects. */
  onMessage?: DnsMessageHook;
  /** Seconds of capture time an unanswered query waits before it is reported (default 10). */
  queryTimeout?: number;
  /** Unanswered queries kept at most, over all flows (default 100 000). */
  maxPending?: number;
}

/** TCP only: each direction's framing, from its first delivery on. */
interface TcpFlow {
  orig: DnsTcpFraming | null;
  resp: DnsTcpFraming | null;
}

export class DnsAnalyzer implements AppAnalyzer {
  private readonly tcpFlows = new Map<number, TcpFlow>();
  private readonly wire = new DnsWire();
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
    const tcp = this.tcpFlows.get(flowId);
    if (tcp !== undefined) {
      tcp.orig?.end();
      tcp.resp?.end();
      this.tcpFlows.delete(flowId);
    }
    this.transactions.flowEnd(flowId);
  }

  advance(now: number): void {
    this.transactions.advance(now);
  }

  finish(): void {
    for (const flow of this.tcpFlows.values()) {
      flow.orig?.end();
      flow.resp?.end();
    }
    this.tcpFlows.clear();
    this.transactions.finish();
  }

  /** A TCP direction's framing, made on its first delivery (or gap). */
  private framing(flowId: number, fromOrig: boolean): DnsTcpFraming {
    let flow = this.tcpFlows.get(flowId);
    if (flow === undefined) this.tcpFlows.set(flowId, (flow = { orig: null, resp: null }));
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
        const w = this.wire;
        const whole = w.parse(buf, offset, length) && w.error < 0;
        w.release();
        return whole ? w.length : -1;
      },
      message: (buf, offset, length, ts) => this.handle(flowId, fromOrig, buf, offset, length, ts),
      lost: (kind) => weirds.add(kind === 'gap' ? W_DNS_TCP_CONTENT_GAP : kind === 'bad_length' ? W_DNS_TCP_BAD_LENGTH : W_DNS_TCP_TRUNCATED_MESSAGE),
    };
  }

  private handle(flowId: number, fromOrig: boolean, buf: Buffer, offset: number, length: number, ts: number): void {
    this.onParsed(flowId, fromOrig, this.wire.parse(buf, offset, length), ts);
    this.wire.release(); // the packet's bytes are not the analyzer's to keep
  }

  /** The message just parsed into this.wire (`parsed`: at least its header). */
  private onParsed(flowId: number, fromOrig: boolean, parsed: boolean, ts: number): void {
    const w = this.wire;
    const weirds = this.ctx.weirds;
    if (w.error >= 0) weirds.add(w.error);
    if (!parsed) return;
    for (let i = 0; i < w.weirdCount; i++) weirds.add(w.weirds[i]);
    if (w.error < 0) this.ctx.confirmService(flowId, 'dns');
    if (this.onMessage !== undefined) {
      // Objects for the hook, from a parse of its own (this.wire is left as it is).
      this.onMessage(parseDnsMessage(w.buf, w.start, w.end - w.start).msg as DnsMessage, flowId, fromOrig, ts);
    }
    // A header followed by bytes that are not questions is more likely not DNS at all: no transaction.
    if (w.questionCount < w.qdcount) return;
    const opcode = w.opcode;
    if (opcode !== OPCODE.QUERY && opcode !== OPCODE.NOTIFY && opcode !== OPCODE.UPDATE) return;
    if (w.qr) this.transactions.response(flowId, ts, w);
    else this.transactions.query(flowId, ts, w);
  }
}
