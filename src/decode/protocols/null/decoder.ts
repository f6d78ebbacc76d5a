import { Handoff, type LayerDecoder } from '../../registry.js';
import type { Packet } from '../../packet.js';
import { defineWeird, type WeirdCounter } from '../../weirds.js';
import { ETHERTYPE_IPV4, ETHERTYPE_IPV6, LINKTYPE_LOOP } from '../numbers.js';

const W_TRUNCATED = defineWeird('null_analyzer_failed');
const W_UNKNOWN_FAMILY = defineWeird('null_unknown_family');

const NULL_HEADER = 4;

/** AF_INET is 2 everywhere; AF_INET6 differs by OS (tcpdump's BSD_AFNUM_* list plus Linux). */
const AF_INET = 2;
const AF_INET6_LINUX = 10;
const AF_INET6_BSD = 24;
const AF_INET6_FREEBSD = 28;
const AF_INET6_DARWIN = 30;

function etherTypeOfFamily(family: number): number {
  if (family === AF_INET) return ETHERTYPE_IPV4;
  if (family === AF_INET6_LINUX || family === AF_INET6_BSD || family === AF_INET6_FREEBSD || family === AF_INET6_DARWIN) {
    return ETHERTYPE_IPV6;
  }
  return 0;
}

/**
 * BSD loopback: a 4-byte address family. LINKTYPE_NULL writes it in the capturing host's byte order, which
 * the file does not record, so both orders are tried (the values are small, so they cannot be confused);
 * LINKTYPE_LOOP (OpenBSD) always uses network byte order.
 */
export const nullDecoder: LayerDecoder = {
  name: 'null',
  decode(pkt: Packet, offset: number, end: number, weirds: WeirdCounter): number {
    if (offset + NULL_HEADER > end) {
      weirds.add(W_TRUNCATED);
      return -1;
    }
    let type = etherTypeOfFamily(pkt.view.getUint32(offset, false));
    if (type === 0 && pkt.linkType !== LINKTYPE_LOOP) type = etherTypeOfFamily(pkt.view.getUint32(offset, true));
    if (type === 0) {
      // Some systems put an EtherType in the low half instead of a family (tshark accepts it too).
      const etherType = pkt.view.getUint16(offset + 2, false);
      if (etherType === ETHERTYPE_IPV4 || etherType === ETHERTYPE_IPV6) type = etherType;
    }
    if (type === 0) {
      weirds.add(W_UNKNOWN_FAMILY);
      return -1;
    }
    pkt.etherType = type;
    pkt.nextTable = Handoff.EtherType;
    pkt.nextKey = type;
    return offset + NULL_HEADER;
  },
};
