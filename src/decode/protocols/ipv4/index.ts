import { Handoff, type ProtocolRegistration } from '../../registry.js';
import { ETHERTYPE_IPV4, IPPROTO_IPIP } from '../numbers.js';
import { ipv4Decoder } from './decoder.js';

export { ipv4Decoder } from './decoder.js';

/** IPv4 after a link layer, inside IP (IP-in-IP, 4in6) and inside GRE. */
export const ipv4Registration: ProtocolRegistration = {
  decoder: ipv4Decoder,
  handoffs: [
    { table: Handoff.EtherType, key: ETHERTYPE_IPV4 },
    { table: Handoff.IpProto, key: IPPROTO_IPIP },
    { table: Handoff.GreProto, key: ETHERTYPE_IPV4 },
  ],
};
