import { Handoff, type ProtocolRegistration } from '../../registry.js';
import { ETHERTYPE_ERSPAN_II, ETHERTYPE_ERSPAN_III } from '../numbers.js';
import { erspanTypeIIDecoder, erspanTypeIIIDecoder } from './decoder.js';

export { erspanTypeIIDecoder, erspanTypeIIIDecoder } from './decoder.js';

export const erspanTypeIIRegistration: ProtocolRegistration = {
  decoder: erspanTypeIIDecoder,
  handoffs: [{ table: Handoff.GreProto, key: ETHERTYPE_ERSPAN_II }],
};

export const erspanTypeIIIRegistration: ProtocolRegistration = {
  decoder: erspanTypeIIIDecoder,
  handoffs: [{ table: Handoff.GreProto, key: ETHERTYPE_ERSPAN_III }],
};
