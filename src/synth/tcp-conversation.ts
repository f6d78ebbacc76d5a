/**
 * One TCP connection as the mirror port near the clients sees it: handshake (or its failure), turns of
 * data cut into MSS segments in slow-start bursts with the receiver's ACKs, an occasional retransmission,
 * and a teardown by FIN or RST. A generator: each `yield` is the wait in microseconds before its next
 * packet, so the scheduler can interleave thousands of connections in time order.
 */
import { TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN } from '../decode/packet.js';
import type { Emitter, Flow } from './emitter.js';
import { TCP_OPTS_NONE, TCP_OPTS_SYN, TCP_OPTS_TIMESTAMPS } from './frames.js';
import { bump, type GroundTruth, type TcpConnState } from './ground-truth.js';
import type { Rng } from './prng.js';

export interface Turn {
  fromClient: boolean;
  data: Buffer;
  /**
   * Quiet time in µs before its first byte, counted from the previous turn's last data segment (or the
   * handshake's ACK). A server turn's delay includes the round trip: the capture point is near the client.
   */
  delay: number;
}

export interface TcpPlan {
  flow: Flow;
  /** Round-trip time between the mirror port and the server, µs. */
  rtt: number;
  fate: TcpConnState;
  turns: Turn[];
  closer: 'client' | 'server';
  /** Quiet time after the last turn before the FIN or RST, µs. */
  idleBeforeClose: number;
  /** Index of the turn whose last segment is lost past the mirror and sent again (-1 for none). */
  retransmitTurn: number;
  /** S0 only: SYNs sent again (after 1 s, 2 s, 4 s... as Linux backs off). */
  synRetries: number;
  /** µs between back-to-back full segments from the server (its bottleneck link). */
  spacing: number;
  /** conn.log service the payload shows (http, ssl, ssh), counted when data flowed. */
  service?: string;
}

const CLIENT_SYN_WINDOW = 64240;
const SERVER_SYN_WINDOW = 65160;
const CLIENT_WINDOW = 502;
const SERVER_WINDOW = 509;
const INITIAL_BURST = 10;
const MAX_BURST = 64;
const MIN_RTO = 200_000;
const DELAYED_ACK = 40_000;
/** A client on gigabit Ethernet puts a full segment on the wire every ~12 µs. */
const CLIENT_SPACING = 12;

