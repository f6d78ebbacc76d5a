/**
 * Turns "this host sends that segment now" into a complete Ethernet frame in one reused scratch buffer,
 * hands it to the pcap writer, and counts it in the ground truth. The only per-packet work is writing
 * headers, copying the payload and summing it for the checksum.
 */
import type { PcapWriter } from '../capture/pcap-writer.js';
import {
  ETHERTYPE_IPV4, ETHERTYPE_IPV6, PROTO_ICMP, PROTO_ICMPV6, PROTO_TCP, PROTO_UDP, ICMP_ECHO_HEADER_LENGTH, UDP_HEADER_LENGTH,
  ethernet, fillTransportChecksum, icmp, ipv4, ipv6, padEthernet, tcp, tcpHeaderLength, udp,
} from './frames.js';
import type { GroundTruth } from './ground-truth.js';
import type { Host } from './hosts.js';

/** One conversation's endpoints and what it has sent so far (the conn.log counters). */
export class Flow {
  origPkts = 0;
  respPkts = 0;
  origIpBytes = 0;
  respIpBytes = 0;
  /** Last TCP timestamp value each side sent (echoed by the other). */
  clientTsval = 0;
  serverTsval = 0;

  constructor(
    readonly client: Host,
    readonly server: Host,
    readonly v6: boolean,
    readonly clientPort: number,
    readonly serverPort: number,
    readonly flowLabel: number,
  ) {}
}

export class Emitter {
  /** Capture time of the next packet, in whole microseconds since the epoch. */
  now = 0;
  /** Set when the writer asked us to wait; the main loop awaits `writer.drain()` and clears it. */
  needsDrain = false;

  /**
   * `now` in seconds, computed as a pcap reader does (sec + usec / 1e6), so ground-truth times compare
   * equal to the times a reader of the file gets.
   */
  get seconds(): number {
    const sec = Math.floor(this.now / 1e6);
    return sec + (this.now - sec * 1e6) / 1e6;
  }

  private readonly buf = Buffer.alloc(4096);
  private ipOff = 0;

  constructor(
    private readonly writer: PcapWriter,
    private readonly router: Host,
    private readonly vlan: number,
    private readonly truth: GroundTruth,
  ) {}

  /** A TCP segment carrying data[start, start+length) (length 0 for none). */
  tcp(
    f: Flow, fromClient: boolean, flags: number, seq: number, ack: number, window: number, options: number,
    data: Buffer | null, start: number, length: number,
  ): void {
    const src = fromClient ? f.client : f.server;
    const tsMs = Math.floor(this.now / 1000);
    const tsval = (src.tsOffset + tsMs) >>> 0;
    const tsecr = (flags & 0x02) !== 0 && (flags & 0x10) === 0 ? 0 : fromClient ? f.serverTsval : f.clientTsval;
    if (fromClient) f.clientTsval = tsval;
    else f.serverTsval = tsval;
    const mss = f.v6 ? 1440 : 1460;
    const l4 = this.begin(f, fromClient, PROTO_TCP, tcpHeaderLength(options) + length);
    let end = tcp(this.buf, l4, fromClient ? f.clientPort : f.serverPort, fromClient ? f.serverPort : f.clientPort, seq, ack, flags, window, options, tsval, tsecr, mss);
    if (length > 0 && data) {
      data.copy(this.buf, end, start, start + length);
      end += length;
    }
    this.truth.tcpPackets++;
    this.finish(f, fromClient, l4, end);
  }

  /** A UDP datagram between the flow's ports. */
  udp(f: Flow, fromClient: boolean, data: Buffer): void {
    const l4 = this.begin(f, fromClient, PROTO_UDP, UDP_HEADER_LENGTH + data.length);
    let end = udp(this.buf, l4, fromClient ? f.clientPort : f.serverPort, fromClient ? f.serverPort : f.clientPort, data.length);
    data.copy(this.buf, end);
    end += data.length;
    this.truth.udpPackets++;
    this.finish(f, fromClient, l4, end);
  }

  /** An ICMP (or ICMPv6 on a v6 flow) echo request from the client or reply from the server. */
  echo(f: Flow, fromClient: boolean, id: number, seq: number, data: Buffer): void {
    const proto = f.v6 ? PROTO_ICMPV6 : PROTO_ICMP;
    const type = f.v6 ? (fromClient ? 128 : 129) : fromClient ? 8 : 0;
    const l4 = this.begin(f, fromClient, proto, ICMP_ECHO_HEADER_LENGTH + data.length);
    let end = icmp(this.buf, l4, type, 0, id, seq);
    data.copy(this.buf, end);
    end += data.length;
    this.truth.icmpPackets++;
    this.finish(f, fromClient, l4, end);
  }

  /** Ethernet (+VLAN) and IP headers; returns where the transport header starts. */
  private begin(f: Flow, fromClient: boolean, proto: number, l4Length: number): number {
    const src = fromClient ? f.client : f.server;
    const dst = fromClient ? f.server : f.client;
    const srcMac = src.local ? src.mac : this.router.mac;
    const dstMac = dst.local ? dst.mac : this.router.mac;
    let o = ethernet(this.buf, 0, dstMac, srcMac, f.v6 ? ETHERTYPE_IPV6 : ETHERTYPE_IPV4, this.vlan);
    this.ipOff = o;
    if (f.v6) {
      o = ipv6(this.buf, o, src.v6!, dst.v6!, proto, l4Length, src.ttl, f.flowLabel);
    } else {
      o = ipv4(this.buf, o, src.v4, dst.v4, proto, l4Length, src.ttl, src.ipId);
      src.ipId = (src.ipId + 1) & 0xffff;
    }
    return o;
  }

  private finish(f: Flow, fromClient: boolean, l4: number, end: number): void {
    fillTransportChecksum(this.buf, this.ipOff, l4, end);
    const ipBytes = end - this.ipOff;
    const frame = padEthernet(this.buf, 0, end);
    const sec = Math.floor(this.now / 1e6);
    if (!this.writer.writeFrame(sec, this.now - sec * 1e6, this.buf, 0, frame, frame)) this.needsDrain = true;
    const t = this.truth;
    const seconds = sec + (this.now - sec * 1e6) / 1e6;
    if (t.packets === 0) t.firstTs = seconds;
    t.lastTs = seconds;
    t.packets++;
    t.bytes += frame;
    t.ipBytes += ipBytes;
    if (f.v6) t.ipv6Packets++;
    else t.ipv4Packets++;
    if (this.vlan > 0) t.vlanPackets++;
    if (fromClient) {
      f.origPkts++;
      f.origIpBytes += ipBytes;
    } else {
      f.respPkts++;
      f.respIpBytes += ipBytes;
    }
  }
}
