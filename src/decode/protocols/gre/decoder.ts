import { Handoff, type LayerDecoder } from '../../registry.js';
import type { Packet } from '../../packet.js';
import { defineWeird, type WeirdCounter } from '../../weirds.js';
import { ETHERTYPE_PPP } from '../numbers.js';

const W_TRUNCATED = defineWeird('truncated_GRE');
const W_UNKNOWN_VERSION = defineWeird('unknown_gre_version');

const BASE_HEADER = 4;
const FLAG_CHECKSUM = 0x80;
const FLAG_ROUTING = 0x40;
const FLAG_KEY = 0x20;
const FLAG_SEQUENCE = 0x10;
/** Version 1 (PPTP, RFC 2637) only: an acknowledgment number follows. */
const FLAG_ACK = 0x80;

/**
 * GRE (RFC 2784/2890, and RFC 1701 source routing): version 0 carries any protocol named by an EtherType,
 * version 1 is PPTP's "enhanced GRE" carrying PPP. The optional fields are skipped by their flags; the
 * protocol type is the key into the GreProto table (IPv4, IPv6, Ethernet bridging, ERSPAN, MPLS, PPP).
 */
export const greDecoder: LayerDecoder = {
  name: 'gre',
  decode(pkt: Packet, offset: number, end: number, weirds: WeirdCounter): number {
    const ipStated = pkt.ipOffset + pkt.ipLength;
    const limit = ipStated < end ? ipStated : end;
    if (offset + BASE_HEADER > limit) {
      weirds.add(W_TRUNCATED);
      return -1;
    }
    const data = pkt.data;
    const flags = data[offset];
    const version = data[offset + 1] & 0x07;
    const protocol = pkt.view.getUint16(offset + 2, false);
    let at = offset + BASE_HEADER;
    if (version === 0) {
      if ((flags & (FLAG_CHECKSUM | FLAG_ROUTING)) !== 0) at += 4;
      if ((flags & FLAG_KEY) !== 0) at += 4;
      if ((flags & FLAG_SEQUENCE) !== 0) at += 4;
      if ((flags & FLAG_ROUTING) !== 0) {
        // Source route entries: address family (2), offset (1), length (1), then `length` bytes; a
        // family of 0 with length 0 ends the list.
        for (;;) {
          if (at + 4 > limit) {
            weirds.add(W_TRUNCATED);
            return -1;
          }
          const sreLength = data[at + 3];
          const last = data[at] === 0 && data[at + 1] === 0 && sreLength === 0;
          at += 4 + sreLength;
          if (last) break;
        }
      }
    } else if (version === 1) {
      if (protocol !== ETHERTYPE_PPP) {
        weirds.add(W_UNKNOWN_VERSION);
        return -1;
      }
      // Payload length and call id (the key field, always present in version 1). A payload length of 0 is
      // an acknowledgment-only packet: nothing follows.
      if (at + 4 > limit) {
        weirds.add(W_TRUNCATED);
        return -1;
      }
      if (pkt.view.getUint16(at, false) === 0) return -1;
      at += 4;
      if ((flags & FLAG_SEQUENCE) !== 0) at += 4;
      if ((data[offset + 1] & FLAG_ACK) !== 0) at += 4;
    } else {
      weirds.add(W_UNKNOWN_VERSION);
      return -1;
    }
    if (at > limit) {
      weirds.add(W_TRUNCATED);
      return -1;
    }
    pkt.nextTable = Handoff.GreProto;
    pkt.nextKey = protocol;
    return at;
  },
};
