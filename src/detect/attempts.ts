/**
 * Connection attempts and how they ended, for scan, flood and baseline detectors. An attempt is a TCP flow
 * that began with a bare SYN, a UDP flow, or an ICMP echo request to a unicast address; and a TCP probe that
 * asks for no connection (below, STRAY). Its outcome is read
 * from the flow table's endpoint states — never per packet: once a second for live flows (so a refused port
 * is known within a second, an unanswered one after the grace time) and once more just before the flow's
 * state is dropped. Per flow it keeps two typed-array cells beside the flow table's columns, and a queue
 * of the flows still waiting, so the per-second pass costs what is pending, not the size of the table.
 */
import type { Connections } from '../analyze/flows/connections.js';
import type { FlowMoves } from '../analyze/flows/flow-table.js';
import { EndpointState as S, H_RST } from '../analyze/flows/tcp-state.js';
import { IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_TCP, IPPROTO_UDP, TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, type Packet } from '../decode/packet.js';
import { hostKeyOf, isGroupAddress } from './addresses.js';
import { readFlowFacts } from './flow-sample.js';
import { AttemptFacts, Outcome, type OutcomeCode } from './types.js';

const NONE = 0;
const TCP = 1;
const DATAGRAM = 2;
/**
 * A TCP flow that began with neither SYN, ACK nor RST: nmap's FIN, NULL and Xmas scans. No packet of a real
 * connection lacks ACK but its first SYN and a reset (RFC 9293), so each is a probe: a reset answers a closed
 * port, silence an open (or filtered) one.
 */
const STRAY = 3;
/**
 * A TCP flow that began with a bare ACK, no payload (nmap's ACK and Window scans). A connection the capture
 * joined mid-way begins so too: only a reset and nothing else in answer makes it a probe; silence or an answer
 * that is not a reset, it is left alone. A FIN-ACK first is not one (nmap's rare Maimon scan): it is how a
 * teardown the capture joined late begins, and a peer that forgot the connection answers it with a reset.
 */
const STRAY_ACK = 4;
/** What strayOutcome gives for a flow that is not a probe after all: forgotten, reported to no one. */
const NOT_A_PROBE = -1;
/** A direction's history letters when all it sent were resets (Connections.letters). */
const RESET_ONLY = 1 << H_RST;

export interface AttemptTiming {
  /** Seconds a TCP SYN may wait for its answer before it counts as unanswered / half-open. */
  tcpGrace: number;
  /** Seconds a UDP datagram or ICMP echo may wait for its reply. */
  datagramGrace: number;
}

export const DEFAULT_ATTEMPT_TIMING: AttemptTiming = { tcpGrace: 1, datagramGrace: 2 };

export class AttemptTracker {
  private kind = new Uint8Array(0);
  private start = new Float64Array(0);
  private readonly facts = new AttemptFacts();
  /**
   * Flow ids of the attempts waiting for their outcome (ids, not indexes: a slot may be reused meanwhile), in
   * a typed array: ids pass V8's small integers, and an array of them allocated a number per attempt.
   */
  private queue = new Float64Array(1024);
  private queued = 0;
  /** Attempts waiting for their outcome. */
  pending = 0;

  constructor(
    private readonly conns: Connections,
    private readonly report: (attempt: AttemptFacts) => void,
    private readonly timing: AttemptTiming = DEFAULT_ATTEMPT_TIMING,
  ) {
    conns.table.ownColumns((resize) => {
      this.kind = resize(this.kind);
      this.start = resize(this.start);
    });
    conns.table.onMove((moves) => this.follow(moves));
  }

  /** A compaction moved flows to other slots: a waiting attempt's id becomes its flow's new one. */
  private follow(moves: FlowMoves): void {
    if (this.queued === 0) return;
    const newIdOf = new Map<number, number>();
    for (let i = 0; i < moves.count; i++) newIdOf.set(moves.oldIds[i], moves.newIds[i]);
    for (let i = 0; i < this.queued; i++) this.queue[i] = newIdOf.get(this.queue[i]) ?? this.queue[i];
  }

  onFlowStart(flow: number, pkt: Packet): void {
    if (this.kind[flow] !== NONE) this.pending--;
    this.kind[flow] = NONE;
    const proto = pkt.transport;
    let kind = NONE;
    if (proto === IPPROTO_TCP) {
      kind = tcpKind(pkt);
    } else if (proto === IPPROTO_UDP) {
      kind = DATAGRAM;
    } else if (proto === IPPROTO_ICMP || proto === IPPROTO_ICMPV6) {
      if (pkt.icmpType === (proto === IPPROTO_ICMP ? 8 : 128)) kind = DATAGRAM;
    }
    if (kind === NONE || isGroupAddress(pkt.ipVersion, pkt.dst)) return;
    this.kind[flow] = kind;
    this.start[flow] = pkt.ts;
    this.pending++;
    if (this.queued === this.queue.length) {
      const bigger = new Float64Array(this.queue.length * 2);
      bigger.set(this.queue);
      this.queue = bigger;
    }
    this.queue[this.queued++] = this.conns.table.flowId(flow);
  }

