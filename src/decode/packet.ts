/**
 * The decoded facts of one frame. One instance is reused for every packet (no allocation per packet):
 * decoders overwrite its fields, `reset` clears what a frame might not set.
 * Addresses are kept as numbers: IPv4 in src[0]/dst[0]; IPv6 as four big-endian 32-bit words.
 */
export class Packet {
  // ---- frame
  data: Buffer = Buffer.alloc(0);
  view: DataView = new DataView(new ArrayBuffer(0));
  ts = 0;
  caplen = 0;
  wirelen = 0;
  linkType = 0;
  iface = 0;
  frameOffset = 0;
  frameEnd = 0;

  // ---- link layer
  /** Offset of the Ethernet header (destination MAC), or -1 when the frame has none. */
  macOffset = -1;
  /** Outermost VLAN id (802.1Q/802.1ad), 0 when untagged. */
  vlan = 0;
  /** Second VLAN id of a stacked (QinQ) tag, 0 when absent. */
  innerVlan = 0;
  vlanDepth = 0;
  etherType = 0;
  /** ARP: opcode and the offset of the ARP header, -1 when not ARP. */
  arpOffset = -1;

  // ---- network layer (the innermost IP header decoded so far)
  ipVersion = 0;
  ipOffset = 0;
  ipHeaderLength = 0;
  /** IP packet length per its header (total length, or IPv6 payload length + 40). */
  ipLength = 0;
  ttl = 0;
  /** Upper-layer protocol after IPv6 extension headers. */
  ipProto = 0;
  readonly src = new Uint32Array(4);
  readonly dst = new Uint32Array(4);
  /** IPv4/IPv6 fragment: true when the packet is any fragment; fragOffset in bytes. */
  isFragment = false;
  fragOffset = 0;
  moreFragments = false;
  /** Of a fragment: the datagram's identification, where the fragment's data starts, and the protocol it carries. */
  fragmentId = 0;
  fragmentDataOffset = 0;
  fragmentProto = 0;
  /** IP-in-IP, GRE, VXLAN...: how many tunnel layers have been entered. */
  tunnelDepth = 0;

  // ---- transport layer
  /** IP protocol of the decoded transport layer (6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6), 0 when none. */
  transport = 0;
  /** Set by a transport decoder; the dissector hands the packet to its sink and clears it. */
  transportReady = false;
  srcPort = 0;
  dstPort = 0;
  tcpFlags = 0;
  seq = 0;
  ack = 0;
  window = 0;
  tcpHeaderLength = 0;
  /** TCP options seen (TCP_OPT_* bits) and their values. */
  tcpOptions = 0;
  mss = 0;
  windowScale = 0;
  tsVal = 0;
  tsEcr = 0;
  icmpType = 0;
  icmpCode = 0;
  /** Application payload: offset in `data`, bytes captured, and bytes on the wire per the headers. */
  payloadOffset = 0;
  payloadLength = 0;
  payloadWireLength = 0;

  // ---- hand-off to the next layer (set by each decoder)
  nextTable = 0;
  nextKey = 0;
  /** Second key to try when `nextKey` has no decoder (e.g. the UDP source port). -1 for none. */
  nextKeyAlt = -1;

  /** Prepares the instance for a new frame. */
  reset(data: Buffer, view: DataView, offset: number, caplen: number, wirelen: number, ts: number, linkType: number, iface: number): void {
    this.data = data;
    this.view = view;
    this.frameOffset = offset;
    this.frameEnd = offset + caplen;
    this.caplen = caplen;
    this.wirelen = wirelen;
    this.ts = ts;
    this.linkType = linkType;
    this.iface = iface;
    this.macOffset = -1;
    this.vlan = 0;
    this.innerVlan = 0;
    this.vlanDepth = 0;
    this.etherType = 0;
    this.arpOffset = -1;
    this.ipVersion = 0;
    this.ipProto = 0;
    this.ipLength = 0;
    this.isFragment = false;
    this.fragOffset = 0;
    this.moreFragments = false;
    this.tunnelDepth = 0;
    this.clearTransport();
  }

  /** Called by a network decoder when it starts a (possibly inner) IP header. */
  clearTransport(): void {
    this.transport = 0;
    this.transportReady = false;
    this.srcPort = 0;
    this.dstPort = 0;
    this.tcpFlags = 0;
    this.tcpOptions = 0;
    this.icmpType = 0;
    this.icmpCode = 0;
    this.payloadOffset = 0;
    this.payloadLength = 0;
    this.payloadWireLength = 0;
  }
}

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;
export const TCP_URG = 0x20;
export const TCP_ECE = 0x40;
export const TCP_CWR = 0x80;

export const TCP_OPT_MSS = 1;
export const TCP_OPT_WSCALE = 2;
export const TCP_OPT_SACK_PERMITTED = 4;
export const TCP_OPT_SACK = 8;
export const TCP_OPT_TIMESTAMP = 16;

export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_ICMPV6 = 58;
