import { IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_TCP, IPPROTO_UDP, TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, type Packet } from '../../decode/packet.js';
import { icmpCounterpart } from './community-id.js';
import { type ColumnResize, FlowTable, hitCreated, hitFlow } from './flow-table.js';
import { MovedFlows } from './moved-flows.js';
import { HistoryTexts } from './history-texts.js';
import { EndpointState as S, H_ACK, H_DATA, H_FIN, H_MULTI_FLAG, H_RETRANS, H_RST, H_SYN, H_SYNACK, H_ZERO_WINDOW, HISTORY_LETTERS, isLoggedRepeat } from './tcp-state.js';

export type FlowEndReason = 'closed' | 'idle' | 'active' | 'evicted' | 'reused' | 'finish';

export interface FlowTimeouts {
  /** Seconds without a packet before a flow ends, per transport. */
  tcpIdle: number;
  udpIdle: number;
  icmpIdle: number;
  /** Seconds a closed or reset TCP connection lingers for its last ACKs. */
  closedLinger: number;
  /**
   * Seconds from its first SYN that an unanswered TCP connection attempt is kept (Zeek's tcp_attempt_delay):
   * a SYN nobody answers ends there, so a flood of spoofed SYNs does not hold the table for TCP's 5 minutes.
   */
  attempt: number;
  /** A flow still active after this many seconds is reported and restarted (long-lived flows show up). */
  active: number;
}

/**
 * Zeek's defaults: 5 min TCP, 1 min UDP/ICMP inactivity, 5 s close delay, 5 s for an unanswered attempt; 1 h
 * active timeout as NetFlow. An analyzer may shorten a flow's inactivity limit (limitIdle: DNS over UDP, 10 s).
 */
export const DEFAULT_TIMEOUTS: FlowTimeouts = { tcpIdle: 300, udpIdle: 60, icmpIdle: 60, closedLinger: 5, attempt: 5, active: 3600 };

const HISTORY_MAX = 24;
const EVICTION_SAMPLE = 8;

const UPDATE_FROM_ORIG = 1;
const UPDATE_NEW_FLOW = 2;
/** The flow index of an update (Connections.update's answer, packed into one number: no object per packet). */
export const updatedFlow = (update: number): number => update >>> 2;
/** True when the packet started the flow. */
export const isNewFlow = (update: number): boolean => (update & UPDATE_NEW_FLOW) !== 0;
/** True when the packet came from the flow's originator. */
export const isFromOrig = (update: number): boolean => (update & UPDATE_FROM_ORIG) !== 0;

/** Per-direction columns are indexed flow * 2 + (0 originator, 1 responder). */
export class Connections {
  readonly table: FlowTable;
  firstTs = new Float64Array(0);
  lastTs = new Float64Array(0);
  /** Start of the current reporting period (moves on an active timeout). */
  periodTs = new Float64Array(0);
  proto = new Uint8Array(0);
  serial = new Float64Array(0);
  pkts = new Float64Array(0);
  bytes = new Float64Array(0);
  ipBytes = new Float64Array(0);
  state = new Uint8Array(0);
  seqStarted = new Uint8Array(0);
  seqHigh = new Uint32Array(0);
  gapOpen = new Uint8Array(0);
  gapStart = new Uint32Array(0);
  gapEnd = new Uint32Array(0);
  retrans = new Uint32Array(0);
  outOfOrder = new Uint32Array(0);
  zeroWindows = new Uint32Array(0);
  letters = new Uint32Array(0);
  history = new Uint8Array(0);
  historyLength = new Uint8Array(0);
  private readonly historyTexts = new HistoryTexts(HISTORY_MAX);
  synTs = new Float64Array(0);
  rtt = new Float64Array(0);
  /** Per flow: the sweep need not look at it before this capture time (0: at the next sweep). */
  private checkAt = new Float64Array(0);
  /** Per flow: its inactivity limit in seconds when an analyzer set one (limitIdle), else 0. */
  private idleLimits = new Float32Array(0);

  /** The flows that counted a packet since FlowDeltas' last pass, once it asked (movedFlows). */
  private moved: MovedFlows | undefined;

  flowsCreated = 0;
  flowsEvicted = 0;
  private nextSerial = 1;
  private evictionHand = 0;
  /** The smallest idle limit of any flow: a flow idle for less has not timed out, whatever its own limit. */
  private shortestTimeout: number;

