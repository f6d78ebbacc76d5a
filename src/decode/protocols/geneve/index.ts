import { Handoff, type ProtocolRegistration } from '../../registry.js';
import { UDP_PORT_GENEVE } from '../numbers.js';
import { geneveDecoder } from './decoder.js';

export { geneveDecoder } from './decoder.js';

export const geneveRegistration: ProtocolRegistration = {
  decoder: geneveDecoder,
  handoffs: [{ table: Handoff.UdpPort, key: UDP_PORT_GENEVE }],
};
