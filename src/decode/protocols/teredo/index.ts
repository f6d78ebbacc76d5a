import { Handoff, type ProtocolRegistration } from '../../registry.js';
import { UDP_PORT_TEREDO } from '../numbers.js';
import { teredoDecoder } from './decoder.js';

export { teredoDecoder } from './decoder.js';

export const teredoRegistration: ProtocolRegistration = {
  decoder: teredoDecoder,
  handoffs: [{ table: Handoff.UdpPort, key: UDP_PORT_TEREDO }],
};
