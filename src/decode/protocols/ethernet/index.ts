import { Handoff, type ProtocolRegistration } from '../../registry.js';
import { ETHERTYPE_TEB, LINKTYPE_ETHERNET } from '../numbers.js';
import { ethernetDecoder } from './decoder.js';

export { ethernetDecoder } from './decoder.js';

/** LINKTYPE_ETHERNET frames, and Ethernet carried by a tunnel (GRE/VXLAN/Geneve hand off on 0x6558). */
export const ethernetRegistration: ProtocolRegistration = {
  decoder: ethernetDecoder,
  handoffs: [
    { table: Handoff.LinkType, key: LINKTYPE_ETHERNET },
    { table: Handoff.GreProto, key: ETHERTYPE_TEB },
  ],
};
