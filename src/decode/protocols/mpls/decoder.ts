import { Handoff, type LayerDecoder } from '../../registry.js';
import type { Packet } from '../../packet.js';
import { defineWeird, type WeirdCounter } from '../../weirds.js';
import { sentToUdpPort } from '../udp-port.js';
import { ETHERTYPE_MPLS, UDP_PORT_MPLS, etherTypeOfIpVersion } from '../numbers.js';

const W_TRUNCATED = defineWeird('truncated_link_header');
const W_NO_IP = defineWeird('mpls_no_ip_payload');

const LABEL_LENGTH = 4;

/**
 * An MPLS label stack (unicast 0x8847, multicast 0x8848, in GRE, in IP (137) or in UDP port 6635).
 * Labels are popped to the bottom-of-stack bit; the payload type is not signalled, so like tshark and Zeek
 * we guess IPv4 or IPv6 from the first nibble. Pseudowire payloads (Ethernet over MPLS) are not decoded.
 */
export const mplsDecoder: LayerDecoder = {
  name: 'mpls',
  decode(pkt: Packet, offset: number, end: number, weirds: WeirdCounter): number {
    const data = pkt.data;
    let at = offset;
    for (;;) {
      if (at + LABEL_LENGTH > end) {
        weirds.add(W_TRUNCATED);
        return -1;
      }
      const bottom = (data[at + 2] & 0x01) !== 0;
      at += LABEL_LENGTH;
      if (bottom) break;
    }
    if (at >= end) {
      weirds.add(W_TRUNCATED);
      return -1;
    }
    const type = etherTypeOfIpVersion(data[at]);
    if (type === 0) {
      weirds.add(W_NO_IP);
      return -1;
    }
    pkt.etherType = type;
    pkt.nextTable = Handoff.EtherType;
    pkt.nextKey = type;
    return at;
  },
};


/**
 * MPLS in UDP (RFC 7510): the UDP payload is a label stack. A separate step so that the port check (the
 * packet must go *to* 6635, not merely come from it) does not apply to MPLS reached any other way.
 */
export const mplsOverUdpDecoder: LayerDecoder = {
  name: 'mpls-udp',
  decode(pkt: Packet, offset: number): number {
    if (!sentToUdpPort(pkt, UDP_PORT_MPLS)) return -1;
    pkt.nextTable = Handoff.EtherType;
    pkt.nextKey = ETHERTYPE_MPLS;
    return offset;
  },
};