  /** The flow is about to be dropped (or restarted by an active timeout): its outcome is final now. */
  onFlowEnd(flow: number, now: number): void {
    if (this.kind[flow] === NONE) return;
    this.resolve(flow, now, true);
  }

  /** Once a second: attempts whose outcome is now known are reported. */
  second(now: number): void {
    const table = this.conns.table;
    const queue = this.queue;
    let kept = 0;
    for (let i = 0; i < this.queued; i++) {
      const flow = table.flowOf(queue[i]);
      // Gone (its end resolved it) or resolved already: drop from the queue.
      if (flow < 0 || this.kind[flow] === NONE) continue;
      this.resolve(flow, now, false);
      if (this.kind[flow] !== NONE) queue[kept++] = queue[i];
    }
    this.queued = kept;
  }

  private resolve(flow: number, now: number, final: boolean): void {
    const kind = this.kind[flow];
    const outcome = kind === TCP ? this.tcpOutcome(flow, now, final) : kind === DATAGRAM ? this.datagramOutcome(flow, now, final) : this.strayOutcome(flow, now, final, kind === STRAY_ACK);
    if (outcome === 0) return;
    this.kind[flow] = NONE;
    this.pending--;
    if (outcome === NOT_A_PROBE) return;
    const f = readFlowFacts(this.conns, flow, this.facts);
    f.outcome = outcome;
    f.handshake = kind !== STRAY && kind !== STRAY_ACK;
    f.start = this.start[flow];
    f.ts = now;
    f.origKey = hostKeyOf(f.version, f.orig);
    f.respKey = hostKeyOf(f.version, f.resp);
    this.report(f);
  }

  /** 0 while it is too early to tell. */
  private tcpOutcome(flow: number, now: number, final: boolean): OutcomeCode | 0 {
    const c = this.conns;
    const o = c.state[flow * 2];
    const r = c.state[flow * 2 + 1];
    // Payload from the responder, or from an originator past its SYN (its handshake done, or more sent after
    // it and not a reset: a tap of one direction), is a conversation. A payload on the SYN alone is not: a
    // flood of SYNs with data (hping3 -S -d) would otherwise pass for a crowd of real clients.
    if (c.bytes[flow * 2 + 1] > 0) return Outcome.Ok;
    if (c.bytes[flow * 2] > 0 && (c.rtt[flow] >= 0 || (c.pkts[flow * 2] > 1 && o !== S.Reset))) return Outcome.Ok;
    const late = final || now - this.start[flow] >= this.timing.tcpGrace;
    switch (r) {
      case S.Reset:
        return o === S.Established || o === S.Closed ? Outcome.Empty : Outcome.Rejected;
      case S.Inactive:
        return o === S.Reset || late ? Outcome.Unanswered : 0;
      case S.SynAckSent:
        return o === S.Reset || o === S.Closed || late ? Outcome.HalfOpen : 0;
      case S.Established:
        // Connected, nothing sent yet: a connect() scan closes at once; a real client speaks soon.
        if (o === S.Reset || o === S.Closed || final) return Outcome.Empty;
        return late ? Outcome.Ok : 0;
      case S.Closed:
        return Outcome.Empty;
      default:
        // Partial: the responder sent something that was not a handshake; not a probe we can judge.
        return late ? Outcome.Ok : 0;
    }
  }

  /**
   * A probe without a handshake: rejected when the responder's only answer is a reset, unanswered when it says
   * nothing (an ACK-first flow then is not a probe). Payload from the responder makes it a conversation, and
   * so does the originator's after a bare ACK (a connection joined mid-way); a FIN or NULL probe carrying data
   * is still a probe.
   */
  private strayOutcome(flow: number, now: number, final: boolean, acked: boolean): OutcomeCode | 0 | typeof NOT_A_PROBE {
    const c = this.conns;
    if (c.bytes[flow * 2 + 1] > 0 || (acked && c.bytes[flow * 2] > 0)) return NOT_A_PROBE;
    if (c.pkts[flow * 2 + 1] > 0) return c.state[flow * 2 + 1] === S.Reset && c.letters[flow * 2 + 1] === RESET_ONLY ? Outcome.Rejected : NOT_A_PROBE;
    if (!final && now - this.start[flow] < this.timing.tcpGrace) return 0;
    return acked ? NOT_A_PROBE : Outcome.Unanswered;
  }

  private datagramOutcome(flow: number, now: number, final: boolean): OutcomeCode | 0 {
    if (this.conns.pkts[flow * 2 + 1] > 0) return Outcome.Ok;
    return final || now - this.start[flow] >= this.timing.datagramGrace ? Outcome.Unanswered : 0;
  }
}

/** How a TCP flow's first packet makes it an attempt: a bare SYN, a stray probe, or none. */
function tcpKind(pkt: Packet): number {
  const flags = pkt.tcpFlags;
  if ((flags & (TCP_SYN | TCP_ACK)) === TCP_SYN) return TCP;
  if ((flags & (TCP_SYN | TCP_RST)) !== 0) return NONE;
  if ((flags & TCP_ACK) === 0) return STRAY;
  return (flags & TCP_FIN) === 0 && pkt.payloadWireLength === 0 ? STRAY_ACK : NONE;
}
