import { Handoff, type LayerDecoder } from '../../registry.js';
import type { Packet } from '../../packet.js';
import type { WeirdCounter } from '../../weirds.js';
import { ETHERTYPE_IPV6 } from '../numbers.js';

const IPV6_HEADER = 40;
/** Authentication indicator: 00 01, id length, auth length, id, auth value, 8-byte nonce, confirmation byte. */
const AUTH_FIXED = 4 + 8 + 1;
/** Origin indication: 00 00, then the origin's port and address (obfuscated). */
const ORIGIN_INDICATION = 8;

/**
 * Teredo (RFC 4380, UDP 3544 on the server side, so either port): IPv6 inside UDP, optionally after an
 * authentication and/or origin indication header. Nothing on the wire says "Teredo", so the datagram is
 * taken as Teredo only when it is exactly one IPv6 packet (version 6 and a payload length that fills the
 * UDP payload); anything else is some other use of the port and is left alone without a weird.
 */
export const teredoDecoder: LayerDecoder = {
  name: 'teredo',
  decode(pkt: Packet, offset: number, end: number, _weirds: WeirdCounter): number {
    const data = pkt.data;
    const udpEnd = pkt.payloadOffset + pkt.payloadWireLength;
    let at = offset;
    if (at + 2 <= end && data[at] === 0x00 && data[at + 1] === 0x01) {
      if (at + 4 > end) return -1;
      at += AUTH_FIXED + data[at + 2] + data[at + 3];
    }
    if (at + 2 <= end && data[at] === 0x00 && data[at + 1] === 0x00) at += ORIGIN_INDICATION;
    if (at + IPV6_HEADER > end || data[at] >> 4 !== 6) return -1;
    if (at + IPV6_HEADER + pkt.view.getUint16(at + 4, false) !== udpEnd) return -1;
    pkt.nextTable = Handoff.EtherType;
    pkt.nextKey = ETHERTYPE_IPV6;
    return at;
  },
};