  constructor(
    maxFlows: number,
    private readonly timeouts: FlowTimeouts,
    private readonly onEnd: (flow: number, reason: FlowEndReason) => void,
  ) {
    this.shortestTimeout = Math.min(timeouts.tcpIdle, timeouts.udpIdle, timeouts.icmpIdle, timeouts.closedLinger);
    this.table = new FlowTable(maxFlows);
    this.table.ownColumns((resize) => this.columns(resize));
  }

  /**
   * Marks every flow that counts a packet from now on, for a pass that reads only those: the pipeline's
   * FlowDeltas, their one taker (a second taker would take marks the first never sees).
   */
  movedFlows(): MovedFlows {
    if (this.moved === undefined) {
      const moved = (this.moved = new MovedFlows());
      this.table.onGrow((n) => moved.grow(n));
      this.table.onMove((moves) => moved.follow(moves));
    }
    return this.moved;
  }

  /**
   * Accounts the packet to its flow. Returns an update (see updatedFlow, isNewFlow, isFromOrig), or -1 for
   * packets that make no flow.
   */
  update(pkt: Packet): number {
    const proto = pkt.transport;
    let sport = pkt.srcPort;
    let dport = pkt.dstPort;
    if (proto === IPPROTO_ICMP || proto === IPPROTO_ICMPV6) {
      // Zeek's and Community ID's port equivalents: (type, counterpart type) or, one-way, (type, code).
      const counterpart = icmpCounterpart(proto, pkt.icmpType);
      sport = pkt.icmpType;
      dport = counterpart >= 0 ? counterpart : pkt.icmpCode;
    } else if (proto !== IPPROTO_TCP && proto !== IPPROTO_UDP) {
      return -1;
    }
    let hit = this.table.lookup(pkt, proto, sport, dport, true);
    if (hit < 0) {
      this.evictOne();
      hit = this.table.lookup(pkt, proto, sport, dport, true);
      if (hit < 0) return -1;
    }
    let flow = hitFlow(hit);
    if (!hitCreated(hit)) {
      const reused = proto === IPPROTO_TCP && (pkt.tcpFlags & (TCP_SYN | TCP_ACK)) === TCP_SYN && this.isFinished(flow);
      // Timed out but not swept yet (sweeps run every second): the timeout decides, not the sweep.
      const idle = pkt.ts - this.lastTs[flow];
      const expired = (idle > this.shortestTimeout && idle > this.idleLimit(flow)) || (proto === IPPROTO_TCP && this.attemptOver(flow, pkt.ts));
      if (reused || expired) {
        // A new connection on a reused 4-tuple, or after the old one timed out: report the old one, start afresh.
        this.end(flow, reused ? 'reused' : this.isFinished(flow) ? 'closed' : 'idle');
        hit = this.table.lookup(pkt, proto, sport, dport, true);
        if (hit < 0) return -1;
        flow = hitFlow(hit);
      }
    }
    const created = hitCreated(hit);
    if (created) this.start(hit, pkt);
    const fromOrig = this.table.fromOriginator(hit);
    const d = flow * 2 + (fromOrig ? 0 : 1);
    this.lastTs[flow] = pkt.ts;
    this.pkts[d]++;
    if (this.moved !== undefined) this.moved.mark(flow);
    this.ipBytes[d] += pkt.ipLength;
    if (proto === IPPROTO_TCP) this.updateTcp(flow, fromOrig, pkt);
    else {
      this.bytes[d] += pkt.payloadWireLength;
      // As Zeek's UDP analyzer: each direction's first datagram writes D (originator) or d (responder).
      if (proto === IPPROTO_UDP) this.letter(flow, fromOrig, H_DATA);
    }
    return flow * 4 + (created ? UPDATE_NEW_FLOW : 0) + (fromOrig ? UPDATE_FROM_ORIG : 0);
  }

  private start(hit: number, pkt: Packet): void {
    const flow = hitFlow(hit);
    this.flowsCreated++;
    const synAck = pkt.transport === IPPROTO_TCP && (pkt.tcpFlags & (TCP_SYN | TCP_ACK)) === (TCP_SYN | TCP_ACK);
    // The originator sent the SYN; a flow first seen at its SYN-ACK is flipped (history starts with '^').
    this.table.setOriginator(hit, synAck);
    this.firstTs[flow] = pkt.ts;
    this.periodTs[flow] = pkt.ts;
    this.lastTs[flow] = pkt.ts;
    this.proto[flow] = pkt.transport;
    this.serial[flow] = this.nextSerial++;
    this.synTs[flow] = 0;
    this.rtt[flow] = -1;
    this.historyLength[flow] = 0;
    this.checkAt[flow] = 0;
    this.idleLimits[flow] = 0;
    if (synAck) this.history[flow * HISTORY_MAX] = 0x5e, (this.historyLength[flow] = 1); // '^'
    this.resetCounters(flow);
  }

