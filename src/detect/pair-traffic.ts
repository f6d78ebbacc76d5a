/**
 * Packets and IP bytes per directed host pair (sender → receiver) per detection second, from the pipeline's
 * flow deltas (as host-bytes.ts does per host): what the flood, volume and transfer detectors compare with
 * the traffic coming back. Split by the kind of traffic each detector owns: UDP, ICMP, TCP connection
 * attempts (flows whose originator sent a SYN: syn_flood's, and every ordinary connection), TCP from an
 * endpoint that reset its flow in answer (refusals), and the rest (TCP without a handshake — ACK, FIN, RST
 * floods — and every other IP protocol).
 *
 * Runs in the per-second pass, never per packet. A pair's tally is an object of a pool reused every second,
 * found through an open-addressing index of typed arrays (linear probing, cleared slot by slot at the roll):
 * no Map, nothing allocated in a second with no new pair. Past `capacity` pairs in one second, the others
 * are not counted (`overflow` says how many), so a spoofed flood costs this table its capacity and no more.
 * The detection engine runs the flow-delta pass once a second before rolling this table and the hosts'.
 */
import type { Connections } from '../analyze/flows/connections.js';
import type { FlowDeltaConsumer, FlowDeltas } from '../analyze/flows/flow-deltas.js';
import { EndpointState } from '../analyze/flows/tcp-state.js';
import { IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_TCP, IPPROTO_UDP } from '../decode/packet.js';
import { hostKeyHash, hostKeyOf, type HostKey } from './addresses.js';
import { pairKey } from './host-pair.js';
import { mix32 } from '../analyze/mix32.js';
import { PresenceCounts } from './presence-counts.js';

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
  /** The pair's hash (pairHashOf(src, dst)): what FollowedPairs are filtered by. */
  hash = 0;
  /** The way back's tally (dst → src) once known: linked when one flow moved both ways, else looked up once. */
  back: PairTally | undefined = undefined;
  backKnown = false;
  private pairKey: string | undefined;

  /** The pair's key ("10.0.0.5>10.0.0.9"), made once a second for every detector that asks. */
  get key(): string {
    return (this.pairKey ??= pairKey(this.src, this.dst));
  }

  reset(src: HostKey, dst: HostKey, version: number, hash: number): void {
    this.src = src;
    this.dst = dst;
    this.hash = hash;
    this.version = version;
    this.packets = this.bytes = this.udpPackets = this.udpBytes = this.icmpPackets = this.connectionPackets = this.otherPackets = this.otherBytes = this.resetPackets = this.flows = 0;
    this.someFlow = -1;
    this.pairKey = undefined;
    this.back = undefined;
    this.backKnown = false;
    this.earliest = Infinity;
    this.latest = 0;
  }
}

/** Keys FollowedPairs' filter is sized for (PresenceCounts: twice as many buckets). */
const FOLLOWED_FILTER_KEYS = 2048;

/** Slots the index starts with: a second's few hundred pairs fit in 4 KB, which stays in cache. */
const INITIAL_SLOTS = 1024;

export class PairTraffic implements FlowDeltaConsumer {
  private readonly pool: PairTally[] = [];
  /**
   * Open-addressing index: a tally's place in the pool + 1 per slot, 0 when free. It doubles whenever a second
   * fills half of it, up to twice the capacity (a power of two), and stays that size: small while seconds are.
   */
  private slots = new Int32Array(INITIAL_SLOTS);
  private mask = INITIAL_SLOTS - 1;
  private readonly maxSlots: number;
  /** Each pooled tally's slot, so a roll frees exactly the slots in use, and its hash, to move it when the index grows. */
  private readonly slotOf: Int32Array;
  private readonly hashOf: Int32Array;
  private used = 0;
  /** Capture time of the last roll: this second's tallies cover what came after it. */
  since = Number.NaN;
  /** Pair-seconds not counted because the second already had `capacity` pairs, since the start. */
  overflow = 0;
  private readonly orig = new Uint32Array(4);
  private readonly resp = new Uint32Array(4);

  constructor(
    private readonly conns: Connections,
    deltas: FlowDeltas,
    readonly capacity = PAIR_TRAFFIC_CAPACITY,
  ) {
    let size = 16;
    while (size < capacity * 2) size *= 2;
    this.maxSlots = Math.max(size, INITIAL_SLOTS);
    this.slotOf = new Int32Array(capacity);
    this.hashOf = new Int32Array(capacity);
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
    // Each end's hash once for both directions.
    const ha = hostKeyHash(a);
    const hb = hostKeyHash(b);
    const there = origPkts > 0 ? this.add(a, b, pairHash(ha, hb), version, flow, 0, origPkts, origBytes) : undefined;
    const back = respPkts > 0 ? this.add(b, a, pairHash(hb, ha), version, flow, 1, respPkts, respBytes) : undefined;
    // Both ways in hand (a lookup and its answer, a conversation): the flood detectors' look for the way back is spared.
    if (there !== undefined && back !== undefined) link(there, back);
  }

  /** `side` 0: the flow's originator sent them, 1: its responder. */
  private add(src: HostKey, dst: HostKey, hash: number, version: number, flow: number, side: number, packets: number, bytes: number): PairTally | undefined {
    const t = this.tally(src, dst, hash, version);
    if (t === undefined) return undefined;
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
    else if (proto === IPPROTO_TCP && this.isRefusal(flow, side)) t.resetPackets += packets;
    else if (proto === IPPROTO_TCP && this.conns.originatorSentSyn(flow)) t.connectionPackets += packets;
    else {
      t.otherPackets += packets;
      t.otherBytes += bytes;
    }
    return t;
  }

