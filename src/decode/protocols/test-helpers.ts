/**
 * Test support for the protocol decoders: turns a hex dump into a frame, runs the real Dissector over
 * `defaultProtocols`, and returns copies of what the sink saw (the Packet itself is reused, so the sink
 * must copy). Not used by production code.
 */
import { META_CAPLEN, META_IFACE, META_OFFSET, META_STRIDE, META_WIRELEN } from '../../capture/batch.js';
import { openCaptureFile } from '../../capture/capture-file.js';
import { Dissector } from '../dissector.js';
import { Packet } from '../packet.js';
import { WeirdCounter } from '../weirds.js';
import { defaultProtocols } from './index.js';

/** Every Packet field a decoder may set, as plain values. */
export interface PacketSnapshot {
  macOffset: number;
  vlan: number;
  innerVlan: number;
  vlanDepth: number;
  etherType: number;
  arpOffset: number;
  ipVersion: number;
  ipOffset: number;
  ipHeaderLength: number;
  ipLength: number;
  ttl: number;
  ipProto: number;
  src: number[];
  dst: number[];
  isFragment: boolean;
  fragOffset: number;
  moreFragments: boolean;
  tunnelDepth: number;
  transport: number;
  srcPort: number;
  dstPort: number;
  tcpFlags: number;
  seq: number;
  ack: number;
  window: number;
  tcpHeaderLength: number;
  tcpOptions: number;
  mss: number;
  windowScale: number;
  tsVal: number;
  tsEcr: number;
  icmpType: number;
  icmpCode: number;
  /** Offsets are relative to the frame's first byte (the helper places the frame inside a larger buffer). */
  payloadOffset: number;
  payloadLength: number;
  payloadWireLength: number;
  /** The captured payload bytes as hex, for checking that the bounds point at the right bytes. */
  payloadHex: string;
}

/** Bytes placed before and after the frame: decoders must use absolute offsets and never read past `end`. */
const GUARD_BEFORE = 7;
const GUARD_AFTER = 32;
const GUARD_BYTE = 0xee;

/** A `tshark -x` line: offset, two spaces, up to 16 bytes each followed by one space, then the ASCII column. */
const TSHARK_DUMP_LINE = /^[0-9a-f]{4,8}  ((?:[0-9a-f]{2} ?){1,16})/i;

/**
 * Parses hex line by line: a `tshark -x` line gives its byte columns (the ASCII column is set off by more
 * than one space and never matches); any other line is bare hex (whitespace and `#` comments ignored). So a
 * hand-written header can be put in front of a dump.
 */
export function parseHex(text: string): Buffer {
  let hex = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const dump = TSHARK_DUMP_LINE.exec(line);
    const bytes = dump ? dump[1] : line.replace(/#.*$/, '');
    hex += bytes.replace(/\s+/g, '');
  }
  if (!/^([0-9a-f]{2})*$/i.test(hex)) throw new Error(`not hex: ${hex.slice(0, 60)}`);
  return Buffer.from(hex, 'hex');
}

function snapshot(pkt: Packet): PacketSnapshot {
  const base = pkt.frameOffset;
  const payloadStart = pkt.payloadOffset;
  return {
    macOffset: pkt.macOffset < 0 ? -1 : pkt.macOffset - base,
    vlan: pkt.vlan,
    innerVlan: pkt.innerVlan,
    vlanDepth: pkt.vlanDepth,
    etherType: pkt.etherType,
    arpOffset: pkt.arpOffset < 0 ? -1 : pkt.arpOffset - base,
    ipVersion: pkt.ipVersion,
    ipOffset: pkt.ipVersion === 0 ? 0 : pkt.ipOffset - base,
    ipHeaderLength: pkt.ipHeaderLength,
    ipLength: pkt.ipLength,
    ttl: pkt.ttl,
    ipProto: pkt.ipProto,
    src: Array.from(pkt.src),
    dst: Array.from(pkt.dst),
    isFragment: pkt.isFragment,
    fragOffset: pkt.fragOffset,
    moreFragments: pkt.moreFragments,
    tunnelDepth: pkt.tunnelDepth,
    transport: pkt.transport,
    srcPort: pkt.srcPort,
    dstPort: pkt.dstPort,
    tcpFlags: pkt.tcpFlags,
    seq: pkt.seq,
    ack: pkt.ack,
    window: pkt.window,
    tcpHeaderLength: pkt.tcpHeaderLength,
    tcpOptions: pkt.tcpOptions,
    mss: pkt.mss,
    windowScale: pkt.windowScale,
    tsVal: pkt.tsVal,
    tsEcr: pkt.tsEcr,
    icmpType: pkt.icmpType,
    icmpCode: pkt.icmpCode,
    payloadOffset: pkt.transport === 0 ? 0 : payloadStart - base,
    payloadLength: pkt.payloadLength,
    payloadWireLength: pkt.payloadWireLength,
    payloadHex: pkt.transport === 0 ? '' : pkt.data.toString('hex', payloadStart, payloadStart + Math.max(0, pkt.payloadLength)),
  };
}

