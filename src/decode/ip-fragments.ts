import type { Packet } from './packet.js';
import { defineWeird, type WeirdCounter } from './weirds.js';

const W_TIMEOUT = defineWeird('fragment_timeout');
const W_TOO_BIG = defineWeird('excessively_large_fragment');
const W_TABLE_FULL = defineWeird('fragment_table_full');
const W_INCONSISTENT = defineWeird('fragment_size_inconsistency');
const W_OVERLAP = defineWeird('fragment_overlap');

export interface FragmentLimits {
  /** Datagrams being put together at once; past it new ones are dropped (and counted). */
  maxDatagrams: number;
  /** Seconds (capture time) a datagram may take to complete. */
  timeout: number;
}

export const DEFAULT_FRAGMENT_LIMITS: FragmentLimits = { maxDatagrams: 4096, timeout: 30 };
const MAX_DATAGRAM = 65535;

interface Pending {
  firstTs: number;
  version: number;
  src: Uint32Array;
  dst: Uint32Array;
  proto: number;
  ttl: number;
  /** Data length, known once the last fragment (MF clear) is seen; -1 before. */
  total: number;
  parts: Array<{ offset: number; bytes: Buffer }>;
}

/**
 * IPv4 and IPv6 fragment reassembly, as tshark and Zeek do it, so a fragmented DNS answer or UDP datagram is
 * analysed whole and counted once. Fragments are rare: copying them and keying by a string is fine here.
 * The first fragment received wins where fragments overlap. The result is a fresh IP packet (a minimal
 * header and the whole payload) that the dissector decodes again from the IP layer.
 */
export class FragmentReassembler {
  private readonly pending = new Map<string, Pending>();
  private lastExpiry = Number.NEGATIVE_INFINITY;
  completed = 0;

  constructor(
    private readonly weirds: WeirdCounter,
    private readonly limits: FragmentLimits = DEFAULT_FRAGMENT_LIMITS,
  ) {}

  /** Takes the fragment now in `pkt`; returns the whole datagram when this fragment completes it. */
  add(pkt: Packet): Buffer | undefined {
    const now = pkt.ts;
    if (now - this.lastExpiry >= 1) this.expire(now);
    const key = `${pkt.ipVersion}/${pkt.src.join('.')}/${pkt.dst.join('.')}/${pkt.fragmentProto}/${pkt.fragmentId}`;
    let entry = this.pending.get(key);
    if (entry === undefined) {
      if (this.pending.size >= this.limits.maxDatagrams) {
        this.weirds.add(W_TABLE_FULL);
        return undefined;
      }
      entry = { firstTs: now, version: pkt.ipVersion, src: pkt.src.slice(), dst: pkt.dst.slice(), proto: pkt.fragmentProto, ttl: pkt.ttl, total: -1, parts: [] };
      this.pending.set(key, entry);
    }
    const dataEnd = Math.min(pkt.frameEnd, pkt.ipOffset + pkt.ipLength);
    const length = Math.max(0, dataEnd - pkt.fragmentDataOffset);
    const offset = pkt.fragOffset;
    if (offset + length > MAX_DATAGRAM) {
      this.weirds.add(W_TOO_BIG);
      this.pending.delete(key);
      return undefined;
    }
    if (!pkt.moreFragments) {
      if (entry.total >= 0 && entry.total !== offset + length) this.weirds.add(W_INCONSISTENT);
      entry.total = offset + length;
    }
    entry.parts.push({ offset, bytes: Buffer.from(pkt.data.subarray(pkt.fragmentDataOffset, pkt.fragmentDataOffset + length)) });
    if (entry.total < 0 || !this.covers(entry)) return undefined;
    this.pending.delete(key);
    this.completed++;
    return this.build(entry);
  }

  /** True when the parts cover [0, total) without a hole. */
  private covers(entry: Pending): boolean {
    const parts = [...entry.parts].sort((a, b) => a.offset - b.offset);
    let reached = 0;
    for (const part of parts) {
      if (part.offset > reached) return false;
      reached = Math.max(reached, part.offset + part.bytes.length);
    }
    return reached >= entry.total;
  }

  private build(entry: Pending): Buffer {
    const headerLength = entry.version === 4 ? 20 : 40;
    const out = Buffer.alloc(headerLength + entry.total);
    if (entry.version === 4) {
      out[0] = 0x45;
      out.writeUInt16BE(out.length, 2);
      out[8] = entry.ttl;
      out[9] = entry.proto;
      out.writeUInt32BE(entry.src[0], 12);
      out.writeUInt32BE(entry.dst[0], 16);
    } else {
      out[0] = 0x60;
      out.writeUInt16BE(entry.total, 4);
      out[6] = entry.proto;
      out[7] = entry.ttl;
      for (let i = 0; i < 4; i++) {
        out.writeUInt32BE(entry.src[i], 8 + 4 * i);
        out.writeUInt32BE(entry.dst[i], 24 + 4 * i);
      }
    }
    // Later arrivals first, so the first fragment received wins where they overlap.
    const filled = new Uint8Array(entry.total);
    let overlap = false;
    for (let i = entry.parts.length - 1; i >= 0; i--) {
      const part = entry.parts[i];
      const n = Math.min(part.bytes.length, entry.total - part.offset);
      if (n <= 0) continue;
      for (let j = part.offset; j < part.offset + n; j++) if (filled[j] === 1) overlap = true;
      filled.fill(1, part.offset, part.offset + n);
      part.bytes.copy(out, headerLength + part.offset, 0, n);
    }
    if (overlap) this.weirds.add(W_OVERLAP);
    return out;
  }

  /** Drops datagrams that did not complete in time. */
  expire(now: number): void {
    this.lastExpiry = now;
    for (const [key, entry] of this.pending) {
      if (now - entry.firstTs > this.limits.timeout) {
        this.pending.delete(key);
        this.weirds.add(W_TIMEOUT);
      }
    }
  }

  get inProgress(): number {
    return this.pending.size;
  }
}