  private resetCounters(flow: number): void {
    for (let d = flow * 2; d < flow * 2 + 2; d++) {
      this.pkts[d] = 0;
      this.bytes[d] = 0;
      this.ipBytes[d] = 0;
      this.state[d] = S.Inactive;
      this.seqStarted[d] = 0;
      this.gapOpen[d] = 0;
      this.retrans[d] = 0;
      this.outOfOrder[d] = 0;
      this.zeroWindows[d] = 0;
      this.letters[d] = 0;
    }
  }

  private updateTcp(flow: number, fromOrig: boolean, pkt: Packet): void {
    const d = flow * 2 + (fromOrig ? 0 : 1);
    const p = flow * 2 + (fromOrig ? 1 : 0);
    const flags = pkt.tcpFlags;
    const syn = (flags & TCP_SYN) !== 0;
    const fin = (flags & TCP_FIN) !== 0;
    const rst = (flags & TCP_RST) !== 0;
    const ack = (flags & TCP_ACK) !== 0;
    const len = pkt.payloadWireLength;

    if (syn) this.letter(flow, fromOrig, ack ? H_SYNACK : H_SYN);
    if (syn && (fin || rst)) this.letter(flow, fromOrig, H_MULTI_FLAG);
    if (fin) this.letter(flow, fromOrig, H_FIN);
    if (rst) this.letter(flow, fromOrig, H_RST);
    if (len > 0) this.letter(flow, fromOrig, H_DATA);
    else if (ack && !syn && !fin && !rst) this.letter(flow, fromOrig, H_ACK);
    if (pkt.window === 0 && !syn && !rst && ++this.zeroWindows[d] > 0 && isLoggedRepeat(this.zeroWindows[d])) this.letter(flow, fromOrig, H_ZERO_WINDOW, true);

    this.trackSequence(flow, fromOrig, pkt, syn, fin, len);

    // A close or reset shortens the flow's idle limit to the close linger: the sweep must look again soon.
    if (fin || rst) this.checkAt[flow] = 0;
    // Endpoint state machine (after Zeek's TCP analyzer).
    if (rst) {
      this.state[d] = S.Reset;
      return;
    }
    if (syn) {
      if (ack) {
        if (this.state[d] === S.Inactive || this.state[d] === S.SynSent) this.state[d] = S.SynAckSent;
      } else {
        if (this.state[d] === S.Inactive || this.state[d] === S.Partial) this.state[d] = S.SynSent;
        if (fromOrig && this.synTs[flow] === 0) this.synTs[flow] = pkt.ts;
      }
    } else if (ack) {
      const mine = this.state[d];
      if ((mine === S.SynSent || mine === S.SynAckSent) && (this.state[p] === S.SynAckSent || this.state[p] === S.Established)) {
        this.state[d] = S.Established;
        if (this.state[p] === S.SynAckSent) this.state[p] = S.Established;
        if (fromOrig && this.rtt[flow] < 0 && this.synTs[flow] > 0) this.rtt[flow] = pkt.ts - this.synTs[flow];
      }
    }
    if (fin) this.state[d] = S.Closed;
    else if (this.state[d] === S.Inactive) this.state[d] = S.Partial;
  }

