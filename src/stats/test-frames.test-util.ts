/**
 * Hand-built frames for the stats and replay tests: Ethernet II + IPv4 (20-byte header) + UDP or TCP
 * (20-byte header), payload of zero bytes. Every field is written explicitly below; `test-frames.test.ts`
 * checks one frame against its `tshark -x` dump.
 */
import { META_CAPLEN, META_IFACE, META_OFFSET, META_STRIDE, META_WIRELEN, type PacketBatch } from '../capture/batch.js';

export interface TestFrame {
  ts: number;
  bytes: Buffer;
}

const ETH = 14;
const IP = 20;
const L4_UDP = 8;
const L4_TCP = 20;

function ipv4Number(text: string): number {
  return text.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
}

function frame(src: string, dst: string, proto: 6 | 17, l4Length: number, payload: number): { buf: Buffer; l4: number } {
  const buf = Buffer.alloc(ETH + IP + l4Length + payload);
  // Ethernet: destination 02:00:00:00:00:02, source 02:00:00:00:00:01 (locally administered), type IPv4.
  buf.set([0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01], 0);
  buf.writeUInt16BE(0x0800, 12);
  // IPv4: version 4, IHL 5; DSCP 0; total length; id 0; flags DF; TTL 64; protocol; checksum; addresses.
  buf[ETH] = 0x45;
  buf.writeUInt16BE(IP + l4Length + payload, ETH + 2);
  buf[ETH + 6] = 0x40;
  buf[ETH + 8] = 64;
  buf[ETH + 9] = proto;
  buf.writeUInt32BE(ipv4Number(src), ETH + 12);
  buf.writeUInt32BE(ipv4Number(dst), ETH + 16);
  let sum = 0;
  for (let i = ETH; i < ETH + IP; i += 2) sum += buf.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  buf.writeUInt16BE(~sum & 0xffff, ETH + 10);
  return { buf, l4: ETH + IP };
}

/** UDP: ports, length (header + payload); checksum 0 = none (allowed for UDP over IPv4). */
export function udp4(src: string, dst: string, sport: number, dport: number, payload = 0): Buffer {
  const { buf, l4 } = frame(src, dst, 17, L4_UDP, payload);
  buf.writeUInt16BE(sport, l4);
  buf.writeUInt16BE(dport, l4 + 2);
  buf.writeUInt16BE(L4_UDP + payload, l4 + 4);
  return buf;
}

export const SYN = 0x02;
export const ACK = 0x10;
export const FIN = 0x01;
export const PSH = 0x08;

/** TCP: ports, seq, ack, data offset 5 words, flags, window 65535; checksum left 0 (not verified by decoders). */
export function tcp4(src: string, dst: string, sport: number, dport: number, flags: number, seq: number, ack: number, payload = 0): Buffer {
  const { buf, l4 } = frame(src, dst, 6, L4_TCP, payload);
  buf.writeUInt16BE(sport, l4);
  buf.writeUInt16BE(dport, l4 + 2);
  buf.writeUInt32BE(seq >>> 0, l4 + 4);
  buf.writeUInt32BE(ack >>> 0, l4 + 8);
  buf[l4 + 12] = 5 << 4;
  buf[l4 + 13] = flags;
  buf.writeUInt16BE(0xffff, l4 + 14);
  return buf;
}

/** One PacketBatch (Ethernet, interface 0) holding the frames in order, each at its own offset. */
export function batchOf(frames: readonly TestFrame[]): PacketBatch {
  const data = Buffer.concat(frames.map((f) => f.bytes));
  const meta = new Uint32Array(frames.length * META_STRIDE);
  const ts = new Float64Array(frames.length);
  let offset = 0;
  frames.forEach((f, i) => {
    meta[i * META_STRIDE + META_OFFSET] = offset;
    meta[i * META_STRIDE + META_CAPLEN] = f.bytes.length;
    meta[i * META_STRIDE + META_WIRELEN] = f.bytes.length;
    meta[i * META_STRIDE + META_IFACE] = 0;
    ts[i] = f.ts;
    offset += f.bytes.length;
  });
  return { data, count: frames.length, meta, ts, linkTypes: [1] };
}
