import { Handoff, type ProtocolRegistration } from '../../registry.js';
import { ETHERTYPE_QINQ, ETHERTYPE_VLAN, ETHERTYPE_VLAN_9100 } from '../numbers.js';
import { vlanDecoder } from './decoder.js';

export { vlanDecoder } from './decoder.js';

/** 802.1Q customer tags, 802.1ad service tags and the pre-standard 0x9100 QinQ tag share one decoder. */
export const vlanRegistration: ProtocolRegistration = {
  decoder: vlanDecoder,
  handoffs: [
    { table: Handoff.EtherType, key: ETHERTYPE_VLAN },
    { table: Handoff.EtherType, key: ETHERTYPE_QINQ },
    { table: Handoff.EtherType, key: ETHERTYPE_VLAN_9100 },
  ],
};