  /** Retransmissions and out-of-order segments from sequence numbers, modulo 2^32. */
  private trackSequence(flow: number, fromOrig: boolean, pkt: Packet, syn: boolean, fin: boolean, len: number): void {
    const d = flow * 2 + (fromOrig ? 0 : 1);
    const segLength = len + (syn ? 1 : 0) + (fin ? 1 : 0);
    const seq = pkt.seq >>> 0;
    const end = (seq + segLength) >>> 0;
    if (this.seqStarted[d] === 0) {
      this.seqStarted[d] = 1;
      this.seqHigh[d] = end;
      this.bytes[d] += len;
      return;
    }
    if (segLength === 0) return;
    const high = this.seqHigh[d];
    const ahead = (seq - high) | 0;
    if (ahead >= 0) {
      if (ahead > 0 && this.gapOpen[d] === 0) {
        this.gapOpen[d] = 1;
        this.gapStart[d] = high;
        this.gapEnd[d] = seq;
      }
      this.seqHigh[d] = end;
      this.bytes[d] += len;
      return;
    }
    // Below the highest byte seen: a keep-alive, a late segment filling a gap, or a retransmission.
    if (segLength <= 1 && !syn && !fin && ((high - end) | 0) === 0 && len <= 1) return;
    if (this.gapOpen[d] === 1 && ((seq - this.gapStart[d]) | 0) >= 0 && ((end - this.gapEnd[d]) | 0) <= 0) {
      this.outOfOrder[d]++;
      this.bytes[d] += len;
      if (seq === this.gapStart[d]) this.gapStart[d] = end;
      else if (end === this.gapEnd[d]) this.gapEnd[d] = seq;
      if (((this.gapEnd[d] - this.gapStart[d]) | 0) <= 0) this.gapOpen[d] = 0;
      return;
    }
    this.retrans[d]++;
    if (isLoggedRepeat(this.retrans[d])) this.letter(flow, fromOrig, H_RETRANS, true);
    if (((end - high) | 0) > 0) {
      this.bytes[d] += (end - high) | 0;
      this.seqHigh[d] = end;
    }
  }

  /** Appends a history letter the first time it happens in a direction (or at every logged repeat). */
  private letter(flow: number, fromOrig: boolean, bit: number, repeat = false): void {
    const d = flow * 2 + (fromOrig ? 0 : 1);
    const mask = 1 << bit;
    if (!repeat && (this.letters[d] & mask) !== 0) return;
    this.letters[d] |= mask;
    const n = this.historyLength[flow];
    if (n >= HISTORY_MAX) return;
    const code = HISTORY_LETTERS.charCodeAt(bit);
    this.history[flow * HISTORY_MAX + n] = fromOrig ? code - 32 : code;
    this.historyLength[flow] = n + 1;
  }

  /** The originator sent a SYN (history 'S'): a TCP connection attempt, whatever came of it. */
  originatorSentSyn(flow: number): boolean {
    return (this.letters[flow * 2] & (1 << H_SYN)) !== 0;
  }

  historyOf(flow: number): string {
    return this.historyTexts.textOf(this.history, flow * HISTORY_MAX, this.historyLength[flow]);
  }

  private isFinished(flow: number): boolean {
    const o = this.state[flow * 2];
    const r = this.state[flow * 2 + 1];
    return o === S.Reset || r === S.Reset || (o === S.Closed && r === S.Closed);
  }

  /**
   * From now on the flow ends after `seconds` without a packet rather than its transport's default: an
   * application analyzer's say over the flows it reads (Zeek's dns_session_timeout, 10 s for DNS over UDP).
   */
  limitIdle(flow: number, seconds: number): void {
    this.idleLimits[flow] = seconds;
    this.checkAt[flow] = 0;
    if (seconds < this.shortestTimeout) this.shortestTimeout = seconds;
  }

  /**
   * True when the flow is a TCP connection attempt nobody answered (the originator's SYN, not a packet back)
   * and its time, counted from the first SYN as Zeek counts it, is up at `now`. TCP flows only.
   */
  private attemptOver(flow: number, now: number): boolean {
    if (this.pkts[flow * 2 + 1] !== 0 || now - this.firstTs[flow] <= this.timeouts.attempt) return false;
    const orig = this.state[flow * 2];
    return (orig === S.SynSent || orig === S.SynAckSent) && this.state[flow * 2 + 1] === S.Inactive;
  }

  /** Seconds without a packet after which the flow is over. */
  private idleLimit(flow: number): number {
    const limit = this.idleLimits[flow];
    if (limit > 0) return limit;
    const t = this.timeouts;
    const proto = this.proto[flow];
    if (proto === IPPROTO_TCP) return this.isFinished(flow) ? t.closedLinger : t.tcpIdle;
    return proto === IPPROTO_UDP ? t.udpIdle : t.icmpIdle;
  }

