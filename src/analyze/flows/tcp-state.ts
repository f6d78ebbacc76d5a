/**
 * TCP endpoint states and Zeek's conn_state, as Zeek's TCP analyzer and base/protocols/conn define them.
 * Pure functions over numbers: the per-flow columns live in Connections.
 */
export const EndpointState = {
  Inactive: 0,
  SynSent: 1,
  SynAckSent: 2,
  Partial: 3,
  Established: 4,
  Closed: 5,
  Reset: 6,
} as const;

const S = EndpointState;

/** Zeek's conn_state for a TCP connection from its two endpoint states, history and payload sizes. */
export function tcpConnState(orig: number, resp: number, history: string, origBytes: number, respBytes: number): string {
  const origInactive = orig === S.Inactive || orig === S.Partial;
  const respInactive = resp === S.Inactive || resp === S.Partial;
  if (resp === S.Reset) {
    if (orig === S.SynSent || orig === S.SynAckSent || (orig === S.Reset && origBytes === 0 && respBytes === 0)) return 'REJ';
    return origInactive ? 'RSTRH' : 'RSTR';
  }
  if (orig === S.Reset) {
    if (respInactive) return /^\^?S[^HAFGIQ]*R/.test(history) ? 'RSTOS0' : 'OTH';
    return 'RSTO';
  }
  if (resp === S.Closed && orig === S.Closed) return 'SF';
  if (orig === S.Closed) return respInactive ? 'SH' : 'S2';
  if (resp === S.Closed) return origInactive ? 'SHR' : 'S3';
  if (orig === S.SynSent && resp === S.Inactive) return 'S0';
  if (orig === S.Established && resp === S.Established) return 'S1';
  return 'OTH';
}

/** Zeek's conn_state for UDP (and other datagram) flows: who sent anything. */
export function datagramConnState(origPackets: number, respPackets: number): string {
  if (origPackets > 0) return respPackets > 0 ? 'SF' : 'S0';
  return respPackets > 0 ? 'SHR' : 'OTH';
}

/** History letters, orig's in upper case. Bits index HISTORY_LETTERS. */
export const HISTORY_LETTERS = 'shadfrtwqg';
export const H_SYN = 0;
export const H_SYNACK = 1;
export const H_ACK = 2;
export const H_DATA = 3;
export const H_FIN = 4;
export const H_RST = 5;
export const H_RETRANS = 6;
export const H_ZERO_WINDOW = 7;
export const H_MULTI_FLAG = 8;
export const H_GAP = 9;

/** Zeek logs repeated events (retransmissions, zero windows) at 1, 10, 100... occurrences. */
export function isLoggedRepeat(count: number): boolean {
  while (count >= 10 && count % 10 === 0) count /= 10;
  return count === 1;
}
