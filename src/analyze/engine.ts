import { FRAME_ELSEWHERE, FRAME_KEPT, META_CAPLEN, META_IFACE, META_OFFSET, META_STRIDE, META_WIRELEN, type PacketBatch } from '../capture/batch.js';
import { Dissector } from '../decode/dissector.js';
import { Packet } from '../decode/packet.js';
import type { ProtocolRegistration } from '../decode/registry.js';
import { FragmentReassembler } from '../decode/ip-fragments.js';
import { AppDispatch } from './app-dispatch.js';
import { FlowWeirds, NO_FLOW } from './flow-weirds.js';
import { openConnRows, selectOpenFlows, type OpenFlowFilter } from './flows/open-flows.js';
import type { RecordRows } from './record-rows.js';
import type { AppContext, AppFlowFacts, AppRegistration } from './apps/types.js';
import { DEFAULT_MAX_FLOWS, type PageRelease } from './flows/flow-table.js';
import { connIdOf, ConnView } from './flows/conn-record.js';
import type { FlowOwnerLookup } from './flows/flow-owners.js';
import { Connections, DEFAULT_TIMEOUTS, isFromOrig, isNewFlow, updatedFlow, type FlowEndReason, type FlowTimeouts } from './flows/connections.js';
import type { LoopyRecord, SummaryRecord } from './records.js';
export type { FlowEndReason } from './flows/connections.js';

/**
 * Seconds of capture time between sweeps of the flow table for timeouts: a flow's record leaves within a
 * second of its timeout, and a live agent gives back a burst's pages within a second of its last flows' end
 * (UDP's, a minute after the burst; every two seconds, the agent's reading a minute on came before it about
 * half the time). A sweep is one pass over typed columns.
 */
const FLOW_SWEEP_INTERVAL = 1;

export interface EngineOptions {
  protocols: readonly ProtocolRegistration[];
  apps: readonly AppRegistration[];
  maxFlows?: number;
  timeouts?: Partial<FlowTimeouts>;
  /**
   * Gives back the pages a burst of flows touched once most of them have ended (FlowTable.releaseSparse,
   * after a sweep, moving the flows whose state is all in columns down first): the agent passes the capture
   * addon's madvise. Without it a file's records keep the order the flows' slots give them.
   */
  releaseFlowPages?: PageRelease;
}

/**
 * What a stage beside the engine wants to hear (statistics, detection, outputs), registered with `observe`
 * after construction. Flow events come once per flow, never per packet; `flow` indexes `engine.connections`.
 */
export interface EngineObserver {
  /** A flow started; its first packet is in `pkt`. */
  onFlowStart?(flow: number, pkt: Packet): void;
  /** Just before a flow's state is dropped, or restarted at an active timeout. */
  onFlowEnd?(flow: number, reason: FlowEndReason): void;
  /**
   * Every record as it leaves the engine (and those `emit`ted beside it, such as alerts); conn records only
   * when the observer has no `onConn` and does not set `connRecords: false`.
   */
  onRecord?(record: LoopyRecord): void;
  /**
   * A flow's conn record is due: read its fields from the view (reused; valid during the call), or
   * `conn.record()` for the object. The record object is made only when someone asks for it, so a
   * consumer that keeps columns (the history store) costs no object and no string per flow.
   */
  onConn?(conn: ConnView): void;
  /** false: onRecord never receives conn records (the observer reads flows through onFlowEnd instead). */
  connRecords?: boolean;
  /** Capture time moved on (about once a second of capture time, or on `tick`): time-driven work. */
  onAdvance?(now: number): void;
  /** End of input: flows, transactions and weirds are reported; the summary is still to come. */
  onFinish?(now: number): void;
  /**
   * Decoder layers by name ('arp', 'icmp', 'icmpv6'...), called each time that layer is decoded, with the
   * reused Packet (copy what you keep). For packets no flow carries, such as ARP.
   */
  layers?: Readonly<Record<string, (pkt: Packet) => void>>;
}

/**
 * The engine: batches in, records and flow events out to its observers. Pure apart from them: time is the
 * capture time of the packets, so a capture file replays exactly the same way every time. Runs on the packet
 * loop: nothing here allocates per packet or does I/O.
 */
/** Interfaces counted one by one (an agent captures on a few; `-i any` is one). */
export const MAX_COUNTED_INTERFACES = 256;

