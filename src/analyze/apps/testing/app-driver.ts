/**
 * Test stand-in for the engine, for hand-built packets: drives one registration's analyzer through the real
 * AppDispatch, as the engine does (claim by port, the TCP stream adapter, the flush at flow end, release), so
 * analyzer tests start from bytes on the wire and see exactly what the engine would hand the analyzer.
 * Flow ids are small numbers that double as flow-table slots. (Capture files go through the real engine:
 * see capture-run.ts.)
 */
import { IPPROTO_TCP, type Packet } from '../../../decode/packet.js';
import { AppDispatch } from '../../app-dispatch.js';
import type { AnalyzerContext, AppAnalyzer, AppContext, AppRegistration } from '../types.js';
import { grownTo } from '../../flows/flow-table.js';

/** The client's port on packets that carry none the registration claims. */
const CLIENT_PORT = 40000;

export class AppDriver<A extends AppAnalyzer> {
  readonly analyzer: A;
  private readonly dispatch: AppDispatch;
  private readonly registration: Omit<AppRegistration, 'create'>;
  private readonly live = new Set<number>();

  /** `create` stands for the registration's own (typed, for the test to look into the analyzer). */
  constructor(ctx: AppContext, registration: Omit<AppRegistration, 'create'>, create: (ctx: AnalyzerContext) => A) {
    let created: A | undefined;
    this.registration = registration;
    this.dispatch = new AppDispatch([{ ...registration, create: (c) => (created = create(c)) }], ctx);
    this.analyzer = created as A;
  }

  /**
   * One packet of flow `flowId`. A packet whose ports the registration does not claim (hand-made packets
   * often have none) is given its first port on the responder's side, so the dispatch claims the flow.
   */
  packet(flowId: number, fromOrig: boolean, pkt: Packet): void {
    if (!this.live.has(flowId)) {
      this.live.add(flowId);
      this.dispatch.columns((column, perFlow = 1) => grownTo(column, (flowId + 1) * perFlow));
      this.dispatch.reset(flowId);
    }
    this.claimByPort(fromOrig, pkt);
    this.dispatch.deliver(flowId, flowId, fromOrig, pkt);
  }

  /** The flow ends as the engine ends it: its streams are flushed, then the analyzer's onFlowEnd. */
  end(flowId: number): void {
    if (!this.live.delete(flowId)) return;
    this.dispatch.flowEnded(flowId, flowId);
  }

  /** End of input as the engine does it: every live flow ends, then the analyzer's finish. */
  finish(): void {
    for (const flowId of [...this.live]) this.end(flowId);
    this.analyzer.finish();
  }

  private claimByPort(fromOrig: boolean, pkt: Packet): void {
    const ports = (pkt.transport === IPPROTO_TCP ? this.registration.tcpPorts : this.registration.udpPorts) ?? [];
    if (ports.length === 0 || ports.includes(pkt.srcPort) || ports.includes(pkt.dstPort)) return;
    pkt.srcPort = fromOrig ? CLIENT_PORT : ports[0];
    pkt.dstPort = fromOrig ? ports[0] : CLIENT_PORT;
  }
}
