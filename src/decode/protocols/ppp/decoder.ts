import { Handoff, type LayerDecoder } from '../../registry.js';
import type { Packet } from '../../packet.js';
import { defineWeird, type WeirdCounter } from '../../weirds.js';
import { ETHERTYPE_IPV4, ETHERTYPE_IPV6, ETHERTYPE_MPLS } from '../numbers.js';

const W_TRUNCATED = defineWeird('truncated_ppp_header');

const PPP_IPV4 = 0x0021;
const PPP_IPV6 = 0x0057;
const PPP_MPLS = 0x0281;

/**
 * A PPP frame: an optional HDLC address/control pair (FF 03), then the protocol field (two bytes, or one when
 * compressed: a protocol's first byte is even, its last odd). Only network protocols are followed; link
 * control (LCP, IPCP, ...) stops here.
 */
export const pppDecoder: LayerDecoder = {
  name: 'ppp',
  decode(pkt: Packet, offset: number, end: number, weirds: WeirdCounter): number {
    const data = pkt.data;
    let at = offset;
    if (at + 2 <= end && data[at] === 0xff && data[at + 1] === 0x03) at += 2;
    if (at >= end) {
      weirds.add(W_TRUNCATED);
      return -1;
    }
    let protocol: number;
    if ((data[at] & 0x01) !== 0) {
      protocol = data[at];
      at += 1;
    } else {
      if (at + 2 > end) {
        weirds.add(W_TRUNCATED);
        return -1;
      }
      protocol = pkt.view.getUint16(at, false);
      at += 2;
    }
    let type: number;
    if (protocol === PPP_IPV4) type = ETHERTYPE_IPV4;
    else if (protocol === PPP_IPV6) type = ETHERTYPE_IPV6;
    else if (protocol === PPP_MPLS) type = ETHERTYPE_MPLS;
    else return -1;
    pkt.etherType = type;
    pkt.nextTable = Handoff.EtherType;
    pkt.nextKey = type;
    return at;
  },
};
