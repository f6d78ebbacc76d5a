/**
 * Loopy for scripts, the way pypcap users work: open a source (a live interface or a capture file, with a
 * tcpdump-syntax filter), then iterate it as decoded packet summaries or as engine records:
 *
 *   for await (const rec of records(openFile('x.pcap'))) if (rec.type === 'dns') console.log(rec.query);
 *   for await (const pkt of packets(openLive({ interfaces: ['eth0'], filter: 'tcp port 443' }))) ...
 *
 * Convenience over speed: a plain object per packet is fine here; the agent and `loopy read` use the
 * engine directly.
 */
import { META_STRIDE, type PacketBatch } from '../capture/batch.js';
import { openCaptureFile, type CaptureFile, type CaptureFileInfo } from '../capture/capture-file.js';
import { META_CAPLEN, META_IFACE, META_OFFSET, META_WIRELEN } from '../capture/batch.js';
import { Dissector } from '../decode/dissector.js';
import { IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_TCP, IPPROTO_UDP, Packet } from '../decode/packet.js';
import { defaultProtocols } from '../decode/protocols/index.js';
import type { ProtocolRegistration } from '../decode/registry.js';
import { WeirdCounter } from '../decode/weirds.js';
import { BatchFilter } from '../capture/bpf-filter.js';
import type { AppRegistration } from './apps/types.js';
import { Pipeline } from './pipeline.js';
import type { FlowTimeouts } from './flows/connections.js';
import { formatIPv4, formatIPv6 } from './format-address.js';
import type { LoopyRecord } from './records.js';

export { openLiveCapture as openLive, LiveCaptureError, type LiveCapture, type LiveCaptureOptions, type InterfaceStats } from '../capture/live.js';

export interface OpenFileOptions {
  /** tcpdump-syntax filter, run by libpcap (needs the capture addon): keeps what `tcpdump -r FILE EXPR` keeps. */
  filter?: string;
}

/**
 * Opens a pcap or pcapng file ('-' for stdin) lazily. Batches are valid until the next one is asked for.
 * A bad filter throws (err.code LOOPY_BAD_FILTER) when iteration starts.
 */
export function openFile(path: string, options: OpenFileOptions = {}): CaptureFile {
  const file = openCaptureFile(path);
  if (options.filter === undefined) return file;
  const expression = options.filter;
  return {
    path: file.path,
    info: (): CaptureFileInfo | undefined => file.info(),
    bytesRead: () => file.bytesRead(),
    [Symbol.asyncIterator]: () => filtered(file, expression),
  };
}

async function* filtered(file: CaptureFile, expression: string): AsyncGenerator<PacketBatch> {
  // Compiled for the file's first link type, as tcpdump does; pcap files written big-endian say so.
  const filter = new BatchFilter(expression, () => ({ bigEndian: file.info()?.bigEndian }));
  for await (const batch of file) {
    const out = keepOnly(batch, filter.matches(batch)!);
    if (out.count > 0) yield out;
  }
}

/** The batch with only the kept frames: same data buffer, fresh meta and ts. */
function keepOnly(batch: PacketBatch, keep: Uint8Array): PacketBatch {
  let count = 0;
  for (let i = 0; i < batch.count; i++) if (keep[i] !== 0) count++;
  if (count === batch.count) return batch;
  const meta = new Uint32Array(count * META_STRIDE);
  const ts = new Float64Array(count);
  for (let i = 0, k = 0; i < batch.count; i++) {
    if (keep[i] === 0) continue;
    meta.set(batch.meta.subarray(i * META_STRIDE, (i + 1) * META_STRIDE), k * META_STRIDE);
    ts[k++] = batch.ts[i];
  }
  return { ...batch, count, meta, ts };
}

/** One decoded packet, as plain values. Addresses and ports are the innermost ones (inside any tunnel). */
export interface PacketSummary {
  /** Capture time, seconds since the epoch. */
  ts: number;
  /** Length on the wire, and the bytes captured of it. */
  len: number;
  caplen: number;
  /** Interface index in the source (live: the order of `interfaces`). */
  iface: number;
  /** 'tcp', 'udp', 'icmp', 'icmpv6'; 'ipv4'/'ipv6' for other IP payloads (and later fragments); 'arp'; else 'other'. */
  proto: string;
  /** IP addresses, when the packet has an IP header. */
  src?: string;
  dst?: string;
  /** IP protocol number of the innermost IP header. */
  ip_proto?: number;
  sport?: number;
  dport?: number;
  /** TCP flags as tcpdump writes them: "S", "S.", "P.", "F.", "R", "none"... and their bits (FIN = 1 … CWR = 128). */
  flags?: string;
  tcp_flags?: number;
  icmp_type?: number;
  icmp_code?: number;
  /** Outer 802.1Q/802.1ad tag, when tagged. */
  vlan?: number;
}

