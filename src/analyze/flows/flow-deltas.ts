/**
 * What every flow did since it was last read, for whoever counts per second (statistics, detection): the
 * flow table already counts packets and IP bytes per flow and direction, so a pass reads those columns
 * against one last-seen copy and hands each flow that moved to the consumers. A flow that ends between two
 * passes is read one last time at its end, before its counters go, so nothing is lost and nothing is counted
 * twice. One pass serves every consumer: none keeps a copy of its own.
 *
 * Never per packet: a pass reads the flows that counted a packet since the last (the table marks them:
 * MovedFlows), run when a consumer asks for one (a statistics roll, a detection second), plus one read per
 * flow at its end.
 */
import type { Packet } from '../../decode/packet.js';
import type { Connections, FlowEndReason } from './connections.js';
import type { MovedFlows } from './moved-flows.js';

export interface FlowDeltaConsumer {
  /**
   * The flow moved: packets and IP bytes from its originator and from its responder since the last read.
   * Called during a pass, and at the flow's end (then `ending` is true).
   */
  onFlowDelta(flow: number, origPkts: number, origBytes: number, respPkts: number, respBytes: number, ending: boolean): void;
}

export class FlowDeltas {
  /** Per flow direction (flow * 2 + 0 originator, 1 responder): the counters already handed out. */
  private seenPkts = new Float64Array(0);
  private seenBytes = new Float64Array(0);
  /** Per flow: 1 after an active timeout, whose counters restart at zero: the next read counts from zero. */
  private restarted = new Uint8Array(0);
  private readonly consumers: FlowDeltaConsumer[] = [];
  /** The table's marks of moved flows: this pass is their one taker (one FlowDeltas a table: the pipeline's). */
  private readonly moved: MovedFlows;

  constructor(private readonly conns: Connections) {
    this.moved = conns.movedFlows();
    conns.table.ownColumns((resize) => {
      this.seenPkts = resize(this.seenPkts, 2);
      this.seenBytes = resize(this.seenBytes, 2);
      this.restarted = resize(this.restarted);
    });
    // Made late, it starts from what the live flows have already counted: that belongs to no pass of ours.
    const { table, pkts, ipBytes } = conns;
    for (let flow = 0; flow < table.extent; flow++) {
      if (!table.isLive(flow)) continue;
      for (let d = flow * 2; d < flow * 2 + 2; d++) {
        this.seenPkts[d] = pkts[d];
        this.seenBytes[d] = ipBytes[d];
      }
    }
  }

  subscribe(consumer: FlowDeltaConsumer): void {
    this.consumers.push(consumer);
  }

  /** An engine observer's hook: the first packet is already in the counters, and is handed out from zero. */
  onFlowStart(flow: number, _pkt: Packet): void {
    const d = flow * 2;
    this.seenPkts[d] = this.seenPkts[d + 1] = 0;
    this.seenBytes[d] = this.seenBytes[d + 1] = 0;
    this.restarted[flow] = 0;
  }

  /**
   * An engine observer's hook: the flow's last packets, before its counters are dropped or restarted. What
   * was read stays marked as seen until then: a pass run meanwhile (a consumer's clock moved by the flow's
   * own conn record) finds nothing new in the flow, instead of reading it again from zero.
   */
  onFlowEnd(flow: number, reason: FlowEndReason): void {
    this.read(flow, true);
    if (reason === 'active') this.restarted[flow] = 1;
  }

  /**
   * Hands every live flow that moved since the last read to the consumers, in index order. Only the flows
   * that counted a packet since the last pass can have moved; one restarted by an active timeout since is
   * read when it next counts one, as the restart's zero would be read then.
   */
  pass(): void {
    const { table, pkts } = this.conns;
    const live = table.live;
    const seen = this.seenPkts;
    const moved = this.moved.take();
    for (let i = 0; i < moved.length; i++) {
      const flow = moved[i];
      // Marked, but ended since (read at its end) or back where its end left it.
      if (live[flow] === 1 && (this.restarted[flow] === 1 || pkts[flow * 2] !== seen[flow * 2] || pkts[flow * 2 + 1] !== seen[flow * 2 + 1])) this.read(flow, false);
    }
  }

  private read(flow: number, ending: boolean): void {
    const { pkts, ipBytes } = this.conns;
    const o = flow * 2;
    const r = o + 1;
    if (this.restarted[flow] === 1) {
      this.restarted[flow] = 0;
      this.seenPkts[o] = this.seenPkts[r] = 0;
      this.seenBytes[o] = this.seenBytes[r] = 0;
    }
    const origPkts = pkts[o] - this.seenPkts[o];
    const respPkts = pkts[r] - this.seenPkts[r];
    if (!(origPkts > 0 || respPkts > 0)) return;
    const origBytes = ipBytes[o] - this.seenBytes[o];
    const respBytes = ipBytes[r] - this.seenBytes[r];
    this.seenPkts[o] = pkts[o];
    this.seenPkts[r] = pkts[r];
    this.seenBytes[o] = ipBytes[o];
    this.seenBytes[r] = ipBytes[r];
    for (let i = 0; i < this.consumers.length; i++) this.consumers[i].onFlowDelta(flow, origPkts, origBytes, respPkts, respBytes, ending);
  }
}
