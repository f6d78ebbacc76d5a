import { Handoff, type ProtocolRegistration } from '../../registry.js';
import { ETHERTYPE_PPPOE_SESSION } from '../numbers.js';
import { pppoeDecoder } from './decoder.js';

export { pppoeDecoder } from './decoder.js';

export const pppoeRegistration: ProtocolRegistration = {
  decoder: pppoeDecoder,
  handoffs: [{ table: Handoff.EtherType, key: ETHERTYPE_PPPOE_SESSION }],
};