  /** Ends flows whose time is up at capture time `now`. */
  sweep(now: number): void {
    const active = this.timeouts.active;
    // A sweep visits every flow every second, and most are far from their time: one compare skips a
    // flow until the earliest moment it could be due (its packets only ever push that moment later).
    const live = this.table.live;
    const checkAt = this.checkAt;
    const extent = this.table.extent;
    for (let flow = 0; flow < extent; flow++) {
      if (live[flow] !== 1 || now < checkAt[flow]) continue;
      const idleLimit = this.idleLimit(flow);
      const tcp = this.proto[flow] === IPPROTO_TCP;
      if (now - this.lastTs[flow] > idleLimit || (tcp && this.attemptOver(flow, now))) this.end(flow, tcp && this.isFinished(flow) ? 'closed' : 'idle');
      else if (now - this.periodTs[flow] > active) this.activeTimeout(flow);
      else checkAt[flow] = Math.min(this.lastTs[flow] + idleLimit, this.periodTs[flow] + active, tcp && this.pkts[flow * 2 + 1] === 0 ? this.firstTs[flow] + this.timeouts.attempt : Infinity);
    }
  }

  /** Reports a long-lived flow and starts a new reporting period, keeping its identity and TCP state. */
  private activeTimeout(flow: number): void {
    this.onEnd(flow, 'active');
    for (let d = flow * 2; d < flow * 2 + 2; d++) {
      this.pkts[d] = 0;
      this.bytes[d] = 0;
      this.ipBytes[d] = 0;
      this.retrans[d] = 0;
      this.outOfOrder[d] = 0;
    }
    this.periodTs[flow] = this.lastTs[flow];
    this.firstTs[flow] = this.lastTs[flow];
  }

  /** Ends every live flow (end of input). */
  finishAll(): void {
    while (!this.finishSome(Number.MAX_SAFE_INTEGER));
  }

  /** Where finishSome goes on from. */
  private finishCursor = 0;

  /**
   * End of input, a part at a time: ends up to `limit` live flows; true once none is left. A caller writing
   * their records waits for its output between parts, so a table of 262,144 open flows is not written into
   * memory all at once (100 MB of output buffers at the end of a flood).
   */
  finishSome(limit: number): boolean {
    let ended = 0;
    for (; this.finishCursor < this.table.extent && ended < limit; this.finishCursor++) {
      if (!this.table.isLive(this.finishCursor)) continue;
      this.end(this.finishCursor, 'finish');
      ended++;
    }
    return this.finishCursor >= this.table.extent;
  }

  end(flow: number, reason: FlowEndReason): void {
    this.onEnd(flow, reason);
    this.table.remove(flow);
  }

  /** Table full: end the least recently active of a few flows under a moving clock hand (approximate LRU). */
  private evictOne(): void {
    let victim = -1;
    for (let seen = 0, steps = 0; seen < EVICTION_SAMPLE && steps < this.table.extent; steps++) {
      const flow = this.evictionHand;
      this.evictionHand = (this.evictionHand + 1) % Math.max(1, this.table.extent);
      if (!this.table.isLive(flow)) continue;
      seen++;
      if (victim < 0 || this.lastTs[flow] < this.lastTs[victim]) victim = flow;
    }
    if (victim >= 0) {
      this.flowsEvicted++;
      this.end(victim, 'evicted');
    }
  }

  /** Each per-flow column, handed to `resize(column, valuesPerFlow)`: allocated whole at the start, its free pages released after a burst. */
  private columns(resize: ColumnResize): void {
    this.firstTs = resize(this.firstTs, 1);
    this.lastTs = resize(this.lastTs, 1);
    this.periodTs = resize(this.periodTs, 1);
    this.proto = resize(this.proto, 1);
    this.serial = resize(this.serial, 1);
    this.synTs = resize(this.synTs, 1);
    this.checkAt = resize(this.checkAt, 1);
    this.idleLimits = resize(this.idleLimits, 1);
    this.rtt = resize(this.rtt, 1);
    this.historyLength = resize(this.historyLength, 1);
    this.history = resize(this.history, HISTORY_MAX);
    this.pkts = resize(this.pkts, 2);
    this.bytes = resize(this.bytes, 2);
    this.ipBytes = resize(this.ipBytes, 2);
    this.state = resize(this.state, 2);
    this.seqStarted = resize(this.seqStarted, 2);
    this.seqHigh = resize(this.seqHigh, 2);
    this.gapOpen = resize(this.gapOpen, 2);
    this.gapStart = resize(this.gapStart, 2);
    this.gapEnd = resize(this.gapEnd, 2);
    this.retrans = resize(this.retrans, 2);
    this.outOfOrder = resize(this.outOfOrder, 2);
    this.zeroWindows = resize(this.zeroWindows, 2);
    this.letters = resize(this.letters, 2);
  }
}