export interface PacketsOptions {
  /** Decoders to use (default: every protocol Loopy knows). */
  protocols?: readonly ProtocolRegistration[];
}

/** Decodes every frame of the source into a PacketSummary. */
export async function* packets(source: AsyncIterable<PacketBatch>, options: PacketsOptions = {}): AsyncGenerator<PacketSummary> {
  const pkt = new Packet();
  const dissector = new Dissector(options.protocols ?? defaultProtocols, new WeirdCounter(), () => {});
  for await (const batch of source) {
    const view = new DataView(batch.data.buffer, batch.data.byteOffset, batch.data.byteLength);
    // Summaries first, then yield: the batch may be reused once we ask the source for the next one.
    const out: PacketSummary[] = [];
    for (let i = 0; i < batch.count; i++) {
      const m = i * META_STRIDE;
      const iface = batch.meta[m + META_IFACE];
      pkt.reset(batch.data, view, batch.meta[m + META_OFFSET], batch.meta[m + META_CAPLEN], batch.meta[m + META_WIRELEN], batch.ts[i], batch.linkTypes[iface] ?? -1, iface);
      dissector.dissect(pkt);
      out.push(summarize(pkt));
    }
    yield* out;
  }
}

function summarize(pkt: Packet): PacketSummary {
  const s: PacketSummary = { ts: pkt.ts, len: pkt.wirelen, caplen: pkt.caplen, iface: pkt.iface, proto: 'other' };
  if (pkt.vlan !== 0) s.vlan = pkt.vlan;
  if (pkt.ipVersion === 4 || pkt.ipVersion === 6) {
    s.src = pkt.ipVersion === 4 ? formatIPv4(pkt.src[0]) : formatIPv6(pkt.src);
    s.dst = pkt.ipVersion === 4 ? formatIPv4(pkt.dst[0]) : formatIPv6(pkt.dst);
    s.ip_proto = pkt.ipProto;
    s.proto = pkt.ipVersion === 4 ? 'ipv4' : 'ipv6';
  } else if (pkt.arpOffset >= 0) {
    s.proto = 'arp';
  }
  switch (pkt.transport) {
    case IPPROTO_TCP:
      s.proto = 'tcp';
      s.sport = pkt.srcPort;
      s.dport = pkt.dstPort;
      s.flags = tcpdumpFlags(pkt.tcpFlags);
      s.tcp_flags = pkt.tcpFlags;
      break;
    case IPPROTO_UDP:
      s.proto = 'udp';
      s.sport = pkt.srcPort;
      s.dport = pkt.dstPort;
      break;
    case IPPROTO_ICMP:
    case IPPROTO_ICMPV6:
      s.proto = pkt.transport === IPPROTO_ICMP ? 'icmp' : 'icmpv6';
      s.icmp_type = pkt.icmpType;
      s.icmp_code = pkt.icmpCode;
      break;
  }
  return s;
}

/** tcpdump's letters in tcpdump's order (print-tcp.c tcp_flag_values): F S R P . U E W; "none" for no flag. */
const FLAG_LETTERS = [[0x01, 'F'], [0x02, 'S'], [0x04, 'R'], [0x08, 'P'], [0x10, '.'], [0x20, 'U'], [0x40, 'E'], [0x80, 'W']] as const;

export function tcpdumpFlags(bits: number): string {
  let out = '';
  for (const [bit, letter] of FLAG_LETTERS) if ((bits & bit) !== 0) out += letter;
  return out === '' ? 'none' : out;
}

export interface RecordsOptions {
  protocols?: readonly ProtocolRegistration[];
  apps?: readonly AppRegistration[];
  maxFlows?: number;
  timeouts?: Partial<FlowTimeouts>;
}

/**
 * Runs the pipeline over the source and yields its records (conn, dns, tls, http...) as they come out, then,
 * when the source ends, the flows still open, the weirds and the summary. Flows end by capture time, so on
 * a live source records come as packets arrive. Stopping early (break) skips the final records.
 */
export async function* records(source: AsyncIterable<PacketBatch>, options: RecordsOptions = {}): AsyncGenerator<LoopyRecord> {
  const queue: LoopyRecord[] = [];
  const pipeline = new Pipeline(options).observe({ onRecord: (r) => queue.push(r) });
  for await (const batch of source) {
    pipeline.process(batch);
    if (queue.length > 0) yield* queue.splice(0);
  }
  pipeline.finish();
  yield* queue.splice(0);
}
