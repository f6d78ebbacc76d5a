import { Handoff, type ProtocolRegistration } from '../../registry.js';
import { ETHERTYPE_IPV6, IPPROTO_IPV6 } from '../numbers.js';
import { ipv6Decoder } from './decoder.js';

export { ipv6Decoder } from './decoder.js';

/** IPv6 after a link layer, inside IP (6in4, 6in6) and inside GRE. */
export const ipv6Registration: ProtocolRegistration = {
  decoder: ipv6Decoder,
  handoffs: [
    { table: Handoff.EtherType, key: ETHERTYPE_IPV6 },
    { table: Handoff.IpProto, key: IPPROTO_IPV6 },
    { table: Handoff.GreProto, key: ETHERTYPE_IPV6 },
  ],
};
