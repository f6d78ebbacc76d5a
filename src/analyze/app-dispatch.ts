/**
 * Hands each flow to the application analyzer that claims it: by port first (either side), else by the
 * analyzers' probes on the first payload; the choice is made once per flow. UDP payloads go to the analyzer
 * datagram by datagram; TCP goes through the one TCP stream adapter (tcp-stream-adapter.ts), so that
 * analyzers read byte streams and never reassemble. An analyzer may release a flow it is done with: the flow
 * then costs a typed-array check per packet.
 *
 * Runs on the packet loop: no allocation per packet (none at all for UDP), no I/O, never throws on traffic.
 */
import { IPPROTO_TCP, IPPROTO_UDP, type Packet } from '../decode/packet.js';
import { MAX_PENDING_BYTES } from './apps/stream.js';
import type { AnalyzerContext, AppAnalyzer, AppContext, AppFlowFacts, AppRegistration } from './apps/types.js';
import { type ColumnResize, FLOW_SLOTS, type FlowMoves } from './flows/flow-table.js';
import { TcpStreamAdapter } from './tcp-stream-adapter.js';

const UNDECIDED = 0;
const NO_APP = 255;

export class AppDispatch {
  readonly analyzers: AppAnalyzer[];
  readonly names: string[];
  private readonly maxPendingBytes: number[];
  /** Per analyzer: its UDP flows' inactivity limit in seconds (AppRegistration.udpIdleTimeout), or 0. */
  private readonly udpIdleTimeouts: number[];
  private readonly tcpPorts = new Uint8Array(65536);
  private readonly udpPorts = new Uint8Array(65536);
  private readonly probes: Array<{ index: number; probe: NonNullable<AppRegistration['probe']> }> = [];
  private readonly streams = new TcpStreamAdapter();
  /** Per flow: 0 undecided, 255 none, else analyzer index + 1. */
  private appOf = new Uint8Array(0);
  /** Per flow: 1 once its analyzer released it. */
  private released = new Uint8Array(0);
  /** Per flow: the id of the flow its analyzer was chosen for (analyzers name flows by id). */
  private flowIds = new Float64Array(0);
  /** Packets handed to each analyzer (a released flow's packets still count: the flow is still its). */
  readonly packets: Float64Array;

  constructor(registrations: readonly AppRegistration[], private readonly ctx: AppContext) {
    if (registrations.length >= NO_APP) throw new Error('too many application analyzers');
    this.analyzers = registrations.map((r, i) => r.create(this.contextFor(ctx, i + 1)));
    this.names = registrations.map((r) => r.name);
    this.maxPendingBytes = registrations.map((r) => r.maxPendingBytes ?? MAX_PENDING_BYTES);
    this.udpIdleTimeouts = registrations.map((r) => r.udpIdleTimeout ?? 0);
    this.packets = new Float64Array(registrations.length);
    registrations.forEach((r, i) => {
      for (const port of r.tcpPorts ?? []) if (this.tcpPorts[port] === 0) this.tcpPorts[port] = i + 1;
      for (const port of r.udpPorts ?? []) if (this.udpPorts[port] === 0) this.udpPorts[port] = i + 1;
      if (r.probe) this.probes.push({ index: i + 1, probe: r.probe });
    });
  }

  /** Hands the columns to the flow table (FlowTable.ownColumns): a free slot's are zeros (undecided). */
  columns(resize: ColumnResize): void {
    this.appOf = resize(this.appOf);
    this.released = resize(this.released);
    this.flowIds = resize(this.flowIds);
    this.streams.columns(resize);
  }

  /** A new flow starts undecided (the flow that had its index before ended through flowEnded, streams and all). */
  reset(flow: number): void {
    this.appOf[flow] = UNDECIDED;
    this.released[flow] = 0;
  }

  deliver(flow: number, flowId: number, fromOrig: boolean, pkt: Packet): void {
    let app = this.appOf[flow];
    if (app === UNDECIDED) {
      app = this.choose(pkt);
      this.appOf[flow] = app;
      this.flowIds[flow] = flowId;
      if (app !== NO_APP && app !== UNDECIDED && pkt.transport === IPPROTO_UDP && this.udpIdleTimeouts[app - 1] > 0) this.ctx.limitIdle(flowId, this.udpIdleTimeouts[app - 1]);
    }
    if (app === NO_APP || app === UNDECIDED) return;
    this.packets[app - 1]++;
    if (this.released[flow] === 1) return;
    const analyzer = this.analyzers[app - 1];
    if (pkt.transport === IPPROTO_TCP) this.streams.segment(flow, flowId, fromOrig, pkt, analyzer, this.maxPendingBytes[app - 1]);
    else if (pkt.payloadLength > 0) analyzer.onDatagram?.(flowId, fromOrig, pkt.data, pkt.payloadOffset, pkt.payloadLength, pkt.ts);
  }