export function* tcpConversation(em: Emitter, rng: Rng, truth: GroundTruth, p: TcpPlan): Generator<number, void, void> {
  const f = p.flow;
  const mss = f.v6 ? 1428 : 1448; // MSS 1460/1440 less the 12 bytes of timestamp option
  let cSeq = rng.u32();
  let sSeq = rng.u32();
  const ackGap = (): number => 8 + rng.int(40);
  const stats: TcpStats = { origBytes: 0, respBytes: 0, origRetrans: 0, respRetrans: 0, synRetrans: 0 };

  em.tcp(f, true, TCP_SYN, cSeq, 0, CLIENT_SYN_WINDOW, TCP_OPTS_SYN, null, 0, 0);
  if (p.fate === 'S0') {
    let backoff = 1_000_000;
    for (let i = 0; i < p.synRetries; i++) {
      yield backoff;
      backoff *= 2;
      em.tcp(f, true, TCP_SYN, cSeq, 0, CLIENT_SYN_WINDOW, TCP_OPTS_SYN, null, 0, 0);
      stats.synRetrans++;
    }
    record(truth, p, stats);
    return;
  }
  yield p.rtt;
  if (p.fate === 'REJ') {
    em.tcp(f, false, TCP_RST | TCP_ACK, 0, (cSeq + 1) >>> 0, 0, TCP_OPTS_NONE, null, 0, 0);
    record(truth, p, stats);
    return;
  }
  em.tcp(f, false, TCP_SYN | TCP_ACK, sSeq, (cSeq + 1) >>> 0, SERVER_SYN_WINDOW, TCP_OPTS_SYN, null, 0, 0);
  cSeq = (cSeq + 1) >>> 0;
  sSeq = (sSeq + 1) >>> 0;
  yield ackGap();
  em.tcp(f, true, TCP_ACK, cSeq, sSeq, CLIENT_WINDOW, TCP_OPTS_TIMESTAMPS, null, 0, 0);

  /** µs already waited since the previous turn's last data segment. */
  let carry = 0;
  for (let i = 0; i < p.turns.length; i++) {
    const turn = p.turns[i];
    const fromClient = turn.fromClient;
    const next = p.turns[i + 1];
    yield Math.max(turn.delay - carry, 1);
    carry = 0;
    const len = turn.data.length;
    let sent = 0;
    let burstMax = INITIAL_BURST;
    while (sent < len) {
      let inBurst = 0;
      let unacked = 0;
      while (sent < len && inBurst < burstMax) {
        const n = Math.min(mss, len - sent);
        const last = sent + n === len;
        const flags = TCP_ACK | (last ? TCP_PSH : 0);
        const seq = fromClient ? cSeq : sSeq;
        const ack = fromClient ? sSeq : cSeq;
        const window = fromClient ? CLIENT_WINDOW : SERVER_WINDOW;
        em.tcp(f, fromClient, flags, seq, ack, window, TCP_OPTS_TIMESTAMPS, turn.data, sent, n);
        if (last && i === p.retransmitTurn) {
          yield MIN_RTO + p.rtt + rng.int(20_000);
          em.tcp(f, fromClient, flags, seq, ack, window, TCP_OPTS_TIMESTAMPS, turn.data, sent, n);
          if (fromClient) stats.origRetrans++;
          else stats.respRetrans++;
        }
        if (fromClient) cSeq = (cSeq + n) >>> 0;
        else sSeq = (sSeq + n) >>> 0;
        sent += n;
        inBurst++;
        unacked++;
        // The client is beside the mirror: its ACK (every second segment, and at a burst's end) shows at once.
        if (!fromClient && (unacked === 2 || sent === len || inBurst === burstMax)) {
          const gap = ackGap();
          yield gap;
          if (sent === len) carry += gap;
          em.tcp(f, true, TCP_ACK, cSeq, sSeq, CLIENT_WINDOW, TCP_OPTS_TIMESTAMPS, null, 0, 0);
          unacked = 0;
        }
        if (sent < len && inBurst < burstMax) yield fromClient ? CLIENT_SPACING : p.spacing;
      }
      if (fromClient) {
        // The server's ACK comes back a round trip later; a lone segment's is delayed unless the reply carries it.
        const finalBurst = sent === len;
        const replySoon = next !== undefined && !next.fromClient && next.delay <= p.rtt + DELAYED_ACK;
        if (!(finalBurst && inBurst === 1 && replySoon)) {
          const wait = p.rtt + (inBurst === 1 ? DELAYED_ACK : 0);
          yield wait;
          if (finalBurst) carry += wait;
          em.tcp(f, false, TCP_ACK, sSeq, cSeq, SERVER_WINDOW, TCP_OPTS_TIMESTAMPS, null, 0, 0);
          if (!finalBurst) yield CLIENT_SPACING;
        }
      } else if (sent < len) {
        yield p.rtt; // the server waits for the client's ACKs before its next burst
      }
      burstMax = Math.min(burstMax * 2, MAX_BURST);
    }
    if (fromClient) stats.origBytes += len;
    else stats.respBytes += len;
  }

  yield Math.max(p.idleBeforeClose - carry, 1);
  if (p.fate === 'RSTO') {
    em.tcp(f, true, TCP_RST | TCP_ACK, cSeq, sSeq, 0, TCP_OPTS_NONE, null, 0, 0);
  } else if (p.fate === 'RSTR') {
    em.tcp(f, false, TCP_RST | TCP_ACK, sSeq, cSeq, 0, TCP_OPTS_NONE, null, 0, 0);
  } else if (p.closer === 'client') {
    em.tcp(f, true, TCP_FIN | TCP_ACK, cSeq, sSeq, CLIENT_WINDOW, TCP_OPTS_TIMESTAMPS, null, 0, 0);
    cSeq = (cSeq + 1) >>> 0;
    yield p.rtt;
    em.tcp(f, false, TCP_FIN | TCP_ACK, sSeq, cSeq, SERVER_WINDOW, TCP_OPTS_TIMESTAMPS, null, 0, 0);
    sSeq = (sSeq + 1) >>> 0;
    yield ackGap();
    em.tcp(f, true, TCP_ACK, cSeq, sSeq, CLIENT_WINDOW, TCP_OPTS_TIMESTAMPS, null, 0, 0);
  } else {
    em.tcp(f, false, TCP_FIN | TCP_ACK, sSeq, cSeq, SERVER_WINDOW, TCP_OPTS_TIMESTAMPS, null, 0, 0);
    sSeq = (sSeq + 1) >>> 0;
    yield ackGap() + rng.int(200);
    em.tcp(f, true, TCP_FIN | TCP_ACK, cSeq, sSeq, CLIENT_WINDOW, TCP_OPTS_TIMESTAMPS, null, 0, 0);
    cSeq = (cSeq + 1) >>> 0;
    yield p.rtt;
    em.tcp(f, false, TCP_ACK, sSeq, cSeq, SERVER_WINDOW, TCP_OPTS_TIMESTAMPS, null, 0, 0);
  }
  record(truth, p, stats);
}

export interface TcpStats {
  origBytes: number;
  respBytes: number;
  origRetrans: number;
  respRetrans: number;
  synRetrans: number;
}

function record(truth: GroundTruth, p: TcpPlan, s: TcpStats): void {
  recordTcpConnection(truth, p.flow, p.fate, s, p.service);
}

/** Counts one finished TCP connection in the ground truth (and lists it with `details`). */
export function recordTcpConnection(truth: GroundTruth, f: Flow, fate: TcpConnState, s: TcpStats, plannedService?: string): void {
  const t = truth.tcp;
  t.connections++;
  t.states[fate]++;
  if (f.v6) t.ipv6Connections++;
  t.origBytes += s.origBytes;
  t.respBytes += s.respBytes;
  t.origRetransmits += s.origRetrans;
  t.respRetransmits += s.respRetrans;
  t.synRetransmits += s.synRetrans;
  const service = s.origBytes + s.respBytes > 0 ? plannedService : undefined;
  if (service) bump(t.services, service);
  truth.connections?.push({
    proto: 'tcp',
    'id.orig_h': (f.v6 ? f.client.v6Text : f.client.v4Text) ?? '',
    'id.orig_p': f.clientPort,
    'id.resp_h': (f.v6 ? f.server.v6Text : f.server.v4Text) ?? '',
    'id.resp_p': f.serverPort,
    conn_state: fate,
    ...(service ? { service } : {}),
    orig_bytes: s.origBytes,
    resp_bytes: s.respBytes,
    orig_pkts: f.origPkts,
    resp_pkts: f.respPkts,
    orig_ip_bytes: f.origIpBytes,
    resp_ip_bytes: f.respIpBytes,
    orig_retrans: s.origRetrans,
    resp_retrans: s.respRetrans,
  });
}
