/**
 * Hand-built frames for tests, every header field written out below; `frames.test.ts` checks one frame of
 * each kind against its `tshark -x` dump.
 *
 * Conventions, kept fixed so those dumps stay valid: Ethernet II from 02:00:00:00:00:01 to 02:00:00:00:00:02
 * (locally administered, so no real vendor); IPv4 with a 20-byte header, id 0, DF, TTL 64, checksum filled;
 * TCP with a 20-byte header, window 64240, checksum 0; UDP with checksum 0 (none). A payload given as a
 * count is that many zero bytes; given as a Buffer, those bytes.
 */
import { META_CAPLEN, META_IFACE, META_OFFSET, META_STRIDE, META_WIRELEN, type PacketBatch } from '../capture/batch.js';

export interface Frame {
  ts: number;
  bytes: Buffer;
  /** The capture interface index (default 0). */
  iface?: number;
}

/** TCP flag bits (byte 13 of the TCP header). */
export const FIN = 0x01;
export const SYN = 0x02;
export const RST = 0x04;
export const PSH = 0x08;
export const ACK = 0x10;
export const URG = 0x20;

/** A payload: that many zero bytes, or these bytes. */
export type Payload = number | Buffer;

const ETH_HEADER = 14;
const IPV4_HEADER = 20;
const TCP_HEADER = 20;
const UDP_HEADER = 8;
const ICMP_ECHO_HEADER = 8;
/** Echo data carried by icmpEcho(): 8 zero bytes (the payload convention above). */
const ICMP_ECHO_DATA = 8;
const ARP_BODY = 28;

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_ARP = 0x0806;
const IPPROTO_ICMP = 1;
const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;

const SRC_MAC = [0x02, 0, 0, 0, 0, 0x01];
const DST_MAC = [0x02, 0, 0, 0, 0, 0x02];
const BROADCAST_MAC = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff];

function ipv4Number(text: string): number {
  return text.split('.').reduce((acc, part) => acc * 256 + Number(part), 0) >>> 0;
}

