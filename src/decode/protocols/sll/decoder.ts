import { Handoff, type LayerDecoder } from '../../registry.js';
import type { Packet } from '../../packet.js';
import { defineWeird, type WeirdCounter } from '../../weirds.js';
import { ETHERTYPE_MIN } from '../numbers.js';

const W_TRUNCATED = defineWeird('truncated_Linux_SLL_header');

const SLL_HEADER = 16;
const SLL2_HEADER = 20;
/** With this ARPHRD type the protocol field holds a GRE protocol type (an ip_gre tunnel device). */
const ARPHRD_IPGRE = 778;

/** Shared tail of both versions: the protocol field names the payload, as an EtherType in the usual case. */
function handOff(pkt: Packet, protocol: number, hardwareType: number, payload: number): number {
  if (protocol < ETHERTYPE_MIN) return -1; // Novell 802.3, raw 802.2 LLC, CAN...: not traffic we follow.
  pkt.etherType = protocol;
  pkt.nextTable = hardwareType === ARPHRD_IPGRE ? Handoff.GreProto : Handoff.EtherType;
  pkt.nextKey = protocol;
  return payload;
}

/**
 * Linux "cooked" capture v1 (LINKTYPE_LINUX_SLL, what `-i any` gives): packet type, ARPHRD type, address
 * length, 8 address bytes, protocol. There is no Ethernet header, so `macOffset` stays -1.
 */
export const sllDecoder: LayerDecoder = {
  name: 'sll',
  decode(pkt: Packet, offset: number, end: number, weirds: WeirdCounter): number {
    if (offset + SLL_HEADER > end) {
      weirds.add(W_TRUNCATED);
      return -1;
    }
    const view = pkt.view;
    return handOff(pkt, view.getUint16(offset + 14, false), view.getUint16(offset + 2, false), offset + SLL_HEADER);
  },
};

/**
 * Linux cooked capture v2 (LINKTYPE_LINUX_SLL2): protocol, reserved, interface index, ARPHRD type, packet
 * type, address length, 8 address bytes.
 */
export const sll2Decoder: LayerDecoder = {
  name: 'sll2',
  decode(pkt: Packet, offset: number, end: number, weirds: WeirdCounter): number {
    if (offset + SLL2_HEADER > end) {
      weirds.add(W_TRUNCATED);
      return -1;
    }
    const view = pkt.view;
    return handOff(pkt, view.getUint16(offset, false), view.getUint16(offset + 8, false), offset + SLL2_HEADER);
  },
};
