import { Handoff, type ProtocolRegistration } from '../../registry.js';
import { UDP_PORT_VXLAN } from '../numbers.js';
import { vxlanDecoder } from './decoder.js';

export { vxlanDecoder } from './decoder.js';

export const vxlanRegistration: ProtocolRegistration = {
  decoder: vxlanDecoder,
  handoffs: [{ table: Handoff.UdpPort, key: UDP_PORT_VXLAN }],
};