/** RFC 1071 Internet checksum over [start, end) (even length), for the IPv4 header and ICMP. */
function internetChecksum(buf: Buffer, start: number, end: number): number {
  let sum = 0;
  for (let i = start; i < end; i += 2) sum += buf.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function payloadLength(payload: Payload): number {
  return typeof payload === 'number' ? payload : payload.length;
}

/** Copies a Buffer payload to `at`; a count leaves the zeros Buffer.alloc gave. */
function writePayload(buf: Buffer, at: number, payload: Payload): void {
  if (typeof payload !== 'number') payload.copy(buf, at);
}

/** Ethernet II header: destination MAC, source MAC, EtherType. */
function writeEthernet(buf: Buffer, dst: readonly number[], src: readonly number[], etherType: number): void {
  buf.set(dst, 0);
  buf.set(src, 6);
  buf.writeUInt16BE(etherType, 12);
}

/**
 * Ethernet + IPv4 header around an `l4Length`-byte transport segment (left zero for the caller to fill).
 * Returns the frame; the transport header starts at ETH_HEADER + IPV4_HEADER.
 */
function ipv4Frame(src: string, dst: string, proto: number, l4Length: number): Buffer {
  const buf = Buffer.alloc(ETH_HEADER + IPV4_HEADER + l4Length);
  writeEthernet(buf, DST_MAC, SRC_MAC, ETHERTYPE_IPV4);
  const ip = ETH_HEADER;
  buf[ip] = 0x45; // version 4, IHL 5 words (20 bytes, no options)
  buf[ip + 1] = 0; // DSCP 0, ECN 0
  buf.writeUInt16BE(IPV4_HEADER + l4Length, ip + 2); // total length: header + transport
  buf.writeUInt16BE(0, ip + 4); // identification 0 (DF set, so never reassembled)
  buf.writeUInt16BE(0x4000, ip + 6); // flags DF, fragment offset 0
  buf[ip + 8] = 64; // TTL
  buf[ip + 9] = proto; // protocol
  buf.writeUInt16BE(0, ip + 10); // checksum: zero while summing, filled below
  buf.writeUInt32BE(ipv4Number(src), ip + 12); // source address
  buf.writeUInt32BE(ipv4Number(dst), ip + 16); // destination address
  buf.writeUInt16BE(internetChecksum(buf, ip, ip + IPV4_HEADER), ip + 10);
  return buf;
}

/** Ethernet/IPv4/UDP: the payload's bytes, or `payload` zero bytes. */
export function udp4(src: string, dst: string, sport: number, dport: number, payload: Payload = 0): Buffer {
  const length = UDP_HEADER + payloadLength(payload);
  const buf = ipv4Frame(src, dst, IPPROTO_UDP, length);
  const l4 = ETH_HEADER + IPV4_HEADER;
  buf.writeUInt16BE(sport, l4); // source port
  buf.writeUInt16BE(dport, l4 + 2); // destination port
  buf.writeUInt16BE(length, l4 + 4); // length: header + payload
  buf.writeUInt16BE(0, l4 + 6); // checksum 0 = none (allowed for UDP over IPv4)
  writePayload(buf, l4 + UDP_HEADER, payload);
  return buf;
}

/** Ethernet/IPv4/TCP with the given flags, seq and ack: the payload's bytes, or `payload` zero bytes. */
export function tcp4(src: string, dst: string, sport: number, dport: number, flags: number, seq: number, ack: number, payload: Payload = 0): Buffer {
  const buf = ipv4Frame(src, dst, IPPROTO_TCP, TCP_HEADER + payloadLength(payload));
  const l4 = ETH_HEADER + IPV4_HEADER;
  buf.writeUInt16BE(sport, l4); // source port
  buf.writeUInt16BE(dport, l4 + 2); // destination port
  buf.writeUInt32BE(seq >>> 0, l4 + 4); // sequence number
  buf.writeUInt32BE(ack >>> 0, l4 + 8); // acknowledgment number
  buf[l4 + 12] = 5 << 4; // data offset 5 words (20 bytes, no options), reserved bits 0
  buf[l4 + 13] = flags; // flags (FIN, SYN, RST, PSH, ACK above)
  buf.writeUInt16BE(64240, l4 + 14); // window 64240 (Linux's initial window, 44 × 1460; the detection tests read it back)
  buf.writeUInt16BE(0, l4 + 16); // checksum left 0: the decoders do not verify it
  buf.writeUInt16BE(0, l4 + 18); // urgent pointer 0
  writePayload(buf, l4 + TCP_HEADER, payload);
  return buf;
}

/** Ethernet/IPv4/ICMP echo request (type 8) or reply (type 0) with 8 zero bytes of data; checksum filled. */
export function icmpEcho(src: string, dst: string, type: 0 | 8, id: number, seq: number): Buffer {
  const buf = ipv4Frame(src, dst, IPPROTO_ICMP, ICMP_ECHO_HEADER + ICMP_ECHO_DATA);
  const l4 = ETH_HEADER + IPV4_HEADER;
  buf[l4] = type; // type: 8 echo request, 0 echo reply
  buf[l4 + 1] = 0; // code 0
  buf.writeUInt16BE(0, l4 + 2); // checksum: zero while summing, filled below
  buf.writeUInt16BE(id, l4 + 4); // identifier
  buf.writeUInt16BE(seq, l4 + 6); // sequence number
  buf.writeUInt16BE(internetChecksum(buf, l4, buf.length), l4 + 2);
  return buf;
}

/**
 * Ethernet/IPv4/ICMP destination unreachable (type 3, code 3: port unreachable) quoting `quoted`, an
 * Ethernet/IPv4 frame from this file: its IP header and the first 8 bytes after it (RFC 792); checksum filled.
 */
export function icmpPortUnreachable(src: string, dst: string, quoted: Buffer): Buffer {
  const quote = quoted.subarray(ETH_HEADER, ETH_HEADER + IPV4_HEADER + 8);
  const buf = ipv4Frame(src, dst, IPPROTO_ICMP, 8 + quote.length);
  const l4 = ETH_HEADER + IPV4_HEADER;
  buf[l4] = 3; // type 3: destination unreachable
  buf[l4 + 1] = 3; // code 3: port unreachable
  buf.writeUInt16BE(0, l4 + 2); // checksum: zero while summing, filled below
  buf.writeUInt32BE(0, l4 + 4); // unused
  quote.copy(buf, l4 + 8); // the offending packet's IP header and first 8 bytes
  buf.writeUInt16BE(internetChecksum(buf, l4, buf.length), l4 + 2);
  return buf;
}

/**
 * ARP over Ethernet (42 bytes). A request (opcode 1) goes to broadcast, a reply (2) to the target's MAC; the
 * Ethernet source is the sender's MAC (not the IPv4 frames' fixed MACs: ARP tests are about who claims what).
 */
export function arp(opcode: 1 | 2, senderMac: readonly number[], senderIp: string, targetMac: readonly number[], targetIp: string): Buffer {
  const buf = Buffer.alloc(ETH_HEADER + ARP_BODY);
  writeEthernet(buf, opcode === 1 ? BROADCAST_MAC : targetMac, senderMac, ETHERTYPE_ARP);
  const a = ETH_HEADER;
  buf.writeUInt16BE(1, a); // hardware type 1 (Ethernet)
  buf.writeUInt16BE(ETHERTYPE_IPV4, a + 2); // protocol type IPv4
  buf[a + 4] = 6; // hardware address length
  buf[a + 5] = 4; // protocol address length
  buf.writeUInt16BE(opcode, a + 6); // opcode: 1 request, 2 reply
  buf.set(senderMac, a + 8); // sender MAC
  buf.writeUInt32BE(ipv4Number(senderIp), a + 14); // sender IPv4
  buf.set(targetMac, a + 18); // target MAC (zeros in a request)
  buf.writeUInt32BE(ipv4Number(targetIp), a + 24); // target IPv4
  return buf;
}

/**
 * A DNS message (RFC 1035) with one question and nothing else, for a UDP payload: id; flags 0x0100 (query,
 * RD) or 0x8180 | rcode (response, RD RA); QDCOUNT 1, ANCOUNT/NSCOUNT/ARCOUNT 0 (responses here carry no
 * answers); the name as length-prefixed labels ending in the root label 0; QTYPE; QCLASS 1 (IN).
 */
export function dnsMessage(id: number, response: boolean, name: string, qtype = 1, rcode = 0): Buffer {
  const labels = name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'ascii')]));
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0); // id
  header.writeUInt16BE(response ? 0x8180 | rcode : 0x0100, 2); // flags
  header.writeUInt16BE(1, 4); // QDCOUNT; the other three counts stay 0
  const tail = Buffer.alloc(5);
  tail[0] = 0; // root label ending the name
  tail.writeUInt16BE(qtype, 1); // QTYPE
  tail.writeUInt16BE(1, 3); // QCLASS IN
  return Buffer.concat([header, ...labels, tail]);
}

/** The frames as one PacketBatch (Ethernet; interface 0 unless a frame names another), in the given order, each at its own offset. */
export function batchOf(frames: readonly Frame[]): PacketBatch {
  const data = Buffer.concat(frames.map((f) => f.bytes));
  const meta = new Uint32Array(frames.length * META_STRIDE);
  const ts = new Float64Array(frames.length);
  let offset = 0;
  frames.forEach((f, i) => {
    meta[i * META_STRIDE + META_OFFSET] = offset;
    meta[i * META_STRIDE + META_CAPLEN] = f.bytes.length;
    meta[i * META_STRIDE + META_WIRELEN] = f.bytes.length;
    meta[i * META_STRIDE + META_IFACE] = f.iface ?? 0;
    ts[i] = f.ts;
    offset += f.bytes.length;
  });
  const interfaces = Math.max(0, ...frames.map((f) => f.iface ?? 0)) + 1;
  return { data, count: frames.length, meta, ts, linkTypes: Array<number>(interfaces).fill(1) };
}
