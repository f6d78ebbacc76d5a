import { Handoff, type ProtocolRegistration } from '../../registry.js';
import { ETHERTYPE_PBB } from '../numbers.js';
import { pbbDecoder } from './decoder.js';

export { pbbDecoder } from './decoder.js';

export const pbbRegistration: ProtocolRegistration = {
  decoder: pbbDecoder,
  handoffs: [{ table: Handoff.EtherType, key: ETHERTYPE_PBB }],
};
