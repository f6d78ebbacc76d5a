import type { LayerDecoder } from '../../registry.js';
import type { Packet } from '../../packet.js';
import { defineWeird, type WeirdCounter } from '../../weirds.js';

const W_TRUNCATED = defineWeird('truncated_ARP');

/** Hardware type, protocol type, the two address lengths, and the opcode. */
const ARP_FIXED = 8;

/**
 * ARP: checks that the whole message (fixed part plus both address pairs) was captured and records where
 * it starts; the ARP analyzer reads the opcode and addresses from `arpOffset` off the hot path.
 */
export const arpDecoder: LayerDecoder = {
  name: 'arp',
  decode(pkt: Packet, offset: number, end: number, weirds: WeirdCounter): number {
    if (offset + ARP_FIXED > end) {
      weirds.add(W_TRUNCATED);
      return -1;
    }
    const hardwareLength = pkt.data[offset + 4];
    const protocolLength = pkt.data[offset + 5];
    if (offset + ARP_FIXED + 2 * (hardwareLength + protocolLength) > end) {
      weirds.add(W_TRUNCATED);
      return -1;
    }
    pkt.arpOffset = offset;
    return -1;
  },
};
