import { Handoff, type LayerDecoder } from '../../registry.js';
import { IPPROTO_UDP, type Packet } from '../../packet.js';
import { defineWeird, type WeirdCounter } from '../../weirds.js';

const W_TRUNCATED_HEADER = defineWeird('truncated_header');
const W_BAD_LENGTH = defineWeird('UDP_datagram_length_mismatch');

const HEADER = 8;

/**
 * UDP (RFC 768). The payload is bounded by both the UDP length and the IP packet; a UDP length past the IP
 * payload is a weird and the IP bound wins. A length of 0 is legal only in an IPv6 jumbogram (RFC 2675),
 * where the IP bound is the length. Then hands off on the destination port, the source port as fallback
 * (so a tunnel's replies, sent from its port, are found too).
 */
export const udpDecoder: LayerDecoder = {
  name: 'udp',
  decode(pkt: Packet, offset: number, end: number, weirds: WeirdCounter): number {
    const ipStated = pkt.ipOffset + pkt.ipLength;
    if (offset + HEADER > end || offset + HEADER > ipStated) {
      weirds.add(W_TRUNCATED_HEADER);
      return -1;
    }
    const view = pkt.view;
    const srcPort = view.getUint16(offset, false);
    const dstPort = view.getUint16(offset + 2, false);
    const udpLength = view.getUint16(offset + 4, false);
    const payload = offset + HEADER;
    let statedEnd = ipStated;
    let wireLength = -1;
    if (udpLength === 0 && pkt.ipVersion === 6 && pkt.ipLength > 0xffff + 40) {
      // jumbogram: the IP length stands
    } else if (udpLength >= HEADER && offset + udpLength > ipStated && pkt.moreFragments) {
      // A first fragment: the rest of the datagram follows in other fragments, which are not decoded, so
      // the datagram's whole length is counted here.
      wireLength = udpLength - HEADER;
    } else if (udpLength < HEADER || offset + udpLength > ipStated) {
      weirds.add(W_BAD_LENGTH);
    } else {
      statedEnd = offset + udpLength;
    }
    pkt.transport = IPPROTO_UDP;
    pkt.srcPort = srcPort;
    pkt.dstPort = dstPort;
    pkt.payloadOffset = payload;
    pkt.payloadLength = (statedEnd < end ? statedEnd : end) - payload;
    pkt.payloadWireLength = wireLength >= 0 ? wireLength : statedEnd - payload;
    pkt.transportReady = true;
    pkt.nextTable = Handoff.UdpPort;
    pkt.nextKey = dstPort;
    pkt.nextKeyAlt = srcPort;
    return payload;
  },
};
