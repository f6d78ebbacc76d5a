/**
 * The last few seconds of traffic, for evidence pcaps: one big byte ring holding copies of frames and
 * typed-array slots for their time, lengths (cut to a snaplen) and link type. No object per packet: a batch
 * whose frames lie in order in its buffer is copied with one Buffer.copy (the bytes between frames, such as
 * pcap record headers, come along and are skipped by the slots), then a few array stores per frame; other
 * batches are copied frame by frame. The oldest frames are overwritten first. Fed with raw batches before
 * the engine sees them (`ring.addBatch(batch)`), so it holds what was captured.
 */
import { META_CAPLEN, META_IFACE, META_OFFSET, META_STRIDE, META_WIRELEN, type PacketBatch } from '../../capture/batch.js';

export interface PacketRingOptions {
  /** Bytes of frame data kept (default 64 MiB). */
  bytes?: number;
  /** Bytes kept of each frame (default 1600). */
  snaplen?: number;
  /** Frame slots (default bytes / 96: room for small frames too). */
  slots?: number;
}

export class PacketRing {
  readonly snaplen: number;
  private readonly data: Buffer;
  private readonly ts: Float64Array;
  private readonly offset: Uint32Array;
  private readonly caplen: Uint32Array;
  private readonly wirelen: Uint32Array;
  private readonly linkType: Int32Array;
  private readonly slots: number;
  /** Slot of the oldest frame, and how many frames are held. */
  private head = 0;
  private count = 0;
  /** Where the next frame's bytes go. */
  private write = 0;
  /** Frames stored since the start, and frames overwritten. */
  added = 0;
  overwritten = 0;

  constructor(options: PacketRingOptions = {}) {
    const bytes = Math.max(4096, Math.floor(options.bytes ?? 64 * 1024 * 1024));
    this.snaplen = Math.max(64, Math.floor(options.snaplen ?? 1600));
    this.slots = Math.max(16, Math.floor(options.slots ?? bytes / 96));
    this.data = Buffer.alloc(bytes);
    this.ts = new Float64Array(this.slots);
    this.offset = new Uint32Array(this.slots);
    this.caplen = new Uint32Array(this.slots);
    this.wirelen = new Uint32Array(this.slots);
    this.linkType = new Int32Array(this.slots);
  }

  get size(): number {
    return this.count;
  }

  /** Capture time of the oldest frame held, or NaN when empty. */
  get oldestTs(): number {
    return this.count === 0 ? Number.NaN : this.ts[this.head];
  }

  addBatch(batch: PacketBatch): void {
    const { data, meta, ts, linkTypes } = batch;
    const n = batch.count;
    if (n === 0) return;
    // One copy for the whole batch when its frames lie in order and the span is a small part of the ring.
    const first = meta[META_OFFSET];
    let end = first;
    let ordered = true;
    for (let i = 0; i < n; i++) {
      const m = i * META_STRIDE;
      const o = meta[m + META_OFFSET];
      if (o < end && i > 0) {
        ordered = false;
        break;
      }
      end = o + meta[m + META_CAPLEN];
    }
    if (!ordered || end - first > this.data.length / 4) {
      for (let i = 0; i < n; i++) {
        const m = i * META_STRIDE;
        this.add(data, meta[m + META_OFFSET], meta[m + META_CAPLEN], meta[m + META_WIRELEN], ts[i], linkTypes[meta[m + META_IFACE]] ?? -1);
      }
      return;
    }
    const base = this.reserve(end - first);
    data.copy(this.data, base, first, end);
    for (let i = 0; i < n; i++) {
      const m = i * META_STRIDE;
      this.slot(base + meta[m + META_OFFSET] - first, meta[m + META_CAPLEN], meta[m + META_WIRELEN], ts[i], linkTypes[meta[m + META_IFACE]] ?? -1);
    }
  }

  add(src: Buffer, start: number, caplen: number, wirelen: number, time: number, linkType: number): void {
    const len = caplen < this.snaplen ? caplen : this.snaplen;
    const at = this.reserve(len);
    src.copy(this.data, at, start, start + len);
    this.slot(at, caplen, wirelen, time, linkType);
  }

  /** Makes room for `len` bytes at the write position (wrapping, evicting what they overlap); returns it. */
  private reserve(len: number): number {
    if (this.write + len > this.data.length) {
      // Wrap: frames of the previous lap still ahead of the write position go first (they are the oldest).
      while (this.count > 0 && this.offset[this.head] >= this.write) this.evict();
      this.write = 0;
    }
    const end = this.write + len;
    while (this.count > 0 && this.offset[this.head] >= this.write && this.offset[this.head] < end) this.evict();
    const at = this.write;
    this.write = end;
    return at;
  }

  private slot(at: number, caplen: number, wirelen: number, time: number, linkType: number): void {
    if (this.count === this.slots) this.evict();
    const slot = (this.head + this.count) % this.slots;
    this.ts[slot] = time;
    this.offset[slot] = at;
    this.caplen[slot] = caplen < this.snaplen ? caplen : this.snaplen;
    this.wirelen[slot] = wirelen > caplen ? wirelen : caplen;
    this.linkType[slot] = linkType;
    this.count++;
    this.added++;
  }

  private evict(): void {
    this.head = (this.head + 1) % this.slots;
    this.count--;
    this.overwritten++;
  }

  /**
   * Calls `fn` for each frame with from ≤ ts ≤ to, oldest first. The frame is data[offset, offset+caplen),
   * valid during the call only. Stop early by returning false.
   */
  forEach(from: number, to: number, fn: (data: Buffer, offset: number, caplen: number, wirelen: number, ts: number, linkType: number) => boolean | void): void {
    for (let i = 0; i < this.count; i++) {
      const slot = (this.head + i) % this.slots;
      const t = this.ts[slot];
      if (t < from || t > to) continue;
      if (fn(this.data, this.offset[slot], this.caplen[slot], this.wirelen[slot], t, this.linkType[slot]) === false) return;
    }
  }
}
