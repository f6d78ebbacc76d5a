import { Handoff, type ProtocolRegistration } from '../../registry.js';
import { ETHERTYPE_MPLS, ETHERTYPE_MPLS_MULTICAST, IPPROTO_MPLS_IN_IP, UDP_PORT_MPLS } from '../numbers.js';
import { mplsDecoder, mplsOverUdpDecoder } from './decoder.js';

export { mplsDecoder, mplsOverUdpDecoder } from './decoder.js';

export const mplsRegistration: ProtocolRegistration = {
  decoder: mplsDecoder,
  handoffs: [
    { table: Handoff.EtherType, key: ETHERTYPE_MPLS },
    { table: Handoff.EtherType, key: ETHERTYPE_MPLS_MULTICAST },
    { table: Handoff.GreProto, key: ETHERTYPE_MPLS },
    { table: Handoff.IpProto, key: IPPROTO_MPLS_IN_IP },
  ],
};

export const mplsOverUdpRegistration: ProtocolRegistration = {
  decoder: mplsOverUdpDecoder,
  handoffs: [{ table: Handoff.UdpPort, key: UDP_PORT_MPLS }],
};
