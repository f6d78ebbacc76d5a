/**
 * The app dispatch's TCP stream adapter: TCP is reassembled here once, for every application analyzer (as
 * Zeek's TCP reassembly feeds DeliverStream / Undelivered). For each TCP flow an analyzer claimed it keeps
 * the two directions' StreamReassemblers and applies the TCP rules: a SYN fixes where its direction's data
 * starts, data on a SYN (TCP Fast Open) starts one past the SYN, and the peer's ACK over bytes never seen
 * gives the hole up. The analyzer hears onStream (in-order bytes) and onGap (bytes the capture lost); at the
 * flow's end both directions are flushed, in the order the analyzer asks for.
 *
 * Runs on the packet loop: nothing here allocates per packet (a flow's reassemblers are taken on its first SYN
 * or payload, from those of flows that ended when there are; only segments kept behind a hole are copied),
 * does I/O or throws.
 */
import { TCP_ACK, TCP_SYN, type Packet } from '../decode/packet.js';
import { StreamReassembler, type StreamSink } from './apps/stream.js';
import type { AppAnalyzer } from './apps/types.js';
import { FLOW_FREE_LIST_CAPACITY, FreeList } from './free-list.js';

/** Both directions of one TCP flow, delivering to the analyzer that claimed it (the sink of both). */
class FlowStreams implements StreamSink {
  readonly orig: StreamReassembler;
  readonly resp: StreamReassembler;
  /** The analyzer released the flow: a delivery already under way (a drain, a flush) stops short. */
  released = false;

  constructor(
    public flowId: number,
    public analyzer: AppAnalyzer,
    maxPendingBytes: number,
  ) {
    this.orig = new StreamReassembler(this, true, maxPendingBytes);
    this.resp = new StreamReassembler(this, false, maxPendingBytes);
  }

  /** Taken for a new flow: nothing of the flow it served before is left. */
  reset(flowId: number, analyzer: AppAnalyzer, maxPendingBytes: number): void {
    this.flowId = flowId;
    this.analyzer = analyzer;
    this.released = false;
    this.orig.reset(maxPendingBytes);
    this.resp.reset(maxPendingBytes);
  }

  streamData(fromOrig: boolean, data: Buffer, offset: number, length: number, ts: number): void {
    if (!this.released) this.analyzer.onStream(this.flowId, fromOrig, data, offset, length, ts);
  }

  streamGap(fromOrig: boolean, bytes: number): void {
    if (!this.released) this.analyzer.onGap(this.flowId, fromOrig, bytes);
  }
}

export class TcpStreamAdapter {
  /** By flow index: the flow's streams, from its first SYN or payload to its end or release. */
  private readonly flows: Array<FlowStreams | undefined> = [];
  /** Streams of flows that ended, for the next flows (see FreeList: they are never copied by a scavenge again). */
  private readonly spare = new FreeList<FlowStreams>(FLOW_FREE_LIST_CAPACITY);

  /** Room for flow indexes below `capacity` (a packed array: holes would slow every look-up). */
  grow(capacity: number): void {
    while (this.flows.length < capacity) this.flows.push(undefined);
  }

  /** One TCP packet of a flow `analyzer` claimed. */
  segment(flow: number, flowId: number, fromOrig: boolean, pkt: Packet, analyzer: AppAnalyzer, maxPendingBytes: number): void {
    const syn = (pkt.tcpFlags & TCP_SYN) !== 0;
    let streams = this.flows[flow];
    if (streams === undefined) {
      // A bare ACK or RST before any SYN or data: nothing to reassemble yet.
      if (!syn && pkt.payloadLength === 0) return;
      streams = this.spare.take();
      if (streams === undefined) streams = new FlowStreams(flowId, analyzer, maxPendingBytes);
      else streams.reset(flowId, analyzer, maxPendingBytes);
      this.flows[flow] = streams;
    }
    const own = fromOrig ? streams.orig : streams.resp;
    if (syn) own.setInitialSequence(pkt.seq);
    // Data on a SYN (TCP Fast Open) starts one after the SYN's own sequence number.
    if (pkt.payloadLength > 0) own.push(syn ? (pkt.seq + 1) >>> 0 : pkt.seq, pkt.data, pkt.payloadOffset, pkt.payloadLength, pkt.ts);
    // The peer acknowledging bytes this direction never showed us: they were lost to the capture (a gap).
    if ((pkt.tcpFlags & TCP_ACK) !== 0 && !streams.released) (fromOrig ? streams.resp : streams.orig).acked(pkt.ack);
  }

  /** See AnalyzerContext.joinedMidStream; false for a flow with no streams (yet). */
  joinedMidStream(flow: number, flowId: number, fromOrig: boolean): boolean {
    const streams = this.flows[flow];
    if (streams === undefined || streams.flowId !== flowId) return false;
    return !(fromOrig ? streams.orig : streams.resp).startedAtSyn;
  }

  /**
   * The flow ended: delivers what both directions kept behind holes (reporting the holes), the originator's
   * first unless the analyzer asks for the responder's, then forgets the flow.
   */
  end(flow: number): void {
    const streams = this.flows[flow];
    if (streams === undefined) return;
    const origFirst = streams.analyzer.originatorFlushesFirst?.(streams.flowId) ?? true;
    (origFirst ? streams.orig : streams.resp).flush();
    if (!streams.released) (origFirst ? streams.resp : streams.orig).flush();
    this.flows[flow] = undefined;
    // Released during the flush: release() kept it already.
    if (!streams.released) this.spare.give(streams);
  }

  /** Forgets the flow without delivering anything more, even from a delivery under way. */
  release(flow: number): void {
    const streams = this.flows[flow];
    if (streams === undefined) return;
    streams.released = true;
    this.flows[flow] = undefined;
    streams.orig.dropPending();
    streams.resp.dropPending();
    this.spare.give(streams);
  }

  /** Streams kept for the next flows (tests). */
  get spareCount(): number {
    return this.spare.size;
  }
}
