import { Handoff, type ProtocolRegistration } from '../../registry.js';
import { UDP_PORT_L2TP } from '../numbers.js';
import { l2tpDecoder } from './decoder.js';

export { l2tpDecoder } from './decoder.js';

export const l2tpRegistration: ProtocolRegistration = {
  decoder: l2tpDecoder,
  handoffs: [{ table: Handoff.UdpPort, key: UDP_PORT_L2TP }],
};
