/**
 * Test-only: replays the TCP flows of a corpus capture through one app registration, the way the engine
 * will (claim by port or by probe on the first payload, every segment of a claimed flow to onPayload,
 * finish at the end). It has its own tiny pcap/pcapng + link/IP/TCP reader so the app analyzer tests do
 * not wait for the real capture and decode layers; move it onto those once they exist.
 * Supports the link types the TLS/HTTP corpus files use: Ethernet (+802.1Q), SLL, SLL2, NULL, raw IP.
 */
import { readFileSync } from 'node:fs';
import { Packet, TCP_ACK, TCP_SYN } from '../../../../decode/packet.js';
import type { AppRegistration } from '../../types.js';
import { FakeAppContext } from './fake-context.js';

interface Frame {
  offset: number;
  caplen: number;
  ts: number;
  linkType: number;
}

function readFrames(file: Buffer): Frame[] {
  const frames: Frame[] = [];
  const magic = file.readUInt32LE(0);
  if (magic === 0x0a0d0d0a) {
    const linkTypes: number[] = [];
    for (let p = 0; p + 12 <= file.length; ) {
      const type = file.readUInt32LE(p);
      const length = file.readUInt32LE(p + 4);
      if (length < 12) break;
      if (type === 0x0a0d0d0a) linkTypes.length = 0;
      else if (type === 1) linkTypes.push(file.readUInt16LE(p + 8));
      else if (type === 6) {
        const ts = (file.readUInt32LE(p + 12) * 2 ** 32 + file.readUInt32LE(p + 16)) / 1e6;
        frames.push({ offset: p + 28, caplen: file.readUInt32LE(p + 20), ts, linkType: linkTypes[file.readUInt32LE(p + 8)] });
      }
      p += length;
    }
    return frames;
  }
  if (magic !== 0xa1b2c3d4 && magic !== 0xa1b23c4d) throw new Error('replay: only little-endian pcap/pcapng');
  const scale = magic === 0xa1b2c3d4 ? 1e6 : 1e9;
  const linkType = file.readUInt32LE(20) & 0xffff;
  for (let p = 24; p + 16 <= file.length; ) {
    const caplen = file.readUInt32LE(p + 8);
    frames.push({ offset: p + 16, caplen, ts: file.readUInt32LE(p) + file.readUInt32LE(p + 4) / scale, linkType });
    p += 16 + caplen;
  }
  return frames;
}

/** Offset of the IP header and the IP version, or -1 when the frame carries no IP. */
function findIp(file: Buffer, f: Frame): number {
  let at = f.offset;
  let etherType: number;
  switch (f.linkType) {
    case 1:
      etherType = file.readUInt16BE(at + 12);
      at += 14;
      while (etherType === 0x8100 || etherType === 0x88a8) {
        etherType = file.readUInt16BE(at + 2);
        at += 4;
      }
      break;
    case 113:
      etherType = file.readUInt16BE(at + 14);
      at += 16;
      break;
    case 276:
      etherType = file.readUInt16BE(at);
      at += 20;
      break;
    case 0: {
      const family = file.readUInt32LE(at);
      etherType = family === 2 ? 0x0800 : family === 24 || family === 28 || family === 30 ? 0x86dd : 0;
      at += 4;
      break;
    }
    case 101:
    case 228:
    case 229:
      etherType = file[at] >> 4 === 4 ? 0x0800 : 0x86dd;
      break;
    default:
      return -1;
  }
  return etherType === 0x0800 || etherType === 0x86dd ? at : -1;
}

function ipText(file: Buffer, at: number, v6: boolean): string {
  if (!v6) return `${file[at]}.${file[at + 1]}.${file[at + 2]}.${file[at + 3]}`;
  const words: string[] = [];
  for (let i = 0; i < 16; i += 2) words.push(file.readUInt16BE(at + i).toString(16));
  return words.join(':');
}

export interface ReplayResult {
  ctx: FakeAppContext;
  /** Flow ids the registration claimed, with how (port or probe). */
  claimed: Map<number, 'port' | 'probe'>;
}

export function replayCapture(path: string, registration: AppRegistration): ReplayResult {
  const file = readFileSync(path);
  const ctx = new FakeAppContext();
  const analyzer = registration.create(ctx);
  const ports = new Set(registration.tcpPorts ?? []);
  const flows = new Map<string, { id: number; origKey: string; state: 'undecided' | 'claimed' | 'ignored' }>();
  const claimed = new Map<number, 'port' | 'probe'>();
  const pkt = new Packet();
  for (const f of readFrames(file)) {
    const ip = findIp(file, f);
    if (ip < 0) continue;
    const v6 = file[ip] >> 4 === 6;
    const proto = v6 ? file[ip + 6] : file[ip + 9];
    if (proto !== 6) continue;
    if (!v6 && (file.readUInt16BE(ip + 6) & 0x3fff) !== 0) continue; // fragments
    const ipHeader = v6 ? 40 : (file[ip] & 0x0f) * 4;
    const ipEnd = Math.min(f.offset + f.caplen, ip + (v6 ? 40 + file.readUInt16BE(ip + 4) : file.readUInt16BE(ip + 2)));
    const tcp = ip + ipHeader;
    const payloadOffset = tcp + (file[tcp + 12] >> 4) * 4;
    const src = `${ipText(file, ip + (v6 ? 8 : 12), v6)}|${file.readUInt16BE(tcp)}`;
    const dst = `${ipText(file, ip + (v6 ? 24 : 16), v6)}|${file.readUInt16BE(tcp + 2)}`;
    const flags = file[tcp + 13];
    const key = src < dst ? `${src}>${dst}` : `${dst}>${src}`;
    let flow = flows.get(key);
    if (flow === undefined) {
      // The originator sent the first packet, unless that packet is the SYN-ACK.
      const origKey = (flags & (TCP_SYN | TCP_ACK)) === (TCP_SYN | TCP_ACK) ? dst : src;
      flow = { id: flows.size + 1, origKey, state: 'undecided' };
      flows.set(key, flow);
      const [origH, origP] = origKey.split('|');
      const [respH, respP] = (origKey === src ? dst : src).split('|');
      ctx.ids.set(flow.id, { uid: `C${flow.id}`, 'id.orig_h': origH, 'id.orig_p': Number(origP), 'id.resp_h': respH, 'id.resp_p': Number(respP), proto: 'tcp' });
      if (ports.has(Number(origP)) || ports.has(Number(respP))) {
        flow.state = 'claimed';
        claimed.set(flow.id, 'port');
      }
    }
    const payloadLength = Math.max(0, ipEnd - payloadOffset);
    if (flow.state === 'undecided' && payloadLength > 0) {
      const yes = registration.probe?.(file, payloadOffset, payloadLength, 6) ?? false;
      flow.state = yes ? 'claimed' : 'ignored';
      if (yes) claimed.set(flow.id, 'probe');
    }
    if (flow.state !== 'claimed') continue;
    pkt.reset(file, new DataView(file.buffer, file.byteOffset, file.length), f.offset, f.caplen, f.caplen, f.ts, f.linkType, 0);
    pkt.transport = 6;
    pkt.tcpFlags = flags;
    pkt.seq = file.readUInt32BE(tcp + 4);
    pkt.payloadOffset = payloadOffset;
    pkt.payloadLength = payloadLength;
    analyzer.onPayload(flow.id, flow.origKey === src, pkt);
  }
  analyzer.finish();
  return { ctx, claimed };
}
