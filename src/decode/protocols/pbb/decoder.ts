import { Handoff, type LayerDecoder } from '../../registry.js';
import type { Packet } from '../../packet.js';
import { defineWeird, type WeirdCounter } from '../../weirds.js';
import { ETHERTYPE_TEB } from '../numbers.js';

const W_TRUNCATED = defineWeird('truncated_PBB_header');

/** Priority, DEI, UCA and reserved bits, then the 24-bit service instance id. */
const I_TAG = 4;

/**
 * 802.1ah Provider Backbone Bridging (MAC-in-MAC, EtherType 0x88E7): an I-TAG, then the customer's whole
 * Ethernet header. A frame nesting itself over and over ends at the dissector's layer limit.
 */
export const pbbDecoder: LayerDecoder = {
  name: 'pbb',
  decode(pkt: Packet, offset: number, end: number, weirds: WeirdCounter): number {
    if (offset + I_TAG > end) {
      weirds.add(W_TRUNCATED);
      return -1;
    }
    pkt.nextTable = Handoff.GreProto;
    pkt.nextKey = ETHERTYPE_TEB;
    return offset + I_TAG;
  },
};
