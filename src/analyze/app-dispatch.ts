import { IPPROTO_TCP, IPPROTO_UDP, type Packet } from '../decode/packet.js';
import type { AppAnalyzer, AppContext, AppRegistration } from './apps/types.js';
import { growU8 } from './flows/flow-table.js';

const UNDECIDED = 0;
const NO_APP = 255;

/**
 * Hands each flow's payload to the application analyzer that claims it: by port first (either side),
 * else by the analyzers' probes on the first payload. The choice is made once per flow.
 */
export class AppDispatch {
  readonly analyzers: AppAnalyzer[];
  readonly names: string[];
  private readonly tcpPorts = new Uint8Array(65536);
  private readonly udpPorts = new Uint8Array(65536);
  private readonly probes: Array<{ index: number; probe: NonNullable<AppRegistration['probe']> }> = [];
  /** Per flow: 0 undecided, 255 none, else analyzer index + 1. */
  private appOf = new Uint8Array(0);
  /** Packets handed to each analyzer. */
  readonly packets: Float64Array;

  constructor(registrations: readonly AppRegistration[], ctx: AppContext) {
    if (registrations.length >= NO_APP) throw new Error('too many application analyzers');
    this.analyzers = registrations.map((r) => r.create(ctx));
    this.names = registrations.map((r) => r.name);
    this.packets = new Float64Array(registrations.length);
    registrations.forEach((r, i) => {
      for (const port of r.tcpPorts ?? []) if (this.tcpPorts[port] === 0) this.tcpPorts[port] = i + 1;
      for (const port of r.udpPorts ?? []) if (this.udpPorts[port] === 0) this.udpPorts[port] = i + 1;
      if (r.probe) this.probes.push({ index: i + 1, probe: r.probe });
    });
  }

  grow(capacity: number): void {
    this.appOf = growU8(this.appOf, capacity);
  }

  /** A new flow starts undecided. */
  reset(flow: number): void {
    this.appOf[flow] = UNDECIDED;
  }

  deliver(flow: number, flowId: number, fromOrig: boolean, pkt: Packet): void {
    let app = this.appOf[flow];
    if (app === UNDECIDED) {
      app = this.choose(pkt);
      this.appOf[flow] = app;
    }
    if (app === NO_APP || app === UNDECIDED) return;
    this.packets[app - 1]++;
    this.analyzers[app - 1].onPayload(flowId, fromOrig, pkt);
  }

  flowEnded(flow: number, flowId: number): void {
    const app = this.appOf[flow];
    if (app !== UNDECIDED && app !== NO_APP) this.analyzers[app - 1].onFlowEnd(flowId);
    this.appOf[flow] = UNDECIDED;
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
