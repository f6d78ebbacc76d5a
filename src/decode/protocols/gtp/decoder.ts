import { Handoff, type LayerDecoder } from '../../registry.js';
import type { Packet } from '../../packet.js';
import { defineWeird, type WeirdCounter } from '../../weirds.js';
import { UDP_PORT_GTP_U, etherTypeOfIpVersion } from '../numbers.js';
import { sentToUdpPort } from '../udp-port.js';

const W_TRUNCATED = defineWeird('gtp_truncated');
const W_BAD_VERSION = defineWeird('gtp_bad_version');

const BASE_HEADER = 8;
/** Sequence number (2), N-PDU number (1), next extension header type (1): present if any of E, S, PN is set. */
const OPTIONAL_FIELDS = 4;
const FLAG_PROTOCOL_TYPE = 0x10;
const FLAGS_E_S_PN = 0x07;
const FLAG_EXTENSION = 0x04;
/** G-PDU: the message carries a user packet (T-PDU); other types are signalling (echo, error indication). */
const MESSAGE_G_PDU = 0xff;

/**
 * GTP-U version 1 (3GPP TS 29.281, sent to UDP 2152; the source port may be any), the mobile core's user-plane tunnel: the T-PDU
 * is an IPv4 or IPv6 packet, told apart by its version nibble (the header does not say).
 */
export const gtpUserDecoder: LayerDecoder = {
  name: 'gtp-u',
  decode(pkt: Packet, offset: number, end: number, weirds: WeirdCounter): number {
    if (!sentToUdpPort(pkt, UDP_PORT_GTP_U)) return -1;
    if (offset + BASE_HEADER > end) {
      weirds.add(W_TRUNCATED);
      return -1;
    }
    const data = pkt.data;
    const flags = data[offset];
    // Version 1 with protocol type 1 (GTP, not GTP'), the only user-plane form.
    if (flags >> 5 !== 1 || (flags & FLAG_PROTOCOL_TYPE) === 0) {
      weirds.add(W_BAD_VERSION);
      return -1;
    }
    if (data[offset + 1] !== MESSAGE_G_PDU) return -1;
    let at = offset + BASE_HEADER;
    if ((flags & FLAGS_E_S_PN) !== 0) {
      if (at + OPTIONAL_FIELDS > end) {
        weirds.add(W_TRUNCATED);
        return -1;
      }
      let nextExtension = (flags & FLAG_EXTENSION) !== 0 ? data[at + 3] : 0;
      at += OPTIONAL_FIELDS;
      // Each extension header: length in 4-byte units, content, and the next type in its last byte.
      while (nextExtension !== 0) {
        if (at >= end || data[at] === 0) {
          weirds.add(W_TRUNCATED);
          return -1;
        }
        const length = data[at] * 4;
        if (at + length > end) {
          weirds.add(W_TRUNCATED);
          return -1;
        }
        nextExtension = data[at + length - 1];
        at += length;
      }
    }
    if (at >= end) return -1; // an empty T-PDU (or one the snaplen cut away)
    const type = etherTypeOfIpVersion(data[at]);
    if (type === 0) return -1; // PPP or Ethernet PDU types: not decoded
    pkt.nextTable = Handoff.EtherType;
    pkt.nextKey = type;
    return at;
  },
};