  /**
   * A TCP endpoint that reset its flow, answering something: either side of a connection its originator opened
   * with a SYN, or the responder to a probe without one. An originator that resets with no SYN of its own asked
   * nothing and refuses nothing: its resets are the rest (an RST flood).
   */
  private isRefusal(flow: number, side: number): boolean {
    return this.conns.state[flow * 2 + side] === EndpointState.Reset && (side === 1 || this.conns.originatorSentSyn(flow));
  }

  private tally(src: HostKey, dst: HostKey, hash: number, version: number): PairTally | undefined {
    const i = this.find(src, dst, hash);
    const at = this.slots[i];
    if (at !== 0) return this.pool[at - 1];
    if (this.used >= this.capacity) {
      this.overflow++;
      return undefined;
    }
    const t = (this.pool[this.used] ??= new PairTally());
    t.reset(src, dst, version, hash);
    this.slotOf[this.used] = i;
    this.hashOf[this.used] = hash;
    this.slots[i] = ++this.used;
    if (this.used * 2 > this.slots.length && this.slots.length < this.maxSlots) this.grow();
    return t;
  }

  /** Twice the slots, this second's tallies placed anew. */
  private grow(): void {
    this.slots = new Int32Array(this.slots.length * 2);
    this.mask = this.slots.length - 1;
    for (let k = 0; k < this.used; k++) {
      let i = this.hashOf[k] & this.mask;
      while (this.slots[i] !== 0) i = (i + 1) & this.mask;
      this.slots[i] = k + 1;
      this.slotOf[k] = i;
    }
  }

  /** The slot of src → dst: its tally's, or the free one where it would go. */
  private find(src: HostKey, dst: HostKey, hash: number): number {
    const mask = this.mask;
    let i = hash & mask;
    for (;;) {
      const at = this.slots[i];
      if (at === 0) return i;
      const t = this.pool[at - 1];
      if (t.src === src && t.dst === dst) return i;
      i = (i + 1) & mask;
    }
  }

  /** This second's tally of the way back (t.dst → t.src), if it moved: as get(t.dst, t.src), found once. */
  reverse(t: PairTally): PairTally | undefined {
    if (t.backKnown) return t.back;
    const back = this.get(t.dst, t.src);
    t.backKnown = true;
    t.back = back;
    if (back !== undefined) link(t, back);
    return back;
  }

  /** This second's tally of src → dst, if it moved. */
  get(src: HostKey, dst: HostKey): PairTally | undefined {
    const at = this.slots[this.find(src, dst, pairHashOf(src, dst))];
    return at === 0 ? undefined : this.pool[at - 1];
  }

  /** Every pair that moved this second. */
  forEach(fn: (t: PairTally) => void): void {
    for (let i = 0; i < this.used; i++) fn(this.pool[i]);
  }

  /** Hands this second's tallies (the flow deltas passed since the last roll) to `use`, then starts the next second. */
  roll(now: number, use: (pairs: PairTraffic) => void): void {
    use(this);
    for (let k = 0; k < this.used; k++) this.slots[this.slotOf[k]] = 0;
    this.used = 0;
    this.since = now;
  }

  /** When this second's traffic of a pair began: its flows' earliest start, within this second. */
  began(t: PairTally, now: number): number {
    const since = Number.isNaN(this.since) ? now - 1 : this.since;
    return Math.min(Math.max(t.earliest, since), t.latest);
  }
}

/** The index's hash of a directed pair, from its ends' hashes. */
function pairHash(srcHash: number, dstHash: number): number {
  return srcHash ^ mix32(dstHash ^ 0x9e3779b9);
}

/** Two tallies of one pair, each the other's way back. */
function link(there: PairTally, back: PairTally): void {
  there.back = back;
  there.backKnown = true;
  back.back = there;
  back.backKnown = true;
}

/** A directed pair's hash, as its tally holds it (`PairTally.hash`). */
export function pairHashOf(src: HostKey, dst: HostKey): number {
  return pairHash(hostKeyHash(src), hostKeyHash(dst));
}

/**
 * The directed pairs a pair detector follows, as a counting filter of their hashes (the detector adds a pair
 * when its table takes it and removes it when the table lets it go): a second's tally of a pair not there
 * needs no key text and no look-up — most tallies, every second, even those of a sender with one pair followed.
 */
export class FollowedPairs {
  /**
   * 4,096 buckets (4 KB): every tally of every second reads it, so it stays in the nearest cache; a
   * detector follows a few pairs at a time, and were it thousands, a false "maybe" costs only the look-up
   * that every tally paid before.
   */
  private readonly filter = new PresenceCounts(FOLLOWED_FILTER_KEYS);

  /** False when the tally's pair is certainly not followed. */
  mayHave(t: PairTally): boolean {
    return this.filter.mayHave(t.hash);
  }

  add(src: HostKey, dst: HostKey): void {
    this.filter.add(pairHashOf(src, dst));
  }

  remove(src: HostKey, dst: HostKey): void {
    this.filter.remove(pairHashOf(src, dst));
  }
}
