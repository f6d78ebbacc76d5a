import { META_CAPLEN, META_IFACE, META_OFFSET, META_STRIDE, META_WIRELEN, type PacketBatch } from '../capture/batch.js';
import { Dissector } from '../decode/dissector.js';
import { Packet } from '../decode/packet.js';
import type { ProtocolRegistration } from '../decode/registry.js';
import { WeirdCounter } from '../decode/weirds.js';
import { FragmentReassembler } from '../decode/ip-fragments.js';
import { AppDispatch } from './app-dispatch.js';
import type { AppContext, AppRegistration } from './apps/types.js';
import { connIdOf, connRecordOf } from './flows/conn-record.js';
import { Connections, DEFAULT_TIMEOUTS, type FlowEndReason, type FlowTimeouts } from './flows/connections.js';
import type { LoopyRecord, SummaryRecord } from './records.js';
export type { FlowEndReason } from './flows/connections.js';

/** Seconds of capture time between sweeps of the flow table for timeouts. */
const FLOW_SWEEP_INTERVAL = 2;

export interface EngineOptions {
  protocols: readonly ProtocolRegistration[];
  apps: readonly AppRegistration[];
  /** Receives every record as it leaves the engine. */
  onRecord: (record: LoopyRecord) => void;
  maxFlows?: number;
  timeouts?: Partial<FlowTimeouts>;
  /**
   * Called when a flow starts (its first packet is in `pkt`) and just before a flow's state is dropped, with
   * the flow index into `engine.connections`' columns. For per-second statistics and detectors: once per
   * flow, never per packet.
   */
  onFlowStart?: (flow: number, pkt: Packet) => void;
  onFlowEnd?: (flow: number, reason: FlowEndReason) => void;
  /**
   * Callbacks by decoder name ('arp', 'icmp', 'tcp'...), called each time that layer is decoded, with the
   * reused Packet (copy what you keep). For detectors that need packets no flow carries, such as ARP.
   */
  layerObservers?: Readonly<Record<string, (pkt: Packet) => void>>;
}

/**
 * The engine: batches in, records out. Pure apart from the `onRecord` callback: time is the capture time
 * of the packets, so a capture file replays exactly the same way every time.
 */
export class Engine {
  readonly weirds = new WeirdCounter();
  readonly connections: Connections;
  private readonly dissector: Dissector;
  private readonly apps: AppDispatch;
  private readonly pkt = new Packet();
  private readonly fragments = new FragmentReassembler(this.weirds);
  private readonly services: Array<string | undefined> = [];
  private readonly onRecord: (record: LoopyRecord) => void;
  private readonly onFlowStart?: (flow: number, pkt: Packet) => void;
  private readonly onFlowEnd?: (flow: number, reason: FlowEndReason) => void;

  packets = 0;
  bytes = 0;
  firstTs = Number.NaN;
  lastTs = Number.NaN;
  dnsTransactions = 0;
  private readonly linkTypePackets = new Map<number, number>();
  private nextSweep = Number.NaN;
  private lastFlowSweep = Number.NaN;

  constructor(options: EngineOptions) {
    this.onRecord = options.onRecord;
    this.onFlowStart = options.onFlowStart;
    this.onFlowEnd = options.onFlowEnd;
    this.connections = new Connections(options.maxFlows ?? 262_144, { ...DEFAULT_TIMEOUTS, ...options.timeouts }, (flow, reason) => this.flowEnded(flow, reason));
    const ctx: AppContext = {
      emit: (record) => {
        if (record.type === 'dns') this.dnsTransactions++;
        this.onRecord(record);
      },
      connId: (flowId) => {
        const flow = this.connections.table.flowOf(flowId);
        if (flow < 0) throw new Error(`flow ${flowId} has ended`);
        return connIdOf(this.connections, flow);
      },
      confirmService: (flowId, service) => {
        const flow = this.connections.table.flowOf(flowId);
        if (flow >= 0) this.services[flow] = service;
      },
      weirds: this.weirds,
    };
    this.apps = new AppDispatch(options.apps, ctx);
    this.connections.table.onGrow((n) => this.apps.grow(n));
    this.dissector = new Dissector(options.protocols, this.weirds, (pkt) => this.onTransport(pkt), this.fragments, options.layerObservers);
  }

