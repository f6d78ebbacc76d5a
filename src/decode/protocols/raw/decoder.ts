import { Handoff, type LayerDecoder } from '../../registry.js';
import type { Packet } from '../../packet.js';
import { defineWeird, type WeirdCounter } from '../../weirds.js';
import { ETHERTYPE_IPV4, ETHERTYPE_IPV6, LINKTYPE_IPV4, LINKTYPE_IPV6, etherTypeOfIpVersion } from '../numbers.js';

const W_TRUNCATED = defineWeird('truncated_IP');
const W_UNKNOWN_VERSION = defineWeird('unknown_ip_version');

/**
 * Frames that start with the IP header. LINKTYPE_IPV4/IPV6 say which; LINKTYPE_RAW (and the DLT_RAW values
 * 12 and 14 old libpcaps wrote) leave it to the version nibble. The IP decoders check the version again.
 */
export const rawDecoder: LayerDecoder = {
  name: 'raw',
  decode(pkt: Packet, offset: number, end: number, weirds: WeirdCounter): number {
    let type: number;
    if (pkt.linkType === LINKTYPE_IPV4) type = ETHERTYPE_IPV4;
    else if (pkt.linkType === LINKTYPE_IPV6) type = ETHERTYPE_IPV6;
    else {
      if (offset >= end) {
        weirds.add(W_TRUNCATED);
        return -1;
      }
      type = etherTypeOfIpVersion(pkt.data[offset]);
      if (type === 0) {
        weirds.add(W_UNKNOWN_VERSION);
        return -1;
      }
    }
    pkt.etherType = type;
    pkt.nextTable = Handoff.EtherType;
    pkt.nextKey = type;
    return offset;
  },
};
