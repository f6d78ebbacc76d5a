import { Handoff, type LayerDecoder } from '../../registry.js';
import type { Packet } from '../../packet.js';
import { defineWeird, type WeirdCounter } from '../../weirds.js';
import {
  IPPROTO_AH,
  IPPROTO_DSTOPTS,
  IPPROTO_FRAGMENT,
  IPPROTO_HOPOPTS,
  IPPROTO_NONE,
  IPPROTO_ROUTING,
} from '../numbers.js';

const W_TRUNCATED_HEADER = defineWeird('truncated_IP');
const W_BAD_VERSION = defineWeird('unknown_ip_version');
const W_TRUNCATED = defineWeird('truncated_IP_len');
const W_BAD_EXT_HEADER = defineWeird('ipv6_bad_ext_header');
const W_BAD_JUMBO = defineWeird('ipv6_bad_jumbo');
const W_MISSING_JUMBO = defineWeird('ipv6_missing_jumbo_option');

const FIXED_HEADER = 40;
const FRAGMENT_HEADER = 8;
const OPTION_PAD1 = 0x00;
const OPTION_JUMBO = 0xc2;
const OPTION_HOME_ADDRESS = 0xc9;
const ROUTING_TYPE_0 = 0;
const ROUTING_TYPE_2 = 2;

/**
 * Finds option `wanted` in a hop-by-hop or destination options header whose bounds were checked; returns
 * the offset of its data (after type and length) when its data length is `length`, else -1.
 */
function findOption(pkt: Packet, header: number, headerEnd: number, wanted: number, length: number): number {
  const data = pkt.data;
  let at = header + 2;
  while (at < headerEnd) {
    const type = data[at];
    if (type === OPTION_PAD1) {
      at++;
      continue;
    }
    if (at + 2 > headerEnd) return -1;
    const optionLength = data[at + 1];
    if (at + 2 + optionLength > headerEnd) return -1;
    if (type === wanted) return optionLength === length ? at + 2 : -1;
    at += 2 + optionLength;
  }
  return -1;
}

function readAddress(pkt: Packet, at: number, into: Uint32Array): void {
  for (let i = 0; i < 4; i++) into[i] = pkt.view.getUint32(at + 4 * i, false);
}

/**
 * Where the packet is really going (and coming from), as tshark and Zeek key connections: a type 0 or 2
 * routing header with segments left names the final destination last; a Home Address option (Mobile IPv6)
 * in destination options names the real source. Segment routing (type 4) is left as is, as tshark does.
 */
function applyAddressOverrides(pkt: Packet, header: number, headerEnd: number, protocol: number): void {
  const data = pkt.data;
  if (protocol === IPPROTO_ROUTING) {
    const type = data[header + 2];
    const addresses = data[header + 1] >> 1;
    if ((type === ROUTING_TYPE_0 || type === ROUTING_TYPE_2) && data[header + 3] > 0 && addresses > 0) {
      readAddress(pkt, header + 8 + (addresses - 1) * 16, pkt.dst);
    }
  } else if (protocol === IPPROTO_DSTOPTS) {
    const home = findOption(pkt, header, headerEnd, OPTION_HOME_ADDRESS, 16);
    if (home >= 0) readAddress(pkt, home, pkt.src);
  }
}

/**
 * IPv6 (RFC 8200) with its extension chain: hop-by-hop (and its jumbo option), routing (any type, SRH
 * included), fragment, destination options and AH are walked; `ipProto` is the protocol after them.
 * ESP (encrypted), No Next Header and Mobility end the chain with nothing to hand off to.
 * A payload length of 0 without a jumbo option is what BIG TCP / segmentation offload leaves in captures
 * on the sending host: the frame's length on the wire is used then.
 */
