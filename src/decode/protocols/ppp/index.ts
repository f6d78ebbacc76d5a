import { Handoff, type ProtocolRegistration } from '../../registry.js';
import { ETHERTYPE_PPP, LINKTYPE_PPP, LINKTYPE_PPP_HDLC } from '../numbers.js';
import { pppDecoder } from './decoder.js';

export { pppDecoder } from './decoder.js';

/** PPP link types, PPP in GRE (PPTP), and PPP as an EtherType (0x880B), which is how PPPoE hands off. */
export const pppRegistration: ProtocolRegistration = {
  decoder: pppDecoder,
  handoffs: [
    { table: Handoff.LinkType, key: LINKTYPE_PPP },
    { table: Handoff.LinkType, key: LINKTYPE_PPP_HDLC },
    { table: Handoff.EtherType, key: ETHERTYPE_PPP },
    { table: Handoff.GreProto, key: ETHERTYPE_PPP },
  ],
};
