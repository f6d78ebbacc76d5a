import { Handoff, type LayerDecoder } from '../../registry.js';
import type { Packet } from '../../packet.js';
import { defineWeird, type WeirdCounter } from '../../weirds.js';
import { ETHERTYPE_TEB, UDP_PORT_VXLAN } from '../numbers.js';
import { sentToUdpPort } from '../udp-port.js';

const W_TRUNCATED = defineWeird('vxlan_truncated');
const W_BAD_FLAGS = defineWeird('vxlan_bad_flags');

const HEADER = 8;
/** The "I" flag: the VNI is valid. RFC 7348 requires it. */
const FLAG_VNI = 0x08;

/**
 * VXLAN (RFC 7348, UDP 4789): flags, reserved, 24-bit VNI, reserved, then an Ethernet frame. The outer UDP
 * datagram has already gone to the sink; the inner frame's IP header counts as one more tunnel level.
 */
export const vxlanDecoder: LayerDecoder = {
  name: 'vxlan',
  decode(pkt: Packet, offset: number, end: number, weirds: WeirdCounter): number {
    if (!sentToUdpPort(pkt, UDP_PORT_VXLAN)) return -1;
    if (offset + HEADER > end) {
      weirds.add(W_TRUNCATED);
      return -1;
    }
    if ((pkt.data[offset] & FLAG_VNI) === 0) {
      weirds.add(W_BAD_FLAGS);
      return -1;
    }
    pkt.nextTable = Handoff.GreProto;
    pkt.nextKey = ETHERTYPE_TEB;
    return offset + HEADER;
  },
};
