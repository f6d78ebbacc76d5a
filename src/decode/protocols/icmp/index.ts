import { Handoff, type ProtocolRegistration } from '../../registry.js';
import { IPPROTO_ICMP, IPPROTO_ICMPV6 } from '../numbers.js';
import { icmpDecoder, icmpv6Decoder } from './decoder.js';

export { icmpDecoder, icmpv6Decoder } from './decoder.js';

export const icmpRegistration: ProtocolRegistration = {
  decoder: icmpDecoder,
  handoffs: [{ table: Handoff.IpProto, key: IPPROTO_ICMP }],
};

export const icmpv6Registration: ProtocolRegistration = {
  decoder: icmpv6Decoder,
  handoffs: [{ table: Handoff.IpProto, key: IPPROTO_ICMPV6 }],
};
