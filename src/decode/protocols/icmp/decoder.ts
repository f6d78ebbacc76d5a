import type { LayerDecoder } from '../../registry.js';
import { IPPROTO_ICMP, IPPROTO_ICMPV6, type Packet } from '../../packet.js';
import { defineWeird, type WeirdCounter } from '../../weirds.js';

const HEADER = 8;

/**
 * ICMP (1) and ICMPv6 (58) share a layout: type, code, checksum, then 4 bytes whose meaning depends on the
 * type (echo id/sequence, MTU, pointer...), counted as header. An error message quotes the offending IP
 * packet in its payload; that quote is left alone (decoding it as a packet would double-count a flow).
 */
class IcmpDecoder implements LayerDecoder {
  private readonly truncatedWeird: number;

  constructor(
    readonly name: string,
    private readonly protocol: number,
    truncatedWeirdName: string,
  ) {
    this.truncatedWeird = defineWeird(truncatedWeirdName);
  }

  decode(pkt: Packet, offset: number, end: number, weirds: WeirdCounter): number {
    const ipStated = pkt.ipOffset + pkt.ipLength;
    const ipEnd = ipStated < end ? ipStated : end;
    if (offset + HEADER > ipEnd) {
      weirds.add(this.truncatedWeird);
      return -1;
    }
    pkt.transport = this.protocol;
    pkt.icmpType = pkt.data[offset];
    pkt.icmpCode = pkt.data[offset + 1];
    const payload = offset + HEADER;
    pkt.payloadOffset = payload;
    pkt.payloadLength = ipEnd - payload;
    pkt.payloadWireLength = ipStated - payload;
    pkt.transportReady = true;
    return -1;
  }
}

export const icmpDecoder: LayerDecoder = new IcmpDecoder('icmp', IPPROTO_ICMP, 'truncated_header');
export const icmpv6Decoder: LayerDecoder = new IcmpDecoder('icmpv6', IPPROTO_ICMPV6, 'truncated_header');
