import type { LayerDecoder } from '../../registry.js';
import {
  IPPROTO_TCP,
  TCP_OPT_MSS,
  TCP_OPT_SACK,
  TCP_OPT_SACK_PERMITTED,
  TCP_OPT_TIMESTAMP,
  TCP_OPT_WSCALE,
  type Packet,
} from '../../packet.js';
import { defineWeird, type WeirdCounter } from '../../weirds.js';

const W_TRUNCATED_HEADER = defineWeird('truncated_header');
// Zeek's names: a data offset under 20 bytes is bad_TCP_header_len; one past the IP payload truncated_header.
const W_BAD_HEADER_LEN = defineWeird('bad_TCP_header_len');
const W_BAD_OPTION = defineWeird('tcp_bad_option');

const MIN_HEADER = 20;
const OPT_EOL = 0;
const OPT_NOP = 1;
const OPT_MSS = 2;
const OPT_WSCALE = 3;
const OPT_SACK_PERMITTED = 4;
const OPT_SACK = 5;
const OPT_TIMESTAMP = 8;

/**
 * Reads the options between `at` and `optionsEnd` (already bounds-checked) into the packet. A malformed
 * list (a length under 2, past the header, or wrong for a known kind) is a weird; what was read before it
 * stays, and the segment itself is still used.
 */
function readOptions(pkt: Packet, at: number, optionsEnd: number, weirds: WeirdCounter): void {
  const data = pkt.data;
  const view = pkt.view;
  let seen = 0;
  while (at < optionsEnd) {
    const kind = data[at];
    if (kind === OPT_EOL) break;
    if (kind === OPT_NOP) {
      at++;
      continue;
    }
    if (at + 2 > optionsEnd) {
      weirds.add(W_BAD_OPTION);
      break;
    }
    const length = data[at + 1];
    if (length < 2 || at + length > optionsEnd) {
      weirds.add(W_BAD_OPTION);
      break;
    }
    let ok = true;
    if (kind === OPT_MSS) {
      if ((ok = length === 4)) {
        pkt.mss = view.getUint16(at + 2, false);
        seen |= TCP_OPT_MSS;
      }
    } else if (kind === OPT_WSCALE) {
      if ((ok = length === 3)) {
        pkt.windowScale = data[at + 2];
        seen |= TCP_OPT_WSCALE;
      }
    } else if (kind === OPT_SACK_PERMITTED) {
      if ((ok = length === 2)) seen |= TCP_OPT_SACK_PERMITTED;
    } else if (kind === OPT_SACK) {
      if ((ok = length >= 10 && (length - 2) % 8 === 0)) seen |= TCP_OPT_SACK;
    } else if (kind === OPT_TIMESTAMP) {
      if ((ok = length === 10)) {
        pkt.tsVal = view.getUint32(at + 2, false);
        pkt.tsEcr = view.getUint32(at + 6, false);
        seen |= TCP_OPT_TIMESTAMP;
      }
    }
    if (!ok) weirds.add(W_BAD_OPTION);
    at += length;
  }
  pkt.tcpOptions = seen;
}

/**
 * TCP (RFC 9293). The segment goes to the sink (transportReady) once its header, options included, lies
 * inside the IP packet; the payload is what was captured of the rest of the IP packet (never Ethernet
 * padding), and payloadWireLength what the IP header says it held.
 */
export const tcpDecoder: LayerDecoder = {
  name: 'tcp',
  decode(pkt: Packet, offset: number, end: number, weirds: WeirdCounter): number {
    const ipStated = pkt.ipOffset + pkt.ipLength;
    const ipEnd = ipStated < end ? ipStated : end;
    if (offset + MIN_HEADER > ipEnd) {
      // A first fragment may end inside the header (RFC 1858's tiny fragments): nothing to use, not malformed.
      if (!(pkt.moreFragments && offset + MIN_HEADER > ipStated)) weirds.add(W_TRUNCATED_HEADER);
      return -1;
    }
    const data = pkt.data;
    const view = pkt.view;
    const headerLength = (data[offset + 12] >> 4) * 4;
    if (headerLength < MIN_HEADER || offset + headerLength > ipStated) {
      if (headerLength < MIN_HEADER) weirds.add(W_BAD_HEADER_LEN);
      else if (!pkt.moreFragments) weirds.add(W_TRUNCATED_HEADER);
      return -1;
    }
    if (offset + headerLength > end) {
      weirds.add(W_TRUNCATED_HEADER);
      return -1;
    }
    pkt.transport = IPPROTO_TCP;
    pkt.srcPort = view.getUint16(offset, false);
    pkt.dstPort = view.getUint16(offset + 2, false);
    pkt.seq = view.getUint32(offset + 4, false);
    pkt.ack = view.getUint32(offset + 8, false);
    pkt.tcpFlags = data[offset + 13];
    pkt.window = view.getUint16(offset + 14, false);
    pkt.tcpHeaderLength = headerLength;
    pkt.mss = 0;
    pkt.windowScale = 0;
    pkt.tsVal = 0;
    pkt.tsEcr = 0;
    if (headerLength > MIN_HEADER) readOptions(pkt, offset + MIN_HEADER, offset + headerLength, weirds);
    else pkt.tcpOptions = 0;
    const payload = offset + headerLength;
    pkt.payloadOffset = payload;
    pkt.payloadLength = ipEnd - payload;
    pkt.payloadWireLength = ipStated - payload;
    pkt.transportReady = true;
    return -1;
  },
};
