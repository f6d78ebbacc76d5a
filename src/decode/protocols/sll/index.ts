import { Handoff, type ProtocolRegistration } from '../../registry.js';
import { LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2 } from '../numbers.js';
import { sll2Decoder, sllDecoder } from './decoder.js';

export { sll2Decoder, sllDecoder } from './decoder.js';

export const sllRegistration: ProtocolRegistration = {
  decoder: sllDecoder,
  handoffs: [{ table: Handoff.LinkType, key: LINKTYPE_LINUX_SLL }],
};

export const sll2Registration: ProtocolRegistration = {
  decoder: sll2Decoder,
  handoffs: [{ table: Handoff.LinkType, key: LINKTYPE_LINUX_SLL2 }],
};
