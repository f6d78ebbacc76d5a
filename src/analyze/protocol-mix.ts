/**
 * The protocol mix a person reads: each protocol's packets as a share of all packets (a layer seen in every
 * packet reads 100%), link layers left out (every packet has one; `sll 27%` beside `ipv4 26%` says nothing).
 * Shared by `loopy read`'s summary and the UI's Traffic and Overview views. Shares of one mix can add up to more
 * than 100%: a TCP packet counts for ipv4 and for tcp.
 */
import { LINK_LAYER_NAMES } from '../decode/protocols/index.js';

export interface ProtocolShare {
  name: string;
  packets: number;
  /** Percent of all packets, 0..100. */
  percent: number;
}

/** `counts` (packets per protocol layer, as summaries and stats records carry them) over `packets`, biggest first. */
export function protocolShares(counts: Readonly<Record<string, number>>, packets: number): ProtocolShare[] {
  return Object.entries(counts)
    .filter(([name, n]) => n > 0 && !LINK_LAYER_NAMES.has(name))
    .map(([name, n]) => ({ name, packets: n, percent: packets > 0 ? Math.min(100, (n / packets) * 100) : 0 }))
    .sort((a, b) => b.packets - a.packets || a.name.localeCompare(b.name));
}
