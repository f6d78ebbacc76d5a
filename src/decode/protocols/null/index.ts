import { Handoff, type ProtocolRegistration } from '../../registry.js';
import { LINKTYPE_LOOP, LINKTYPE_NULL } from '../numbers.js';
import { nullDecoder } from './decoder.js';

export { nullDecoder } from './decoder.js';

export const nullRegistration: ProtocolRegistration = {
  decoder: nullDecoder,
  handoffs: [
    { table: Handoff.LinkType, key: LINKTYPE_NULL },
    { table: Handoff.LinkType, key: LINKTYPE_LOOP },
  ],
};
