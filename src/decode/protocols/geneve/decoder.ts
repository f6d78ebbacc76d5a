import { Handoff, type LayerDecoder } from '../../registry.js';
import type { Packet } from '../../packet.js';
import { defineWeird, type WeirdCounter } from '../../weirds.js';
import { UDP_PORT_GENEVE } from '../numbers.js';
import { sentToUdpPort } from '../udp-port.js';

const W_TRUNCATED = defineWeird('geneve_truncated');
const W_BAD_VERSION = defineWeird('geneve_invalid_version');

const BASE_HEADER = 8;

/**
 * Geneve (RFC 8926, UDP 6081): version and option length, flags, protocol type, VNI, then options. The
 * protocol type is an EtherType (0x6558 for an Ethernet frame), so it keys the GreProto table like GRE's.
 */
export const geneveDecoder: LayerDecoder = {
  name: 'geneve',
  decode(pkt: Packet, offset: number, end: number, weirds: WeirdCounter): number {
    if (!sentToUdpPort(pkt, UDP_PORT_GENEVE)) return -1;
    if (offset + BASE_HEADER > end) {
      weirds.add(W_TRUNCATED);
      return -1;
    }
    const first = pkt.data[offset];
    if (first >> 6 !== 0) {
      weirds.add(W_BAD_VERSION);
      return -1;
    }
    const header = BASE_HEADER + (first & 0x3f) * 4;
    if (offset + header > end) {
      weirds.add(W_TRUNCATED);
      return -1;
    }
    pkt.nextTable = Handoff.GreProto;
    pkt.nextKey = pkt.view.getUint16(offset + 2, false);
    return offset + header;
  },
};