export class Engine {
  /** Weirds by name, and those of flows by flow (their records carry the flow's uid and id.*). */
  readonly weirds = new FlowWeirds();
  readonly connections: Connections;
  private readonly dissector: Dissector;
  private readonly apps: AppDispatch;
  private readonly pkt = new Packet();
  private readonly fragments = new FragmentReassembler(this.weirds);
  /**
   * By flow slot: the service an analyzer confirmed, as 1 + its index in serviceNames (0: none). A column, not
   * an array of strings: its pages go back after a burst (FlowTable.ownColumns), and the collector never
   * visits it. The names are the analyzers' constants, a handful.
   */
  private serviceCodes = new Uint16Array(0);
  private readonly serviceNames: string[] = [];
  private readonly flowStartObservers: Array<(flow: number, pkt: Packet) => void> = [];
  private readonly flowEndObservers: Array<(flow: number, reason: FlowEndReason) => void> = [];
  private readonly recordObservers: Array<(record: LoopyRecord) => void> = [];
  /** Who hears of a closed flow, in registration order: onConn, or onRecord given the record. */
  private readonly connObservers: Array<(conn: ConnView) => void> = [];
  private readonly connView: ConnView;
  private readonly advanceObservers: Array<(now: number) => void> = [];
  private readonly finishObservers: Array<(now: number) => void> = [];

  packets = 0;
  bytes = 0;
  /** Packets and wire bytes by capture interface index (the batch's), the first MAX_COUNTED_INTERFACES of them. */
  readonly interfacePackets = new Float64Array(MAX_COUNTED_INTERFACES);
  readonly interfaceBytes = new Float64Array(MAX_COUNTED_INTERFACES);
  /**
   * The capture clock: the times of the input's first and latest frames — with several engines sharing it
   * (FRAME_ELSEWHERE), another engine's frames too, so every engine's clock is the one a single engine has.
   */
  firstTs = Number.NaN;
  lastTs = Number.NaN;
  dnsTransactions = 0;
  private readonly linkTypePackets = new Map<number, number>();
  private nextSweep = Number.NaN;
  /** Bytes of the flow table's columns given back after bursts (releaseFlowPages). */
  flowPagesReleased = 0;
  private readonly releaseFlowPages: PageRelease | undefined;
  private lastFlowSweep = Number.NaN;

  constructor(options: EngineOptions) {
    this.connections = new Connections(options.maxFlows ?? DEFAULT_MAX_FLOWS, { ...DEFAULT_TIMEOUTS, ...options.timeouts }, (flow, reason) => this.flowEnded(flow, reason));
    this.connView = new ConnView(this.connections);
    this.releaseFlowPages = options.releaseFlowPages;
    const ctx: AppContext = {
      emit: (record) => {
        if (record.type === 'dns') this.dnsTransactions++;
        this.emit(record);
      },
      connId: (flowId) => {
        const flow = this.connections.table.flowOf(flowId);
        if (flow < 0) throw new Error(`flow ${flowId} has ended`);
        return connIdOf(this.connections, flow);
      },
      confirmService: (flowId, service) => {
        const flow = this.connections.table.flowOf(flowId);
        if (flow >= 0) this.serviceCodes[flow] = this.serviceCode(service);
      },
      limitIdle: (flowId, seconds) => {
        const flow = this.connections.table.flowOf(flowId);
        if (flow >= 0) this.connections.limitIdle(flow, seconds);
      },
      weirds: this.weirds,
    };
    this.apps = new AppDispatch(options.apps, ctx);
    this.connections.table.ownColumns((resize) => {
      this.serviceCodes = resize(this.serviceCodes);
      this.apps.columns(resize);
    });
    this.connections.table.onMove((moves) => {
      this.apps.follow(moves);
      this.weirds.follow(moves);
    });
    this.dissector = new Dissector(options.protocols, this.weirds, (pkt) => this.onTransport(pkt), this.fragments);
  }