  /** Runs every packet of the batch, or only those whose `keep` byte is non-zero (a capture filter's verdict). */
  processBatch(batch: PacketBatch, keep?: Uint8Array): void {
    const { data, meta, ts, linkTypes } = batch;
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const pkt = this.pkt;
    for (let i = 0; i < batch.count; i++) {
      if (keep !== undefined && keep[i] === 0) continue;
      const m = i * META_STRIDE;
      const time = ts[i];
      const wirelen = meta[m + META_WIRELEN];
      const iface = meta[m + META_IFACE];
      const linkType = linkTypes[iface] ?? -1;
      this.packets++;
      this.bytes += wirelen;
      if (!(time >= this.nextSweep)) {
        if (Number.isNaN(this.firstTs)) {
          this.firstTs = time;
          this.nextSweep = time + 1;
        }
      } else {
        this.advance(time);
      }
      this.lastTs = time;
      this.countLinkType(linkType);
      pkt.reset(data, view, meta[m + META_OFFSET], meta[m + META_CAPLEN], wirelen, time, linkType, iface);
      this.dissector.dissect(pkt);
    }
  }

  /**
   * Live capture: wall-clock time passes even when no packet arrives. Call about once a second so idle flows
   * and unanswered DNS queries are reported on time.
   */
  tick(now: number): void {
    if (now >= this.nextSweep || Number.isNaN(this.nextSweep)) this.advance(now);
  }

  /** The service an application analyzer confirmed for a live flow. */
  serviceOf(flow: number): string | undefined {
    return this.services[flow];
  }

  /** Capture time moved on: expire flows and pending application state. */
  private advance(now: number): void {
    this.nextSweep = now + 1;
    // Flow timeouts are 5 s or more: a sweep of the whole table every few seconds is on time and cheap.
    if (!(now - this.lastFlowSweep < FLOW_SWEEP_INTERVAL)) {
      this.lastFlowSweep = now;
      this.connections.sweep(now);
    }
    this.fragments.expire(now);
    for (const app of this.apps.analyzers) app.advance(now);
  }

  private lastLinkType = -2;
  private lastLinkTypeCount = 0;

  /** Counts per link type without a Map update per packet (runs of one link type are the norm). */
  private countLinkType(linkType: number): void {
    if (linkType === this.lastLinkType) {
      this.lastLinkTypeCount++;
      return;
    }
    this.flushLinkTypeCount();
    this.lastLinkType = linkType;
    this.lastLinkTypeCount = 1;
  }

  private flushLinkTypeCount(): void {
    if (this.lastLinkTypeCount > 0) {
      this.linkTypePackets.set(this.lastLinkType, (this.linkTypePackets.get(this.lastLinkType) ?? 0) + this.lastLinkTypeCount);
      this.lastLinkTypeCount = 0;
    }
  }

  private onTransport(pkt: Packet): void {
    if (pkt.ipVersion === 0) return;
    const conns = this.connections;
    const flow = conns.update(pkt);
    if (flow < 0) return;
    if (conns.table.lastCreated) {
      this.apps.reset(flow);
      this.services[flow] = undefined;
      this.onFlowStart?.(flow, pkt);
    }
    this.apps.deliver(flow, conns.table.flowId(flow), conns.fromOrig, pkt);
  }

  private flowEnded(flow: number, reason: FlowEndReason): void {
    this.onFlowEnd?.(flow, reason);
    if (reason !== 'active') this.apps.flowEnded(flow, this.connections.table.flowId(flow));
    this.onRecord(connRecordOf(this.connections, flow, this.services[flow]));
  }

  /** End of input: reports every flow and pending transaction, then the weirds and the summary. */
  finish(): SummaryRecord {
    this.connections.finishAll();
    for (const app of this.apps.analyzers) app.finish();
    for (const weird of this.weirds.list()) this.onRecord({ type: 'weird', name: weird.name, count: weird.count });
    const summary = this.summary();
    this.onRecord(summary);
    return summary;
  }

  summary(): SummaryRecord {
    this.flushLinkTypeCount();
    const protocols: Record<string, number> = { ...this.dissector.layerCounts() };
    this.apps.names.forEach((name, i) => {
      if (this.apps.packets[i] > 0) protocols[name] = this.apps.packets[i];
    });
    const linkTypes: Record<string, number> = {};
    for (const [type, count] of this.linkTypePackets) linkTypes[String(type)] = count;
    const unsupported: Record<string, number> = {};
    for (const [type, count] of this.dissector.unsupportedLinkTypes) unsupported[String(type)] = count;
    const weirds: Record<string, number> = {};
    for (const w of this.weirds.list()) weirds[w.name] = w.count;
    return {
      type: 'summary',
      packets: this.packets,
      bytes: this.bytes,
      first_ts: Number.isNaN(this.firstTs) ? null : this.firstTs,
      last_ts: Number.isNaN(this.lastTs) ? null : this.lastTs,
      link_types: linkTypes,
      protocols,
      weirds,
      unsupported_link_types: unsupported,
      flows: this.connections.flowsCreated,
      flows_evicted: this.connections.flowsEvicted,
      dns_transactions: this.dnsTransactions,
    };
  }
}
