import { Handoff, type ProtocolRegistration } from '../../registry.js';
import { IPPROTO_TCP } from '../numbers.js';
import { tcpDecoder } from './decoder.js';

export { tcpDecoder } from './decoder.js';

export const tcpRegistration: ProtocolRegistration = {
  decoder: tcpDecoder,
  handoffs: [{ table: Handoff.IpProto, key: IPPROTO_TCP }],
};