  /** Registers what an observer wants to hear; from the next packet on. */
  observe(observer: EngineObserver): void {
    const o = observer;
    if (o.onFlowStart) this.flowStartObservers.push(o.onFlowStart.bind(o));
    if (o.onFlowEnd) this.flowEndObservers.push(o.onFlowEnd.bind(o));
    if (o.onRecord) this.recordObservers.push(o.onRecord.bind(o));
    if (o.onConn) this.connObservers.push(o.onConn.bind(o));
    else if (o.onRecord && o.connRecords !== false) {
      const onRecord = o.onRecord.bind(o);
      this.connObservers.push((conn) => onRecord(conn.record()));
    }
    if (o.onAdvance) this.advanceObservers.push(o.onAdvance.bind(o));
    if (o.onFinish) this.finishObservers.push(o.onFinish.bind(o));
    for (const [name, fn] of Object.entries(o.layers ?? {})) this.dissector.observe(name, fn);
  }

  /** Hands a record to every record observer, as if the engine had made it (alerts, from detection). */
  emit(record: LoopyRecord): void {
    const observers = this.recordObservers;
    for (let i = 0; i < observers.length; i++) observers[i](record);
  }

  /**
   * Runs every packet of the batch, or only those whose `keep` byte is FRAME_KEPT (a capture filter's verdict);
   * FRAME_ELSEWHERE frames (another engine's) only move the clock.
   */
  processBatch(batch: PacketBatch, keep?: Uint8Array): void {
    const { data, meta, ts, linkTypes } = batch;
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const pkt = this.pkt;
    for (let i = 0; i < batch.count; i++) {
      if (keep !== undefined && keep[i] !== FRAME_KEPT) {
        if (keep[i] === FRAME_ELSEWHERE) this.passTime(ts[i]);
        continue;
      }
      const m = i * META_STRIDE;
      const time = ts[i];
      const wirelen = meta[m + META_WIRELEN];
      const iface = meta[m + META_IFACE];
      const linkType = linkTypes[iface] ?? -1;
      this.packets++;
      this.bytes += wirelen;
      if (iface < MAX_COUNTED_INTERFACES) {
        this.interfacePackets[iface]++;
        this.interfaceBytes[iface] += wirelen;
      }
      this.passTime(time);
      this.countLinkType(linkType);
      pkt.reset(data, view, meta[m + META_OFFSET], meta[m + META_CAPLEN], wirelen, time, linkType, iface);
      this.dissector.dissect(pkt);
    }
    this.weirds.drain();
  }

  /**
   * Live capture: wall-clock time passes even when no packet arrives. Call about once a second so idle flows
   * and unanswered DNS queries are reported on time.
   */
  tick(now: number): void {
    this.weirds.drain();
    if (now >= this.nextSweep || Number.isNaN(this.nextSweep)) this.advance(now);
    else for (const observer of this.advanceObservers) observer(now);
  }

  /** A frame's time moves the capture clock: sweeps run at the first frame past each second. */
  private passTime(time: number): void {
    if (time >= this.nextSweep) this.advance(time);
    else if (Number.isNaN(this.nextSweep)) this.nextSweep = time + 1;
    if (Number.isNaN(this.firstTs)) this.firstTs = time;
    this.lastTs = time;
  }

  /**
   * Who owns the local ends of flows (the agent's process attribution): asked once per flow when its conn
   * record is due. Undefined (files): records carry no processes.
   */
  setOwnerLookup(lookup: FlowOwnerLookup | undefined): void {
    this.connView.ownerLookup = lookup;
  }

  /** The service an application analyzer confirmed for a live flow. */
  serviceOf(flow: number): string | undefined {
    const code = this.serviceCodes[flow];
    return code === 0 ? undefined : this.serviceNames[code - 1];
  }

  /** 1 + the index of `service` among the names seen (a handful: analyzers confirm constants); 0 past 65,535. */
  private serviceCode(service: string): number {
    let i = this.serviceNames.indexOf(service);
    if (i < 0 && this.serviceNames.length < 0xffff) i = this.serviceNames.push(service) - 1;
    return i + 1;
  }

  /** What the analyzer of a live flow learned of it beyond its records (SSH logins...), if anything. */
  appFactsOf(flow: number): AppFlowFacts | undefined {
    return this.apps.factsOf(flow);
  }

