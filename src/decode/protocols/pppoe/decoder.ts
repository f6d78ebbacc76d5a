import { Handoff, type LayerDecoder } from '../../registry.js';
import type { Packet } from '../../packet.js';
import { defineWeird, type WeirdCounter } from '../../weirds.js';
import { ETHERTYPE_PPP } from '../numbers.js';

const W_TRUNCATED = defineWeird('truncated_pppoe_header');
const W_BAD_VERSION = defineWeird('pppoe_bad_version');

/** Version/type, code, session id, payload length. */
const PPPOE_HEADER = 6;

/**
 * A PPPoE session frame (0x8864): a 6-byte header, then a PPP frame without address/control bytes, which
 * the PPP decoder (EtherType 0x880B) takes. Discovery frames (0x8863) carry no traffic and are not decoded.
 */
export const pppoeDecoder: LayerDecoder = {
  name: 'pppoe',
  decode(pkt: Packet, offset: number, end: number, weirds: WeirdCounter): number {
    if (offset + PPPOE_HEADER > end) {
      weirds.add(W_TRUNCATED);
      return -1;
    }
    // Version 1, type 1 is the only one defined (RFC 2516); session data has code 0.
    if (pkt.data[offset] !== 0x11 || pkt.data[offset + 1] !== 0x00) {
      weirds.add(W_BAD_VERSION);
      return -1;
    }
    pkt.nextTable = Handoff.EtherType;
    pkt.nextKey = ETHERTYPE_PPP;
    return offset + PPPOE_HEADER;
  },
};
