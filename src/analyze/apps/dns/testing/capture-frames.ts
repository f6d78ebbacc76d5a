/**
 * Just enough of a capture reader for the DNS tests to pull UDP/TCP payloads out of corpus files without the
 * engine: pcap (either byte order, µs or ns) and pcapng (EPB/SPB), link types Ethernet (with VLAN tags), NULL,
 * raw IP, Linux SLL/SLL2; IPv4 and IPv6 (hop-by-hop/routing/destination options skipped; fragments ignored).
 * Test code only: it allocates freely and trusts the file more than the real decoders do.
 */
import { readFileSync } from 'node:fs';
import { formatIPv4, formatIPv6Bytes } from '../../../format-address.js';

export interface TransportFrame {
  /** 1-based, as tshark numbers frames. */
  frame: number;
  ts: number;
  src: string;
  dst: string;
  proto: 'udp' | 'tcp';
  srcPort: number;
  dstPort: number;
  /** TCP only. */
  seq: number;
  ack: number;
  tcpFlags: number;
  payload: Buffer;
}

interface RawFrame {
  ts: number;
  linkType: number;
  data: Buffer;
}

export function readTransportFrames(path: string): TransportFrame[] {
  const file = readFileSync(path);
  const raw = file.readUInt32LE(0) === 0x0a0d0d0a ? readPcapng(file) : readPcap(file);
  const out: TransportFrame[] = [];
  raw.forEach((f, i) => {
    try {
      const t = decodeFrame(f, i + 1);
      if (t) out.push(t);
    } catch {
      // A frame too damaged for this simple reader: the tests skip it (the real decoders count weirds).
    }
  });
  return out;
}

function readPcap(file: Buffer): RawFrame[] {
  const magicLE = file.readUInt32LE(0);
  const le = magicLE === 0xa1b2c3d4 || magicLE === 0xa1b23c4d;
  const magic = le ? magicLE : file.readUInt32BE(0);
  const nano = magic === 0xa1b23c4d;
  const u32 = (o: number) => (le ? file.readUInt32LE(o) : file.readUInt32BE(o));
  const linkType = u32(20) & 0x0fffffff;
  const frames: RawFrame[] = [];
  for (let o = 24; o + 16 <= file.length; ) {
    const caplen = u32(o + 8);
    const ts = u32(o) + u32(o + 4) / (nano ? 1e9 : 1e6);
    if (o + 16 + caplen > file.length) break;
    frames.push({ ts, linkType, data: file.subarray(o + 16, o + 16 + caplen) });
    o += 16 + caplen;
  }
  return frames;
}

function readPcapng(file: Buffer): RawFrame[] {
  const frames: RawFrame[] = [];
  let le = true;
  let links: number[] = [];
  let resolutions: number[] = [];
  for (let o = 0; o + 12 <= file.length; ) {
    if (file.readUInt32LE(o) === 0x0a0d0d0a) {
      le = file.readUInt32LE(o + 8) === 0x1a2b3c4d;
      links = [];
      resolutions = [];
    }
    const u32 = (p: number) => (le ? file.readUInt32LE(p) : file.readUInt32BE(p));
    const u16 = (p: number) => (le ? file.readUInt16LE(p) : file.readUInt16BE(p));
    const type = u32(o);
    const len = u32(o + 4);
    if (len < 12 || o + len > file.length) break;
    if (type === 1) {
      links.push(u16(o + 8));
      resolutions.push(idbResolution(file, o, len, u16));
    } else if (type === 6) {
      const iface = u32(o + 8);
      const stamp = u32(o + 12) * 4294967296 + u32(o + 16);
      const caplen = u32(o + 20);
      frames.push({ ts: stamp / resolutions[iface], linkType: links[iface], data: file.subarray(o + 28, o + 28 + caplen) });
    } else if (type === 3) {
      frames.push({ ts: 0, linkType: links[0], data: file.subarray(o + 12, o + len - 4) });
    }
    o += len;
  }
  return frames;
}

function idbResolution(file: Buffer, o: number, len: number, u16: (p: number) => number): number {
  for (let p = o + 16; p + 4 <= o + len - 4; ) {
    const code = u16(p);
    const olen = u16(p + 2);
    if (code === 0) break;
    if (code === 9) {
      const v = file[p + 4];
      return v & 0x80 ? 2 ** (v & 0x7f) : 10 ** v;
    }
    p += 4 + ((olen + 3) & ~3);
  }
  return 1e6;
}

function decodeFrame(f: RawFrame, frame: number): TransportFrame | null {
  const d = f.data;
  let o = 0;
  let etherType = 0;
  switch (f.linkType) {
    case 1: // Ethernet
      o = 12;
      etherType = d.readUInt16BE(o);
      o += 2;
      while (etherType === 0x8100 || etherType === 0x88a8) {
        etherType = d.readUInt16BE(o + 2);
        o += 4;
      }
      break;
    case 0: // NULL: an address family in host order, which varies by OS; the IP version nibble does not
      etherType = d[4] >> 4 === 4 ? 0x0800 : 0x86dd;
      o = 4;
      break;
    case 101: case 228: case 229: // raw IP
      etherType = d[0] >> 4 === 4 ? 0x0800 : 0x86dd;
      break;
    case 113: // Linux SLL
      etherType = d.readUInt16BE(14);
      o = 16;
      break;
    case 276: // Linux SLL2
      etherType = d.readUInt16BE(0);
      o = 20;
      break;
    default:
      return null;
  }
  let src: string;
  let dst: string;
  let proto: number;
  let end: number;
  if (etherType === 0x0800) {
    const ihl = (d[o] & 0x0f) * 4;
    if ((d.readUInt16BE(o + 6) & 0x3fff) !== 0) return null; // fragment
    proto = d[o + 9];
    src = formatIPv4(d.readUInt32BE(o + 12));
    dst = formatIPv4(d.readUInt32BE(o + 16));
    end = Math.min(d.length, o + d.readUInt16BE(o + 2));
    o += ihl;
  } else if (etherType === 0x86dd) {
    proto = d[o + 6];
    src = formatIPv6Bytes(d, o + 8);
    dst = formatIPv6Bytes(d, o + 24);
    end = Math.min(d.length, o + 40 + d.readUInt16BE(o + 4));
    o += 40;
    while (proto === 0 || proto === 43 || proto === 60) {
      proto = d[o];
      o += (d[o + 1] + 1) * 8;
    }
  } else {
    return null;
  }
  if (proto === 17) {
    const udpEnd = Math.min(end, o + d.readUInt16BE(o + 4));
    return { frame, ts: f.ts, src, dst, proto: 'udp', srcPort: d.readUInt16BE(o), dstPort: d.readUInt16BE(o + 2), seq: 0, ack: 0, tcpFlags: 0, payload: d.subarray(o + 8, Math.max(o + 8, udpEnd)) };
  }
  if (proto === 6) {
    const hl = (d[o + 12] >> 4) * 4;
    return { frame, ts: f.ts, src, dst, proto: 'tcp', srcPort: d.readUInt16BE(o), dstPort: d.readUInt16BE(o + 2), seq: d.readUInt32BE(o + 4), ack: d.readUInt32BE(o + 8), tcpFlags: d[o + 13], payload: d.subarray(o + hl, Math.max(o + hl, end)) };
  }
  return null;
}
