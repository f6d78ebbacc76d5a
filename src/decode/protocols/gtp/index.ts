import { Handoff, type ProtocolRegistration } from '../../registry.js';
import { UDP_PORT_GTP_U } from '../numbers.js';
import { gtpUserDecoder } from './decoder.js';

export { gtpUserDecoder } from './decoder.js';

export const gtpUserRegistration: ProtocolRegistration = {
  decoder: gtpUserDecoder,
  handoffs: [{ table: Handoff.UdpPort, key: UDP_PORT_GTP_U }],
};
