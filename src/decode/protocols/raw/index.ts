import { Handoff, type ProtocolRegistration } from '../../registry.js';
import { LINKTYPE_IPV4, LINKTYPE_IPV6, LINKTYPE_RAW, LINKTYPE_RAW_DLT12, LINKTYPE_RAW_DLT14 } from '../numbers.js';
import { rawDecoder } from './decoder.js';

export { rawDecoder } from './decoder.js';

export const rawRegistration: ProtocolRegistration = {
  decoder: rawDecoder,
  handoffs: [
    { table: Handoff.LinkType, key: LINKTYPE_RAW },
    { table: Handoff.LinkType, key: LINKTYPE_RAW_DLT12 },
    { table: Handoff.LinkType, key: LINKTYPE_RAW_DLT14 },
    { table: Handoff.LinkType, key: LINKTYPE_IPV4 },
    { table: Handoff.LinkType, key: LINKTYPE_IPV6 },
  ],
};
