/**
 * Header builders: each writes one header into `buf` at `off` and returns the offset after it. They take
 * plain numbers and byte arrays (no option objects) because the generator calls them for every packet.
 * Checksums that cover the payload are filled last, by `fillTransportChecksum`, once the bytes are there.
 */

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_IPV6 = 0x86dd;
export const ETHERTYPE_VLAN = 0x8100;
export const ETHERNET_HEADER_LENGTH = 14;
/** Frames shorter than this (without FCS) are padded with zeros on the wire, and so at a mirror port. */
export const ETHERNET_MIN_FRAME = 60;
export const IPV4_HEADER_LENGTH = 20;
export const IPV6_HEADER_LENGTH = 40;
export const UDP_HEADER_LENGTH = 8;
export const ICMP_ECHO_HEADER_LENGTH = 8;

export const PROTO_ICMP = 1;
export const PROTO_TCP = 6;
export const PROTO_UDP = 17;
export const PROTO_ICMPV6 = 58;

/** Which TCP options a segment carries, as Linux sends them. */
export const TCP_OPTS_NONE = 0;
/** NOP, NOP, timestamps: 12 bytes, on every segment of an established connection. */
export const TCP_OPTS_TIMESTAMPS = 1;
/** MSS, SACK-permitted, timestamps, NOP, window scale: 20 bytes, on SYN and SYN-ACK. */
export const TCP_OPTS_SYN = 2;

/** MSS alone: 4 bytes, on the SYNs of a scanner (nmap's raw SYN probes carry just this). */
export const TCP_OPTS_MSS_ONLY = 3;

export function tcpHeaderLength(options: number): number {
  return options === TCP_OPTS_SYN ? 40 : options === TCP_OPTS_TIMESTAMPS ? 32 : options === TCP_OPTS_MSS_ONLY ? 24 : 20;
}

function copy(buf: Uint8Array, off: number, src: Uint8Array): void {
  // Addresses are 4 to 16 bytes: a loop is cheaper than a native set() call.
  for (let i = 0; i < src.length; i++) buf[off + i] = src[i];
}

/** Ethernet II header, with one 802.1Q tag when vlan > 0. */
export function ethernet(buf: Buffer, off: number, dst: Uint8Array, src: Uint8Array, etherType: number, vlan = 0): number {
  copy(buf, off, dst);
  copy(buf, off + 6, src);
  let o = off + 12;
  if (vlan > 0) {
    buf.writeUInt16BE(ETHERTYPE_VLAN, o);
    buf.writeUInt16BE(vlan & 0x0fff, o + 2); // priority 0, DEI 0
    o += 4;
  }
  buf.writeUInt16BE(etherType, o);
  return o + 2;
}

/** IPv4 header without options, Don't Fragment set (as Linux sends TCP and most UDP), checksum filled. */
export function ipv4(buf: Buffer, off: number, src: Uint8Array, dst: Uint8Array, proto: number, payloadLength: number, ttl: number, id: number): number {
  buf[off] = 0x45;
  buf[off + 1] = 0;
  buf.writeUInt16BE(IPV4_HEADER_LENGTH + payloadLength, off + 2);
  buf.writeUInt16BE(id & 0xffff, off + 4);
  buf[off + 6] = 0x40;
  buf[off + 7] = 0;
  buf[off + 8] = ttl;
  buf[off + 9] = proto;
  buf[off + 10] = 0;
  buf[off + 11] = 0;
  copy(buf, off + 12, src);
  copy(buf, off + 16, dst);
  buf.writeUInt16BE(internetChecksum(buf, off, off + IPV4_HEADER_LENGTH), off + 10);
  return off + IPV4_HEADER_LENGTH;
}

/** IPv6 header with no extension headers. */
export function ipv6(buf: Buffer, off: number, src: Uint8Array, dst: Uint8Array, nextHeader: number, payloadLength: number, hopLimit: number, flowLabel: number): number {
  buf.writeUInt32BE((0x60000000 | (flowLabel & 0xfffff)) >>> 0, off);
  buf.writeUInt16BE(payloadLength, off + 4);
  buf[off + 6] = nextHeader;
  buf[off + 7] = hopLimit;
  copy(buf, off + 8, src);
  copy(buf, off + 24, dst);
  return off + IPV6_HEADER_LENGTH;
}

/**
 * TCP header and options; checksum left zero for `fillTransportChecksum`. `tsval`/`tsecr` are used when
 * the options include timestamps; SYN options advertise `mss` and window scale 7 (Linux's default).
 */