  /**
   * True when the flow may move to another slot and id (FlowTable.onMove): no analyzer holds state of it
   * (none chosen yet, none claims it, or its analyzer released it and forgets what it releases), or its
   * analyzer follows a move (onFlowMoved).
   */
  canMove(flow: number): boolean {
    const app = this.appOf[flow];
    return this.holdsNothing(flow, app) || this.analyzers[app - 1].onFlowMoved !== undefined;
  }

  /** A compaction moved flows (FlowTable.onMove; the columns moved with them): their analyzers and streams follow. */
  follow(moves: FlowMoves): void {
    for (let i = 0; i < moves.count; i++) {
      const to = moves.to[i];
      const app = this.appOf[to];
      this.flowIds[to] = moves.newIds[i];
      if (this.holdsNothing(to, app)) continue;
      this.analyzers[app - 1].onFlowMoved!(moves.oldIds[i], moves.newIds[i]);
      this.streams.follow(moves.from[i], to, moves.newIds[i]);
    }
  }

  /** No analyzer holds state of the flow: none chosen yet, none claims it, or its analyzer released it and forgot it. */
  private holdsNothing(flow: number, app: number): boolean {
    if (app === UNDECIDED || app === NO_APP) return true;
    return this.released[flow] === 1 && this.analyzers[app - 1].forgetsOnRelease === true;
  }

  /** What the flow's analyzer learned of it beyond its records (AppAnalyzer.factsOf), while it lives. */
  factsOf(flow: number): AppFlowFacts | undefined {
    const app = this.appOf[flow];
    if (app === UNDECIDED || app === NO_APP) return undefined;
    return this.analyzers[app - 1].factsOf?.(this.flowIds[flow]);
  }

  /** The flow ended: its TCP streams are flushed into the analyzer, then the analyzer hears of the end. */
  flowEnded(flow: number, flowId: number): void {
    const app = this.appOf[flow];
    if (app !== UNDECIDED && app !== NO_APP) {
      this.streams.end(flow);
      this.analyzers[app - 1].onFlowEnd(flowId);
    }
    this.appOf[flow] = UNDECIDED;
    this.released[flow] = 0;
  }

  /** What analyzer `app` (index + 1) is created with: the engine's context and a say over its own flows. */
  private contextFor(ctx: AppContext, app: number): AnalyzerContext {
    return {
      emit: (record) => ctx.emit(record),
      connId: (flowId) => ctx.connId(flowId),
      confirmService: (flowId, service) => ctx.confirmService(flowId, service),
      limitIdle: (flowId, seconds) => ctx.limitIdle(flowId, seconds),
      weirds: ctx.weirds,
      release: (flowId) => {
        const flow = this.flowOf(app, flowId);
        if (flow < 0) return;
        this.released[flow] = 1;
        this.streams.release(flow);
      },
      joinedMidStream: (flowId, fromOrig) => {
        const flow = this.flowOf(app, flowId);
        return flow >= 0 && this.streams.joinedMidStream(flow, flowId, fromOrig);
      },
    };
  }

  /** The index of a live flow analyzer `app` was given, by its id (the flow table's slot, see FLOW_SLOTS); else -1. */
  private flowOf(app: number, flowId: number): number {
    const flow = flowId % FLOW_SLOTS;
    return flow < this.appOf.length && this.appOf[flow] === app && this.flowIds[flow] === flowId ? flow : -1;
  }

  private choose(pkt: Packet): number {
    const ports = pkt.transport === IPPROTO_TCP ? this.tcpPorts : pkt.transport === IPPROTO_UDP ? this.udpPorts : undefined;
    if (ports === undefined) return NO_APP;
    const byPort = ports[pkt.dstPort] || ports[pkt.srcPort];
    if (byPort !== 0) return byPort;
    // No payload yet (a SYN, a bare ACK): decide on the first packet that has some.
    if (pkt.payloadLength === 0) return UNDECIDED;
    for (const { index, probe } of this.probes) {
      if (probe(pkt.data, pkt.payloadOffset, pkt.payloadLength, pkt.transport)) return index;
    }
    return NO_APP;
  }
}
