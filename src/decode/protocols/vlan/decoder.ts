import { Handoff, type LayerDecoder } from '../../registry.js';
import type { Packet } from '../../packet.js';
import { defineWeird, type WeirdCounter } from '../../weirds.js';

const W_TRUNCATED = defineWeird('truncated_VLAN_header');

const TAG_LENGTH = 4;

/**
 * One 802.1Q / 802.1ad / 0x9100 tag: TCI (priority 3 bits, DEI 1 bit, VLAN id 12 bits) then the next EtherType.
 * Stacked tags come back here through the EtherType table; the first sets `vlan`, the second `innerVlan`,
 * and `vlanDepth` counts them all (QinQinQ has three).
 */
export const vlanDecoder: LayerDecoder = {
  name: 'vlan',
  decode(pkt: Packet, offset: number, end: number, weirds: WeirdCounter): number {
    if (offset + TAG_LENGTH > end) {
      weirds.add(W_TRUNCATED);
      return -1;
    }
    const id = pkt.view.getUint16(offset, false) & 0x0fff;
    const type = pkt.view.getUint16(offset + 2, false);
    if (pkt.vlanDepth === 0) pkt.vlan = id;
    else if (pkt.vlanDepth === 1) pkt.innerVlan = id;
    pkt.vlanDepth++;
    pkt.etherType = type;
    pkt.nextTable = Handoff.EtherType;
    pkt.nextKey = type;
    return offset + TAG_LENGTH;
  },
};
