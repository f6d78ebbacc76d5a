/**
 * Hand-built frames for detection tests, every field written out below (frames.test.ts holds one of each
 * against its `tshark -x` dump), and a harness that runs them through the real engine and detection.
 * Ethernet II; IPv4 with a 20-byte header (checksum filled); TCP with a 20-byte header; UDP; ICMP echo; ARP.
 */
import { META_CAPLEN, META_IFACE, META_OFFSET, META_STRIDE, META_WIRELEN, type PacketBatch } from '../../capture/batch.js';
import { Engine } from '../../analyze/engine.js';
import { defaultApps } from '../../analyze/apps/index.js';
import type { AlertRecord, LoopyRecord } from '../../analyze/records.js';
import { defaultProtocols } from '../../decode/protocols/index.js';
import { parseDetectionConfig } from '../config.js';
import { DetectionEngine, type DetectionOptions } from '../detection-engine.js';

export interface Frame {
  ts: number;
  bytes: Buffer;
}

export const FIN = 0x01;
export const SYN = 0x02;
export const RST = 0x04;
export const PSH = 0x08;
export const ACK = 0x10;

const MAC_A = [0x02, 0, 0, 0, 0, 0x0a];
const MAC_B = [0x02, 0, 0, 0, 0, 0x0b];

function v4(text: string): number {
  return text.split('.').reduce((acc, part) => acc * 256 + Number(part), 0) >>> 0;
}

function ipFrame(src: string, dst: string, proto: number, l4: Buffer): Buffer {
  const buf = Buffer.alloc(14 + 20 + l4.length);
  // Ethernet: destination MAC_B, source MAC_A, EtherType 0x0800 (IPv4).
  buf.set(MAC_B, 0);
  buf.set(MAC_A, 6);
  buf.writeUInt16BE(0x0800, 12);
  // IPv4: version 4 / IHL 5, TOS 0, total length, id 0, DF, TTL 64, protocol, checksum, addresses.
  buf[14] = 0x45;
  buf.writeUInt16BE(20 + l4.length, 16);
  buf[20] = 0x40;
  buf[22] = 64;
  buf[23] = proto;
  buf.writeUInt32BE(v4(src), 26);
  buf.writeUInt32BE(v4(dst), 30);
  let sum = 0;
  for (let i = 14; i < 34; i += 2) sum += buf.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  buf.writeUInt16BE(~sum & 0xffff, 24);
  l4.copy(buf, 34);
  return buf;
}

/** TCP: ports, seq, ack, data offset 5 (20 bytes), flags, window 64240, checksum 0 (decoders do not verify it). */
export function tcp(src: string, dst: string, sport: number, dport: number, flags: number, seq = 1000, ack = 0, payload = 0): Buffer {
  const l4 = Buffer.alloc(20 + payload);
  l4.writeUInt16BE(sport, 0);
  l4.writeUInt16BE(dport, 2);
  l4.writeUInt32BE(seq >>> 0, 4);
  l4.writeUInt32BE(ack >>> 0, 8);
  l4[12] = 5 << 4;
  l4[13] = flags;
  l4.writeUInt16BE(64240, 14);
  for (let i = 0; i < payload; i++) l4[20 + i] = 0x61; // 'a'
  return ipFrame(src, dst, 6, l4);
}

/** UDP: ports, length, checksum 0 (none, allowed over IPv4); the payload given, or `payload` bytes of 'a'. */
export function udp(src: string, dst: string, sport: number, dport: number, payload: number | Buffer = 4): Buffer {
  const body = typeof payload === 'number' ? Buffer.alloc(payload, 0x61) : payload;
  const l4 = Buffer.alloc(8 + body.length);
  l4.writeUInt16BE(sport, 0);
  l4.writeUInt16BE(dport, 2);
  l4.writeUInt16BE(8 + body.length, 4);
  l4.writeUInt16BE(0, 6);
  body.copy(l4, 8);
  return ipFrame(src, dst, 17, l4);
}

/**
 * A DNS message with one question (RFC 1035): id, flags (0x0100 query with RD; 0x8180 response, RD RA),
 * counts (1 question, `answers` answers: none are written, so responses here say ancount 0), the name as
 * labels, qtype, class IN.
 */
export function dnsMessage(id: number, response: boolean, name: string, qtype = 1, rcode = 0): Buffer {
  const labels = name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'ascii')]));
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(response ? 0x8180 | rcode : 0x0100, 2);
  header.writeUInt16BE(1, 4);
  const tail = Buffer.alloc(5);
  tail.writeUInt16BE(qtype, 1);
  tail.writeUInt16BE(1, 3);
  return Buffer.concat([header, ...labels, tail]);
}

/** ICMP echo request (type 8) or reply (0): id, sequence, 8 bytes of data; checksum filled. */
export function icmpEcho(src: string, dst: string, type: 0 | 8, id: number, seq: number): Buffer {
  const l4 = Buffer.alloc(16, 0x61);
  l4[0] = type;
  l4[1] = 0;
  l4.writeUInt16BE(0, 2);
  l4.writeUInt16BE(id, 4);
  l4.writeUInt16BE(seq, 6);
  let sum = 0;
  for (let i = 0; i < l4.length; i += 2) sum += l4.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  l4.writeUInt16BE(~sum & 0xffff, 2);
  return ipFrame(src, dst, 1, l4);
}

/** ARP over Ethernet: hardware 1, protocol 0x0800, lengths 6/4, opcode, sender MAC/IP, target MAC/IP. */
export function arp(opcode: 1 | 2, senderMac: number[], senderIp: string, targetMac: number[], targetIp: string): Buffer {
  const buf = Buffer.alloc(42);
  buf.set(opcode === 1 ? [0xff, 0xff, 0xff, 0xff, 0xff, 0xff] : targetMac, 0);
  buf.set(senderMac, 6);
  buf.writeUInt16BE(0x0806, 12);
  buf.writeUInt16BE(1, 14);
  buf.writeUInt16BE(0x0800, 16);
  buf[18] = 6;
  buf[19] = 4;
  buf.writeUInt16BE(opcode, 20);
  buf.set(senderMac, 22);
  buf.writeUInt32BE(v4(senderIp), 28);
  buf.set(targetMac, 32);
  buf.writeUInt32BE(v4(targetIp), 38);
  return buf;
}

/** The frames as one PacketBatch (Ethernet, interface 0), in the given order. */
export function batchOf(frames: readonly Frame[]): PacketBatch {
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

export interface FramesRun {
  alerts: AlertRecord[];
  records: LoopyRecord[];
  detection: DetectionEngine;
  engine: Engine;
}

/** Runs frames through Engine + DetectionEngine (config as JSON, validated), then finishes. */
export async function runFrames(frames: readonly Frame[], config: unknown = {}, options: Partial<DetectionOptions> = {}): Promise<FramesRun> {
  const alerts: AlertRecord[] = [];
  const records: LoopyRecord[] = [];
  const detection = new DetectionEngine({ config: parseDetectionConfig(config, options.registrations), onAlert: (a) => alerts.push(a), ...options });
  const engine = new Engine(detection.wrap({ protocols: defaultProtocols, apps: defaultApps, onRecord: (r) => records.push(r) }));
  detection.attach(engine);
  const batch = batchOf(frames);
  detection.addBatch(batch);
  engine.processBatch(batch);
  engine.finish();
  await detection.close();
  return { alerts, records, detection, engine };
}
