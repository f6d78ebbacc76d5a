import type { Packet } from '../packet.js';
import { IPPROTO_UDP } from './numbers.js';

/**
 * The UDP decoder hands off on the destination port and falls back to the source port. Tunnels whose
 * packets always go *to* the well-known port (VXLAN, Geneve, MPLS/UDP) call this to ignore a packet that
 * merely left from it (an ephemeral source port that happens to collide), without counting a weird.
 */
export function sentToUdpPort(pkt: Packet, port: number): boolean {
  return pkt.transport === IPPROTO_UDP && pkt.dstPort === port;
}
