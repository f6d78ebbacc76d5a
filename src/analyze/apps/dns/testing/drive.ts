/**
 * Test stand-in for the engine, for hand-built segments: a tiny flow table keyed by the 5-tuple (originator =
 * sender of the first packet) in front of the real dispatch (../../testing/app-driver.ts) and a DnsAnalyzer.
 * Records, confirmed services and weirds are collected for assertions. (Corpus captures go through the real
 * engine: see ../../testing/capture-run.ts.)
 */
import { IPPROTO_TCP, IPPROTO_UDP, Packet } from '../../../../decode/packet.js';
import { WeirdCounter } from '../../../../decode/weirds.js';
import type { ConnId, LoopyRecord } from '../../../records.js';
import { AppDriver } from '../../testing/app-driver.js';
import type { AppContext } from '../../types.js';
import { DnsAnalyzer, type DnsAnalyzerOptions } from '../analyzer.js';
import { makeDnsRegistration } from '../index.js';
import type { ObservedDnsMessage } from '../tshark-diff.js';

export interface Segment {
  ts: number;
  src: string;
  dst: string;
  proto: 'udp' | 'tcp';
  srcPort: number;
  dstPort: number;
  seq?: number;
  ack?: number;
  tcpFlags?: number;
  payload: Buffer;
  frame?: number;
}

interface FakeFlow {
  id: number;
  conn: ConnId;
  origKey: string;
}

export class FakeEngine {
  readonly records: LoopyRecord[] = [];
  readonly confirmed: number[] = [];
  readonly weirds = new WeirdCounter();
  readonly messages: (ObservedDnsMessage & { fromOrig: boolean; flowId: number; ts: number })[] = [];
  readonly analyzer: DnsAnalyzer;
  private readonly driver: AppDriver<DnsAnalyzer>;
  private readonly flows = new Map<string, FakeFlow>();
  private readonly byId = new Map<number, FakeFlow>();
  private readonly pkt = new Packet();
  private frame = 0;
  private current: Segment | null = null;

  constructor(options: Omit<DnsAnalyzerOptions, 'onMessage'> = {}) {
    const ctx: AppContext = {
      emit: (r) => this.records.push(r),
      connId: (flowId) => (this.byId.get(flowId) as FakeFlow).conn,
      confirmService: (flowId) => this.confirmed.push(flowId),
      limitIdle: () => {},
      weirds: this.weirds,
    };
    const analyzerOptions: DnsAnalyzerOptions = {
      ...options,
      onMessage: (msg, flowId, fromOrig, ts) => {
        const s = this.current as Segment;
        this.messages.push({ frame: this.frame, msg, src: s.src, dst: s.dst, fromOrig, flowId, ts });
      },
    };
    this.driver = new AppDriver(ctx, makeDnsRegistration(analyzerOptions), (c) => new DnsAnalyzer(c, analyzerOptions));
    this.analyzer = this.driver.analyzer;
  }

  /** One packet; returns the flow id it was given. */
  feed(s: Segment): number {
    this.frame = s.frame ?? this.frame + 1;
    const fwd = `${s.proto} ${s.src} ${s.srcPort} ${s.dst} ${s.dstPort}`;
    const rev = `${s.proto} ${s.dst} ${s.dstPort} ${s.src} ${s.srcPort}`;
    let flow = this.flows.get(fwd) ?? this.flows.get(rev);
    if (!flow) {
      const id = this.byId.size + 1;
      const conn: ConnId = { uid: `C${id}`, 'id.orig_h': s.src, 'id.orig_p': s.srcPort, 'id.resp_h': s.dst, 'id.resp_p': s.dstPort, proto: s.proto };
      flow = { id, conn, origKey: fwd };
      this.flows.set(fwd, flow);
      this.byId.set(id, flow);
    }
    const pkt = this.pkt;
    // The payload sits after 8 bytes of filler so that offsets other than 0 get exercised.
    const data = Buffer.concat([Buffer.alloc(8, 0xee), s.payload]);
    pkt.reset(data, new DataView(data.buffer, data.byteOffset, data.length), 0, data.length, data.length, s.ts, 1, 0);
    pkt.transport = s.proto === 'udp' ? IPPROTO_UDP : IPPROTO_TCP;
    pkt.srcPort = s.srcPort;
    pkt.dstPort = s.dstPort;
    pkt.seq = (s.seq ?? 0) >>> 0;
    pkt.ack = (s.ack ?? 0) >>> 0;
    pkt.tcpFlags = s.tcpFlags ?? 0;
    pkt.payloadOffset = 8;
    pkt.payloadLength = s.payload.length;
    pkt.payloadWireLength = s.payload.length;
    this.current = s;
    this.driver.packet(flow.id, flow.origKey === fwd, pkt);
    this.analyzer.advance(s.ts);
    return flow.id;
  }

  conn(flowId: number): ConnId {
    return (this.byId.get(flowId) as FakeFlow).conn;
  }

  end(flowId: number): void {
    this.driver.end(flowId);
  }

  finish(): void {
    this.driver.finish();
  }
}
