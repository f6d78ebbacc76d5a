/**
 * The app dispatch's TCP stream adapter: TCP is reassembled here once, for every application analyzer (as
 * Zeek's TCP reassembly feeds DeliverStream / Undelivered). For each TCP flow an analyzer claimed it keeps
 * the two directions' streams and applies the TCP rules: a SYN fixes where its direction's data starts, data
 * on a SYN (TCP Fast Open) starts one past the SYN, and the peer's ACK over bytes never seen gives the hole
 * up. The analyzer hears onStream (in-order bytes) and onGap (bytes the capture lost); at the flow's end both
 * directions are flushed, in the order the analyzer asks for.
 *
 * A flow's state is in columns by its flow index (the flow table's slot), its directions' in StreamDirections
 * (index × 2 for the originator, + 1 for the responder): no object per flow, so nothing for a scavenge to
 * copy; the next flow of the slot starts them afresh. Runs on the packet loop: nothing here allocates per
 * packet (only segments kept behind a hole are copied), does I/O or throws.
 */
import { TCP_ACK, TCP_SYN, type Packet } from '../decode/packet.js';
import { StreamDirections, type StreamSink } from './apps/stream.js';
import type { AppAnalyzer } from './apps/types.js';
import type { ColumnResize } from './flows/flow-table.js';

export class TcpStreamAdapter implements StreamSink {
  private readonly directions = new StreamDirections(this);
  /** By flow index: 1 from the flow's first SYN or payload to its end or release. */
  private open = new Uint8Array(0);
  /** By flow index: the analyzer released the flow; a delivery already under way (a drain, a flush) stops short. */
  private released = new Uint8Array(0);
  private flowIds = new Float64Array(0);
  /** By flow index: which of `analyzers` claimed the flow, + 1 (a number, not a reference: nothing for a scavenge to visit). */
  private analyzerOf = new Uint8Array(0);
  /** The analyzers seen, in the order first seen (one per registration, so a handful). */
  private readonly analyzers: AppAnalyzer[] = [];

  /** Hands the columns to the flow table (FlowTable.ownColumns); a free slot's are zeros, as `begin` leaves none. */
  columns(resize: ColumnResize): void {
    this.open = resize(this.open);
    this.released = resize(this.released);
    this.flowIds = resize(this.flowIds);
    this.analyzerOf = resize(this.analyzerOf);
    this.directions.columns(resize);
  }

  /** A compaction moved the flow from slot `from` to `to` under the id `newId` (its columns moved with it). */
  follow(from: number, to: number, newId: number): void {
    if (this.open[to] === 0) return;
    this.flowIds[to] = newId;
    this.directions.follow(from, to);
  }

  /** One TCP packet of a flow `analyzer` claimed. */
  segment(flow: number, flowId: number, fromOrig: boolean, pkt: Packet, analyzer: AppAnalyzer, maxPendingBytes: number): void {
    const syn = (pkt.tcpFlags & TCP_SYN) !== 0;
    if (this.open[flow] === 0) {
      // A bare ACK or RST before any SYN or data: nothing to reassemble yet.
      if (!syn && pkt.payloadLength === 0) return;
      this.begin(flow, flowId, analyzer, maxPendingBytes);
    }
    const own = 2 * flow + (fromOrig ? 0 : 1);
    if (syn) this.directions.setInitialSequence(own, pkt.seq);
    // Data on a SYN (TCP Fast Open) starts one after the SYN's own sequence number.
    if (pkt.payloadLength > 0) this.directions.push(own, syn ? (pkt.seq + 1) >>> 0 : pkt.seq, pkt.data, pkt.payloadOffset, pkt.payloadLength, pkt.ts);
    // The peer acknowledging bytes this direction never showed us: they were lost to the capture (a gap).
    if ((pkt.tcpFlags & TCP_ACK) !== 0 && this.released[flow] === 0) this.directions.acked(own ^ 1, pkt.ack);
  }

  /** See AnalyzerContext.joinedMidStream; false for a flow with no streams (yet). */
  joinedMidStream(flow: number, flowId: number, fromOrig: boolean): boolean {
    if (this.open[flow] === 0 || this.flowIds[flow] !== flowId) return false;
    return !this.directions.startedAtSyn(2 * flow + (fromOrig ? 0 : 1));
  }

  /**
   * The flow ended: delivers what both directions kept behind holes (reporting the holes), the originator's
   * first unless the analyzer asks for the responder's, then forgets the flow.
   */
  end(flow: number): void {
    if (this.open[flow] === 0) return;
    const origFirst = this.analyzerFor(flow).originatorFlushesFirst?.(this.flowIds[flow]) ?? true;
    const first = 2 * flow + (origFirst ? 0 : 1);
    this.directions.flush(first);
    if (this.released[flow] === 0) this.directions.flush(first ^ 1);
    this.forget(flow);
  }

  /** Forgets the flow without delivering anything more, even from a delivery under way. */
  release(flow: number): void {
    if (this.open[flow] === 0) return;
    this.released[flow] = 1;
    this.directions.dropPending(2 * flow);
    this.directions.dropPending(2 * flow + 1);
    this.forget(flow);
  }

  /** @internal StreamSink: in-order bytes of a direction, to its flow's analyzer unless released. */
  streamData(dir: number, data: Buffer, offset: number, length: number, ts: number): void {
    const flow = dir >> 1;
    if (this.released[flow] === 0) this.analyzerFor(flow).onStream(this.flowIds[flow], (dir & 1) === 0, data, offset, length, ts);
  }

  /** @internal StreamSink: a gap in a direction, to its flow's analyzer unless released. */
  streamGap(dir: number, bytes: number): void {
    const flow = dir >> 1;
    if (this.released[flow] === 0) this.analyzerFor(flow).onGap(this.flowIds[flow], (dir & 1) === 0, bytes);
  }

  /** A new flow takes the slot: its columns start afresh (the released mark of the slot's last flow too). */
  private begin(flow: number, flowId: number, analyzer: AppAnalyzer, maxPendingBytes: number): void {
    this.open[flow] = 1;
    this.released[flow] = 0;
    this.flowIds[flow] = flowId;
    let known = this.analyzers.indexOf(analyzer);
    if (known < 0) known = this.analyzers.push(analyzer) - 1;
    this.analyzerOf[flow] = known + 1;
    this.directions.start(2 * flow, maxPendingBytes);
    this.directions.start(2 * flow + 1, maxPendingBytes);
  }

  /** The flow has no streams any more; `released` stays set until the slot's next flow begins. */
  private forget(flow: number): void {
    this.open[flow] = 0;
    this.analyzerOf[flow] = 0;
  }

  /** The analyzer of a flow with streams. */
  private analyzerFor(flow: number): AppAnalyzer {
    return this.analyzers[this.analyzerOf[flow] - 1];
  }
}