export function tcp(
  buf: Buffer, off: number, sport: number, dport: number, seq: number, ack: number, flags: number, window: number,
  options: number, tsval: number, tsecr: number, mss: number,
): number {
  const hlen = tcpHeaderLength(options);
  buf.writeUInt16BE(sport, off);
  buf.writeUInt16BE(dport, off + 2);
  buf.writeUInt32BE(seq >>> 0, off + 4);
  buf.writeUInt32BE(ack >>> 0, off + 8);
  buf[off + 12] = (hlen / 4) << 4;
  buf[off + 13] = flags;
  buf.writeUInt16BE(window, off + 14);
  buf[off + 16] = 0;
  buf[off + 17] = 0;
  buf[off + 18] = 0; // urgent pointer
  buf[off + 19] = 0;
  let o = off + 20;
  if (options === TCP_OPTS_MSS_ONLY) {
    buf[o] = 2;
    buf[o + 1] = 4;
    buf.writeUInt16BE(mss, o + 2);
    return o + 4;
  }
  if (options === TCP_OPTS_SYN) {
    buf[o] = 2; // MSS
    buf[o + 1] = 4;
    buf.writeUInt16BE(mss, o + 2);
    buf[o + 4] = 4; // SACK permitted
    buf[o + 5] = 2;
    o += 6;
  } else if (options === TCP_OPTS_TIMESTAMPS) {
    buf[o] = 1;
    buf[o + 1] = 1;
    o += 2;
  }
  if (options !== TCP_OPTS_NONE) {
    buf[o] = 8; // timestamps
    buf[o + 1] = 10;
    buf.writeUInt32BE(tsval >>> 0, o + 2);
    buf.writeUInt32BE(tsecr >>> 0, o + 6);
    o += 10;
  }
  if (options === TCP_OPTS_SYN) {
    buf[o] = 1; // NOP
    buf[o + 1] = 3; // window scale 7
    buf[o + 2] = 3;
    buf[o + 3] = 7;
    o += 4;
  }
  return o;
}

/** UDP header; length from the payload, checksum left for `fillTransportChecksum`. */
export function udp(buf: Buffer, off: number, sport: number, dport: number, payloadLength: number): number {
  buf.writeUInt16BE(sport, off);
  buf.writeUInt16BE(dport, off + 2);
  buf.writeUInt16BE(UDP_HEADER_LENGTH + payloadLength, off + 4);
  buf[off + 6] = 0;
  buf[off + 7] = 0;
  return off + UDP_HEADER_LENGTH;
}

/** ICMP or ICMPv6 echo request/reply header (type 8/0, or 128/129 for v6); checksum left for later. */
export function icmp(buf: Buffer, off: number, type: number, code: number, id: number, seq: number): number {
  buf[off] = type;
  buf[off + 1] = code;
  buf[off + 2] = 0;
  buf[off + 3] = 0;
  buf.writeUInt16BE(id, off + 4);
  buf.writeUInt16BE(seq, off + 6);
  return off + ICMP_ECHO_HEADER_LENGTH;
}

/** Copies src[start, start+length) to buf at off; returns the offset after it. */
export function payload(buf: Buffer, off: number, src: Buffer, start: number, length: number): number {
  src.copy(buf, off, start, start + length);
  return off + length;
}

/** Pads an Ethernet frame that starts at frameStart and ends at end to the 60-byte minimum. */
export function padEthernet(buf: Buffer, frameStart: number, end: number): number {
  const min = frameStart + ETHERNET_MIN_FRAME;
  if (end >= min) return end;
  buf.fill(0, end, min);
  return min;
}

/**
 * Fills the TCP/UDP/ICMP/ICMPv6 checksum of the segment buf[l4Off, end), whose IP header (v4 without
 * options or v6 without extension headers, as the builders make them) starts at ipOff.
 */
export function fillTransportChecksum(buf: Buffer, ipOff: number, l4Off: number, end: number): void {
  const v6 = buf[ipOff] >> 4 === 6;
  const proto = v6 ? buf[ipOff + 6] : buf[ipOff + 9];
  const at = l4Off + (proto === PROTO_TCP ? 16 : proto === PROTO_UDP ? 6 : 2);
  buf[at] = 0;
  buf[at + 1] = 0;
  const length = end - l4Off;
  let sum = 0;
  if (proto !== PROTO_ICMP) {
    // Pseudo-header: addresses, protocol, upper-layer length (RFC 793 / 768 / 8200 section 8.1).
    sum = v6 ? onesSum(buf, ipOff + 8, ipOff + 40, 0) : onesSum(buf, ipOff + 12, ipOff + 20, 0);
    sum += proto + (length >>> 16) + (length & 0xffff);
  }
  let c = finishChecksum(onesSum(buf, l4Off, end, sum));
  if (c === 0 && proto === PROTO_UDP) c = 0xffff; // 0 means "no checksum" in UDP
  buf.writeUInt16BE(c, at);
}

/** Adds buf[start, end) as big-endian 16-bit words to `sum` (unfolded; an odd last byte is padded). */
export function onesSum(buf: Uint8Array, start: number, end: number, sum: number): number {
  let i = start;
  const last = end - 1;
  for (; i < last; i += 2) sum += (buf[i] << 8) | buf[i + 1];
  if (i < end) sum += buf[i] << 8;
  return sum;
}

/** Folds a sum of 16-bit words and complements it. */
export function finishChecksum(sum: number): number {
  while (sum > 0xffff) sum = (sum % 0x10000) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

export function internetChecksum(buf: Uint8Array, start: number, end: number): number {
  return finishChecksum(onesSum(buf, start, end, 0));
}
