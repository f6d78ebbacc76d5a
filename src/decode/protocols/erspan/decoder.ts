import { Handoff, type LayerDecoder } from '../../registry.js';
import type { Packet } from '../../packet.js';
import { defineWeird, type WeirdCounter } from '../../weirds.js';
import { ETHERTYPE_TEB } from '../numbers.js';

const W_TRUNCATED = defineWeird('truncated_GRE');
const W_UNKNOWN_VERSION = defineWeird('erspan_unknown_version');

const TYPE_II_HEADER = 8;
const TYPE_III_HEADER = 12;
/** Type III's optional platform-specific subheader, present when the O bit is set. */
const TYPE_III_SUBHEADER = 8;
const VERSION_TYPE_II = 1;
const VERSION_TYPE_III = 2;

/** Checks the version nibble of a header of `minimum` bytes; returns false (weird counted) when unusable. */
function checkHeader(pkt: Packet, offset: number, end: number, minimum: number, version: number, weirds: WeirdCounter): boolean {
  if (offset + minimum > end) {
    weirds.add(W_TRUNCATED);
    return false;
  }
  if (pkt.data[offset] >> 4 !== version) {
    weirds.add(W_UNKNOWN_VERSION);
    return false;
  }
  pkt.nextTable = Handoff.GreProto;
  pkt.nextKey = ETHERTYPE_TEB;
  return true;
}

/**
 * ERSPAN type II (Cisco encapsulated remote SPAN, GRE 0x88BE, version 1): a mirrored Ethernet frame after
 * an 8-byte header. Type I (the same GRE type with no header, never standardised) cannot be told apart
 * reliably and is not handled.
 */
export const erspanTypeIIDecoder: LayerDecoder = {
  name: 'erspan2',
  decode(pkt: Packet, offset: number, end: number, weirds: WeirdCounter): number {
    return checkHeader(pkt, offset, end, TYPE_II_HEADER, VERSION_TYPE_II, weirds) ? offset + TYPE_II_HEADER : -1;
  },
};

/** ERSPAN type III (GRE 0x22EB, version 2): a 12-byte header, plus 8 more when the O bit is set. */
export const erspanTypeIIIDecoder: LayerDecoder = {
  name: 'erspan3',
  decode(pkt: Packet, offset: number, end: number, weirds: WeirdCounter): number {
    if (!checkHeader(pkt, offset, end, TYPE_III_HEADER, VERSION_TYPE_III, weirds)) return -1;
    return offset + TYPE_III_HEADER + ((pkt.data[offset + 11] & 0x01) !== 0 ? TYPE_III_SUBHEADER : 0);
  },
};