  /** Capture time moved on: expire flows and pending application state. */
  private advance(now: number): void {
    this.nextSweep = now + 1;
    // Flow timeouts are 5 s or more: a sweep of the whole table every FLOW_SWEEP_INTERVAL is on time and cheap.
    if (!(now - this.lastFlowSweep < FLOW_SWEEP_INTERVAL)) {
      this.lastFlowSweep = now;
      this.connections.sweep(now);
      if (this.releaseFlowPages !== undefined) this.flowPagesReleased += this.connections.table.releaseSparse(this.releaseFlowPages, this.movable);
    }
    this.fragments.expire(now);
    for (const app of this.apps.analyzers) app.advance(now);
    for (const observer of this.advanceObservers) observer(now);
  }

  /**
   * Whether a compaction may move the flow (FlowTable.releaseSparse): analyzers know a flow by its id, so
   * only one no analyzer holds state of, or whose analyzer follows a move (AppAnalyzer.onFlowMoved); the
   * weirds waiting for its end follow it (FlowWeirds.follow).
   */
  private readonly movable = (flow: number): boolean => this.apps.canMove(flow);

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
    const update = conns.update(pkt);
    if (update < 0) return;
    const flow = updatedFlow(update);
    if (isNewFlow(update)) {
      this.apps.reset(flow);
      this.serviceCodes[flow] = 0;
      const observers = this.flowStartObservers;
      for (let i = 0; i < observers.length; i++) observers[i](flow, pkt);
    }
    const flowId = conns.table.flowId(flow);
    // What the flow's analyzer finds wrong now is this flow's weird.
    this.weirds.enterFlow(flowId, pkt.ts);
    this.apps.deliver(flow, flowId, isFromOrig(update), pkt);
    this.weirds.enterFlow(NO_FLOW, pkt.ts);
  }

  private flowEnded(flow: number, reason: FlowEndReason): void {
    for (const observer of this.flowEndObservers) observer(flow, reason);
    const flowId = this.connections.table.flowId(flow);
    if (reason !== 'active') {
      // A flow may end while another's packet is handled (a new SYN on its 4-tuple): that flow's again after.
      const outer = this.weirds.enterFlow(flowId, this.lastTs);
      this.apps.flowEnded(flow, flowId);
      this.weirds.enterFlow(outer, this.lastTs);
    }
    const observers = this.connObservers;
    if (observers.length > 0) {
      this.connView.set(flow, this.serviceOf(flow));
      for (let i = 0; i < observers.length; i++) observers[i](this.connView);
    }
    this.reportFlowWeirds(flow, flowId);
  }

  /** The flow's weirds of this report period, one record per name, after its conn record (rare: off the common path). */
  private reportFlowWeirds(flow: number, flowId: number): void {
    const weirds = this.weirds.take(flowId);
    if (weirds.length === 0) return;
    const id = connIdOf(this.connections, flow);
    for (const w of weirds) this.emit({ type: 'weird', _path: 'weird', ts: w.ts, ...id, name: w.name, count: w.count });
  }

  /**
   * The flows still open that a query asks for (see selectOpenFlows), newest first, each as the JSON of the
   * conn record of what it did so far with `"open":true` last, written from the columns (a query asks; the
   * packet loop never does). Nothing ends, and no record object is made.
   */
  openConnRows(filter: OpenFlowFilter): RecordRows {
    return openConnRows(this.connections, selectOpenFlows(this.connections, filter), (flow) => this.serviceOf(flow));
  }

  /** End of input, a part at a time: ends up to `limit` open flows; true once none is left (see finish). */
  finishFlows(limit: number): boolean {
    return this.connections.finishSome(limit);
  }

  /**
   * The weirds no flow took since the last report, one record per name with its count (live, once a minute:
   * an agent's weird.log gets them as they come, not when it stops; a file, at its end).
   */
  reportWeirdsWithoutFlow(now: number): void {
    for (const weird of this.weirds.takeWithoutFlow()) this.emit({ type: 'weird', _path: 'weird', ts: now, name: weird.name, count: weird.count });
  }

  /**
   * End of input: reports every flow, pending transaction and weird, lets the observers finish (detection
   * closes its alerts), then the summary.
   */
  finish(): SummaryRecord {
    this.connections.finishAll();
    for (const app of this.apps.analyzers) app.finish();
    const now = Number.isNaN(this.lastTs) ? 0 : this.lastTs;
    this.reportWeirdsWithoutFlow(now);
    for (const observer of this.finishObservers) observer(now);
    const summary = this.summary();
    this.emit(summary);
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
