import { Handoff, type LayerDecoder } from '../../registry.js';
import type { Packet } from '../../packet.js';
import { defineWeird, type WeirdCounter } from '../../weirds.js';
import { ETHERTYPE_MIN } from '../numbers.js';

const W_TRUNCATED = defineWeird('truncated_ethernet_frame');
const W_LLC_TRUNCATED = defineWeird('truncated_llc_header');

const ETHERNET_HEADER = 14;
const LLC_SNAP_HEADER = 8;

/**
 * Ethernet II (DIX) and IEEE 802.3. An 802.3 frame carries a length instead of a type; only LLC/SNAP
 * frames tell what they carry (the SNAP type is an EtherType), so other LLC frames (STP, NetBIOS...) stop here.
 * Also the payload of GRE/VXLAN/Geneve "transparent Ethernet bridging": `macOffset` then points at the inner header.
 */
export const ethernetDecoder: LayerDecoder = {
  name: 'ethernet',
  decode(pkt: Packet, offset: number, end: number, weirds: WeirdCounter): number {
    if (offset + ETHERNET_HEADER > end) {
      weirds.add(W_TRUNCATED);
      return -1;
    }
    pkt.macOffset = offset;
    const typeOrLength = pkt.view.getUint16(offset + 12, false);
    if (typeOrLength >= ETHERTYPE_MIN) {
      pkt.etherType = typeOrLength;
      pkt.nextTable = Handoff.EtherType;
      pkt.nextKey = typeOrLength;
      return offset + ETHERNET_HEADER;
    }
    // 802.3: 1501..1535 are neither a length nor a type; tshark shows them as invalid and stops too.
    const llc = offset + ETHERNET_HEADER;
    if (llc + 3 > end) {
      weirds.add(W_LLC_TRUNCATED);
      return -1;
    }
    const data = pkt.data;
    if (data[llc] !== 0xaa || data[llc + 1] !== 0xaa || data[llc + 2] !== 0x03) return -1;
    if (llc + LLC_SNAP_HEADER > end) {
      weirds.add(W_LLC_TRUNCATED);
      return -1;
    }
    const snapType = pkt.view.getUint16(llc + 6, false);
    // Only OUI 00-00-00 (RFC 1042) and 00-00-F8 (802.1H) carry an EtherType; others name vendor protocols (CDP...).
    const oui = (data[llc + 3] << 16) | (data[llc + 4] << 8) | data[llc + 5];
    if ((oui !== 0 && oui !== 0xf8) || snapType < ETHERTYPE_MIN) return -1;
    pkt.etherType = snapType;
    pkt.nextTable = Handoff.EtherType;
    pkt.nextKey = snapType;
    return llc + LLC_SNAP_HEADER;
  },
};