export const ipv6Decoder: LayerDecoder = {
  name: 'ipv6',
  decode(pkt: Packet, offset: number, end: number, weirds: WeirdCounter): number {
    pkt.clearTransport();
    if (offset + FIXED_HEADER > end) {
      weirds.add(W_TRUNCATED_HEADER);
      return -1;
    }
    const data = pkt.data;
    const view = pkt.view;
    if (data[offset] >> 4 !== 6) {
      weirds.add(W_BAD_VERSION);
      return -1;
    }
    // Inside the first fragment of an outer packet this packet is cut short by design, not truncated.
    const enclosedByFragment = pkt.ipVersion !== 0 && pkt.moreFragments;
    if (pkt.ipVersion !== 0) pkt.tunnelDepth++;
    pkt.ipVersion = 6;
    pkt.ipOffset = offset;
    pkt.ttl = data[offset + 7];
    const src = pkt.src;
    const dst = pkt.dst;
    for (let i = 0; i < 4; i++) {
      src[i] = view.getUint32(offset + 8 + 4 * i, false);
      dst[i] = view.getUint32(offset + 24 + 4 * i, false);
    }
    pkt.isFragment = false;
    pkt.fragOffset = 0;
    pkt.moreFragments = false;

    const onWire = pkt.frameOffset + pkt.wirelen - offset;
    const payloadLength = view.getUint16(offset + 4, false);
    let next = data[offset + 6];
    let ipLength = payloadLength === 0 && next !== IPPROTO_NONE ? onWire : payloadLength + FIXED_HEADER;
    // Longer than what was sent: really truncated. Longer than what was captured only: a snaplen cut, fine.
    if (ipLength > onWire && !enclosedByFragment) weirds.add(W_TRUNCATED);
    let at = offset + FIXED_HEADER;
    let sawJumbo = false;

    for (;;) {
      if (next !== IPPROTO_HOPOPTS && next !== IPPROTO_ROUTING && next !== IPPROTO_DSTOPTS && next !== IPPROTO_AH && next !== IPPROTO_FRAGMENT) break;
      const limit = offset + ipLength;
      let length: number;
      if (next === IPPROTO_FRAGMENT) length = FRAGMENT_HEADER;
      else {
        if (at + 2 > limit) {
          weirds.add(W_BAD_EXT_HEADER);
          return finish(pkt, next, at, ipLength, -1);
        }
        if (at + 2 > end) return finish(pkt, next, at, ipLength, -1); // cut by the snaplen
        length = next === IPPROTO_AH ? (data[at + 1] + 2) * 4 : (data[at + 1] + 1) * 8;
      }
      if (at + length > limit) {
        weirds.add(W_BAD_EXT_HEADER);
        return finish(pkt, next, at, ipLength, -1);
      }
      if (at + length > end) return finish(pkt, next, at, ipLength, -1);

      if (next === IPPROTO_HOPOPTS && at === offset + FIXED_HEADER) {
        const jumboAt = findOption(pkt, at, at + length, OPTION_JUMBO, 4);
        if (jumboAt >= 0) {
          const jumbo = view.getUint32(jumboAt, false);
          sawJumbo = true;
          // RFC 2675: only valid with a zero payload length, and only for payloads over 65535 bytes.
          if (payloadLength !== 0 || jumbo <= 0xffff) weirds.add(W_BAD_JUMBO);
          if (payloadLength === 0) {
            ipLength = jumbo + FIXED_HEADER;
            if (ipLength > onWire && !enclosedByFragment) weirds.add(W_TRUNCATED);
          }
        }
      }
      if (next === IPPROTO_ROUTING || next === IPPROTO_DSTOPTS) applyAddressOverrides(pkt, at, at + length, next);
      const following = data[at];
      if (next === IPPROTO_FRAGMENT) {
        const field = view.getUint16(at + 2, false);
        const fragOffset = field & 0xfff8;
        const more = (field & 0x0001) !== 0;
        pkt.fragOffset = fragOffset;
        pkt.moreFragments = more;
        pkt.isFragment = more || fragOffset !== 0;
        pkt.fragmentId = view.getUint32(at + 4, false);
        pkt.fragmentDataOffset = at + length;
        pkt.fragmentProto = following;
        if (fragOffset !== 0) return finish(pkt, following, at + length, ipLength, -1);
      }
      next = following;
      at += length;
    }
    if (payloadLength === 0 && !sawJumbo && data[offset + 6] === IPPROTO_HOPOPTS) weirds.add(W_MISSING_JUMBO);
    pkt.nextTable = Handoff.IpProto;
    pkt.nextKey = next;
    return finish(pkt, next, at, ipLength, at);
  },
};

/** Records where the chain ended; returns `result`. */
function finish(pkt: Packet, protocol: number, headerEnd: number, ipLength: number, result: number): number {
  pkt.ipProto = protocol;
  pkt.ipHeaderLength = headerEnd - pkt.ipOffset;
  pkt.ipLength = ipLength;
  return result;
}
