import { Handoff, type LayerDecoder } from '../../registry.js';
import type { Packet } from '../../packet.js';
import { defineWeird, type WeirdCounter } from '../../weirds.js';
import { ETHERTYPE_PPP } from '../numbers.js';

const W_TRUNCATED = defineWeird('l2tp_truncated');

const FLAG_CONTROL = 0x8000;
const FLAG_LENGTH = 0x4000;
const FLAG_SEQUENCE = 0x0800;
const FLAG_OFFSET = 0x0200;
const VERSION_MASK = 0x000f;
const VERSION_2 = 2;

/**
 * L2TPv2 (RFC 2661, UDP 1701 both ways): a data message carries a PPP frame after a header whose optional
 * fields (length, Ns/Nr, offset padding) are announced by flags. Control messages and L2TPv3 stop here.
 */
export const l2tpDecoder: LayerDecoder = {
  name: 'l2tp',
  decode(pkt: Packet, offset: number, end: number, weirds: WeirdCounter): number {
    if (offset + 2 > end) {
      weirds.add(W_TRUNCATED);
      return -1;
    }
    const view = pkt.view;
    const flags = view.getUint16(offset, false);
    if ((flags & VERSION_MASK) !== VERSION_2 || (flags & FLAG_CONTROL) !== 0) return -1;
    let at = offset + 2;
    if ((flags & FLAG_LENGTH) !== 0) at += 2;
    at += 4; // tunnel id, session id
    if ((flags & FLAG_SEQUENCE) !== 0) at += 4;
    if ((flags & FLAG_OFFSET) !== 0) {
      if (at + 2 > end) {
        weirds.add(W_TRUNCATED);
        return -1;
      }
      at += 2 + view.getUint16(at, false);
    }
    if (at > end) {
      weirds.add(W_TRUNCATED);
      return -1;
    }
    pkt.nextTable = Handoff.EtherType;
    pkt.nextKey = ETHERTYPE_PPP;
    return at;
  },
};
