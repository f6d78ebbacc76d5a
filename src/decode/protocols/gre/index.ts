import { Handoff, type ProtocolRegistration } from '../../registry.js';
import { IPPROTO_GRE } from '../numbers.js';
import { greDecoder } from './decoder.js';

export { greDecoder } from './decoder.js';

export const greRegistration: ProtocolRegistration = {
  decoder: greDecoder,
  handoffs: [{ table: Handoff.IpProto, key: IPPROTO_GRE }],
};
