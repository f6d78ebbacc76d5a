/**
 * Packets and IP bytes per directed host pair (sender → receiver) per detection second, from the pipeline's
 * flow deltas (as host-bytes.ts does per host): what the flood, volume and transfer detectors compare with
 * the traffic coming back. Split by the kind of traffic each detector owns: UDP, ICMP, TCP connection
 * attempts (flows whose originator sent a SYN: syn_flood's, and every ordinary connection), TCP from an
 * endpoint that reset its flow (refusals), and the rest (TCP without a handshake — ACK, FIN floods — and
 * every other IP protocol).
 *
 * Runs in the per-second pass, never per packet. A pair's tally is an object of a pool reused every second;
 * past `capacity` pairs in one second, the others are not counted (`overflow` says how many), so a spoofed
 * flood costs this table its capacity and no more.
 */
import type { Connections } from '../analyze/flows/connections.js';
import type { FlowDeltaConsumer, FlowDeltas } from '../analyze/flows/flow-deltas.js';
import { EndpointState } from '../analyze/flows/tcp-state.js';
import { IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_TCP, IPPROTO_UDP } from '../decode/packet.js';
import { hostKeyOf, type HostKey } from './addresses.js';

/**
 * Directed pairs counted per second at most: far more than a server talks to in a second, and small enough
 * that a spoofed flood (a new pair per packet, which no pair detector is about) costs little each second.
 */
export const PAIR_TRAFFIC_CAPACITY = 16_384;

/** IP bytes of a TCP connection's second below which it is left out (a handshake, a keep-alive). */
const SMALL_CONNECTION_SECOND = 1500;

export class PairTally {
  src: HostKey = 0;
  dst: HostKey = 0;
  version = 4;
  packets = 0;
  bytes = 0;
  udpPackets = 0;
  udpBytes = 0;
  icmpPackets = 0;
  /** TCP flows whose originator sent a SYN (connection attempts and the connections they made). */
  connectionPackets = 0;
  /** TCP flows without a SYN from their originator, and protocols other than TCP, UDP and ICMP. */
  otherPackets = 0;
  otherBytes = 0;
  /** TCP from an endpoint that reset its flow (a refusal, not an answer). */
  resetPackets = 0;
  /** Flows that moved this second in this direction. */
  flows = 0;
  /** Earliest start and latest packet of those flows (either direction): when the pair's traffic ran. */
  earliest = Infinity;
  latest = 0;
  /** One flow of them (a flow index, valid during the second's pass), for the alert's sample. */
  someFlow = -1;

  reset(src: HostKey, dst: HostKey, version: number): void {
    this.src = src;
    this.dst = dst;
    this.version = version;
    this.packets = this.bytes = this.udpPackets = this.udpBytes = this.icmpPackets = this.connectionPackets = this.otherPackets = this.otherBytes = this.resetPackets = this.flows = 0;
    this.someFlow = -1;
    this.earliest = Infinity;
    this.latest = 0;
  }
}

export class PairTraffic implements FlowDeltaConsumer {
  /** Tallies by sender, then receiver. */
  private readonly bySender = new Map<HostKey, Map<HostKey, PairTally>>();
  private readonly pool: PairTally[] = [];
  private readonly spareMaps: Array<Map<HostKey, PairTally>> = [];
  private used = 0;
  /** Capture time of the last roll: this second's tallies cover what came after it. */
  since = Number.NaN;
  /** Pair-seconds not counted because the second already had `capacity` pairs, since the start. */
  overflow = 0;
  private readonly orig = new Uint32Array(4);
  private readonly resp = new Uint32Array(4);

  constructor(
    private readonly conns: Connections,
    private readonly deltas: FlowDeltas,
    readonly capacity = PAIR_TRAFFIC_CAPACITY,
  ) {
    deltas.subscribe(this);
  }

  onFlowDelta(flow: number, origPkts: number, origBytes: number, respPkts: number, respBytes: number): void {
    if (!(origPkts > 0 || respPkts > 0)) return;
    const table = this.conns.table;
    // A TCP connection's handshake-sized second matters to no pair detector (floods of those are syn_flood's,
    // transfers move far more): a spoofed SYN flood, a new pair per packet, costs this table nothing.
    if (origBytes + respBytes < SMALL_CONNECTION_SECOND && table.protoOf(flow) === IPPROTO_TCP && this.conns.originatorSentSyn(flow)) return;
    const version = table.versionOf(flow);
    const a = hostKeyOf(version, table.origAddress(flow, this.orig));
    const b = hostKeyOf(version, table.respAddress(flow, this.resp));
    if (origPkts > 0) this.add(a, b, version, flow, 0, origPkts, origBytes);
    if (respPkts > 0) this.add(b, a, version, flow, 1, respPkts, respBytes);
  }

  /** `side` 0: the flow's originator sent them, 1: its responder. */
  private add(src: HostKey, dst: HostKey, version: number, flow: number, side: number, packets: number, bytes: number): void {
    const t = this.tally(src, dst, version);
    if (t === undefined) return;
    t.packets += packets;
    t.bytes += bytes;
    t.flows++;
    t.someFlow = flow;
    const first = this.conns.firstTs[flow];
    const last = this.conns.lastTs[flow];
    if (first < t.earliest) t.earliest = first;
    if (last > t.latest) t.latest = last;
    const proto = this.conns.table.protoOf(flow);
    if (proto === IPPROTO_UDP) {
      t.udpPackets += packets;
      t.udpBytes += bytes;
    }
    else if (proto === IPPROTO_ICMP || proto === IPPROTO_ICMPV6) t.icmpPackets += packets;
    else if (proto === IPPROTO_TCP && this.conns.state[flow * 2 + side] === EndpointState.Reset) t.resetPackets += packets;
    else if (proto === IPPROTO_TCP && this.conns.originatorSentSyn(flow)) t.connectionPackets += packets;
    else {
      t.otherPackets += packets;
      t.otherBytes += bytes;
    }
  }

  private tally(src: HostKey, dst: HostKey, version: number): PairTally | undefined {
    let receivers = this.bySender.get(src);
    let t = receivers?.get(dst);
    if (t !== undefined) return t;
    if (this.used >= this.capacity) {
      this.overflow++;
      return undefined;
    }
    if (receivers === undefined) this.bySender.set(src, (receivers = this.spareMaps.pop() ?? new Map()));
    t = this.pool[this.used] ??= new PairTally();
    this.used++;
    t.reset(src, dst, version);
    receivers.set(dst, t);
    return t;
  }

  /** This second's tally of src → dst, if it moved. */
  get(src: HostKey, dst: HostKey): PairTally | undefined {
    return this.bySender.get(src)?.get(dst);
  }

  /** Every pair that moved this second. */
  forEach(fn: (t: PairTally) => void): void {
    for (let i = 0; i < this.used; i++) fn(this.pool[i]);
  }

  /** Hands this second's tallies to `use`, then starts the next second. */
  roll(now: number, use: (pairs: PairTraffic) => void): void {
    this.deltas.pass();
    use(this);
    // The receivers' maps are kept for the next second (a flood of new senders would make thousands a second).
    for (const receivers of this.bySender.values()) {
      receivers.clear();
      if (this.spareMaps.length < this.capacity) this.spareMaps.push(receivers);
    }
    this.bySender.clear();
    this.used = 0;
    this.since = now;
  }

  /** When this second's traffic of a pair began: its flows' earliest start, within this second. */
  began(t: PairTally, now: number): number {
    const since = Number.isNaN(this.since) ? now - 1 : this.since;
    return Math.min(Math.max(t.earliest, since), t.latest);
  }
}
