import { Handoff, type ProtocolRegistration } from '../../registry.js';
import { IPPROTO_UDP } from '../numbers.js';
import { udpDecoder } from './decoder.js';

export { udpDecoder } from './decoder.js';

export const udpRegistration: ProtocolRegistration = {
  decoder: udpDecoder,
  handoffs: [{ table: Handoff.IpProto, key: IPPROTO_UDP }],
};
