import { Handoff, type ProtocolRegistration } from '../../registry.js';
import { ETHERTYPE_ARP } from '../numbers.js';
import { arpDecoder } from './decoder.js';

export { arpDecoder } from './decoder.js';

export const arpRegistration: ProtocolRegistration = {
  decoder: arpDecoder,
  handoffs: [{ table: Handoff.EtherType, key: ETHERTYPE_ARP }],
};