export interface DissectResult {
  /** One snapshot per transport layer the sink received, outer first. */
  transports: PacketSnapshot[];
  /** The packet's state after the dissector stopped (for layers that reach no transport, like ARP). */
  final: PacketSnapshot;
  weirds: WeirdCounter;
  /** Decoder names that ran, with counts (Dissector.layerCounts). */
  layers: Record<string, number>;
}

export interface DissectOptions {
  /** LINKTYPE_* of the frame; Ethernet when absent. */
  linkType?: number;
  /** Length on the wire when the capture was cut by a snaplen; the frame's length when absent. */
  wirelen?: number;
}

/** Decodes one frame given as hex (see parseHex) with the default protocols. */
export function dissectHex(hex: string, options: DissectOptions = {}): DissectResult {
  return dissectFrame(parseHex(hex), options);
}

export function dissectFrame(frame: Buffer, options: DissectOptions = {}): DissectResult {
  const data = Buffer.alloc(GUARD_BEFORE + frame.length + GUARD_AFTER, GUARD_BYTE);
  frame.copy(data, GUARD_BEFORE);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const pkt = new Packet();
  const weirds = new WeirdCounter();
  const transports: PacketSnapshot[] = [];
  const dissector = new Dissector(defaultProtocols, weirds, (p) => transports.push(snapshot(p)));
  pkt.reset(data, view, GUARD_BEFORE, frame.length, options.wirelen ?? frame.length, 0, options.linkType ?? 1, 0);
  dissector.dissect(pkt);
  return { transports, final: snapshot(pkt), weirds, layers: dissector.layerCounts() };
}

/** An IPv4 address in dotted form as the number decoders store in src[0]/dst[0]. */
export function ipv4(text: string): number {
  const parts = text.split('.').map(Number);
  return ((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) >>> 0;
}

/** An IPv6 address (RFC 4291 text, a dotted IPv4 tail allowed) as the four big-endian words decoders store. */
export function ipv6(text: string): number[] {
  const dotted = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const v4 = ipv4(dotted[2]);
    text = `${dotted[1]}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const groups = tail === undefined ? headGroups : [...headGroups, ...Array(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups];
  const words: number[] = [];
  for (let i = 0; i < 8; i += 2) words.push(((parseInt(groups[i], 16) << 16) | parseInt(groups[i + 1], 16)) >>> 0);
  return words;
}

/** The weirds counted, as name → count (only non-zero). */
export function weirdMap(weirds: WeirdCounter): Record<string, number> {
  const out: Record<string, number> = {};
  for (const w of weirds.list()) out[w.name] = w.count;
  return out;
}

export interface CaptureFileRun {
  frames: number;
  weirds: WeirdCounter;
  dissector: Dissector;
  /** The capture reader's error (a damaged file), after the frames before it were decoded. */
  readError?: Error;
}

/** Decodes every frame of a capture file with the default protocols, calling `sink` per transport layer. */
export async function dissectCaptureFile(path: string, sink: (pkt: Packet) => void): Promise<CaptureFileRun> {
  const weirds = new WeirdCounter();
  const dissector = new Dissector(defaultProtocols, weirds, sink);
  const pkt = new Packet();
  let frames = 0;
  try {
    for await (const batch of openCaptureFile(path)) {
      const view = new DataView(batch.data.buffer, batch.data.byteOffset, batch.data.byteLength);
      for (let i = 0; i < batch.count; i++) {
        const m = i * META_STRIDE;
        const iface = batch.meta[m + META_IFACE];
        pkt.reset(batch.data, view, batch.meta[m + META_OFFSET], batch.meta[m + META_CAPLEN], batch.meta[m + META_WIRELEN], batch.ts[i], batch.linkTypes[iface], iface);
        dissector.dissect(pkt);
        frames++;
      }
    }
  } catch (err) {
    return { frames, weirds, dissector, readError: err as Error };
  }
  return { frames, weirds, dissector };
}
