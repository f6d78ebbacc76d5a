import { Handoff, type LayerDecoder } from '../../registry.js';
import type { Packet } from '../../packet.js';
import { defineWeird, type WeirdCounter } from '../../weirds.js';

// Zeek's names: under 20 bytes captured is truncated_IP; options cut by the capture internally_truncated_header.
const W_TRUNCATED_HEADER = defineWeird('truncated_IP');
const W_OPTIONS_CUT = defineWeird('internally_truncated_header');
const W_BAD_VERSION = defineWeird('unknown_ip_version');
const W_BAD_HEADER_LEN = defineWeird('IPv4_min_header_size');
const W_TOTAL_LEN_SHORT = defineWeird('invalid_IP_header_size');
const W_TRUNCATED = defineWeird('truncated_IP_len');

const MIN_HEADER = 20;
const FLAG_MORE_FRAGMENTS = 0x2000;
const FRAGMENT_OFFSET_MASK = 0x1fff;

/**
 * IPv4 (RFC 791). Options are skipped by the header length. Checksums are not verified (Zeek does not by
 * default on traces either). A total length of 0 is what TCP segmentation offload leaves in captures taken
 * on the sending host (tshark: "presumed to be because of TSO"): the frame's length on the wire is used.
 * Only a first fragment (offset 0) hands off to the transport; later fragments carry no transport header.
 */
export const ipv4Decoder: LayerDecoder = {
  name: 'ipv4',
  decode(pkt: Packet, offset: number, end: number, weirds: WeirdCounter): number {
    pkt.clearTransport();
    if (offset + MIN_HEADER > end) {
      weirds.add(W_TRUNCATED_HEADER);
      return -1;
    }
    const data = pkt.data;
    const view = pkt.view;
    const first = data[offset];
    if (first >> 4 !== 4) {
      weirds.add(W_BAD_VERSION);
      return -1;
    }
    const headerLength = (first & 0x0f) * 4;
    if (headerLength < MIN_HEADER) {
      weirds.add(W_BAD_HEADER_LEN);
      return -1;
    }
    if (offset + headerLength > end) {
      weirds.add(W_OPTIONS_CUT);
      return -1;
    }
    // Inside the first fragment of an outer packet this packet is cut short by design, not truncated.
    const enclosedByFragment = pkt.ipVersion !== 0 && pkt.moreFragments;
    // Bytes of this IP packet that were on the wire (the snaplen may have cut the capture shorter).
    const onWire = pkt.frameOffset + pkt.wirelen - offset;
    let totalLength = view.getUint16(offset + 2, false);
    if (totalLength === 0) totalLength = onWire;
    if (totalLength < headerLength) {
      weirds.add(W_TOTAL_LEN_SHORT);
      return -1;
    }
    // Longer than what was sent: really truncated. Longer than what was captured only: a snaplen cut, fine.
    if (totalLength > onWire && !enclosedByFragment) weirds.add(W_TRUNCATED);

    if (pkt.ipVersion !== 0) pkt.tunnelDepth++;
    pkt.ipVersion = 4;
    pkt.ipOffset = offset;
    pkt.ipHeaderLength = headerLength;
    pkt.ipLength = totalLength;
    pkt.ttl = data[offset + 8];
    const protocol = data[offset + 9];
    pkt.ipProto = protocol;
    const src = pkt.src;
    const dst = pkt.dst;
    src[0] = view.getUint32(offset + 12, false);
    src[1] = src[2] = src[3] = 0;
    dst[0] = view.getUint32(offset + 16, false);
    dst[1] = dst[2] = dst[3] = 0;

    const fragment = view.getUint16(offset + 6, false);
    const fragOffset = (fragment & FRAGMENT_OFFSET_MASK) * 8;
    const more = (fragment & FLAG_MORE_FRAGMENTS) !== 0;
    pkt.fragOffset = fragOffset;
    pkt.moreFragments = more;
    pkt.isFragment = more || fragOffset !== 0;
    if (pkt.isFragment) {
      pkt.fragmentId = view.getUint16(offset + 4, false);
      pkt.fragmentDataOffset = offset + headerLength;
      pkt.fragmentProto = protocol;
    }
    if (fragOffset !== 0) return -1;

    pkt.nextTable = Handoff.IpProto;
    pkt.nextKey = protocol;
    return offset + headerLength;
  },
};
