/**
 * The last few seconds of traffic, for evidence pcaps: a byte ring holding copies of frames and typed-array
 * slots for their time, lengths (cut to a snaplen) and link type. No object per packet: a batch whose frames
 * lie in order in its buffer is copied with one Buffer.copy (the bytes between frames, such as pcap record
 * headers, come along and are skipped by the slots), then a few array stores per frame; other batches are
 * copied frame by frame. The oldest frames are overwritten first. Fed with raw batches before the engine sees
 * them (`ring.addBatch(batch)`), so it holds what was captured.
 *
 * The ring's bytes are chunks allocated when the write position first reaches them, and frames older than a
 * maximum age are let go (`expire`), with the chunks only they used: after a burst the agent gives the
 * memory back instead of holding a full ring of stale frames for good. The chunk being written stays; when a
 * trickle of frames is all it holds while a burst had written most of it, the frames move to a fresh chunk
 * (whose untouched pages cost nothing) and the old one goes.
 */
import { META_CAPLEN, META_IFACE, META_OFFSET, META_STRIDE, META_WIRELEN, type PacketBatch } from '../../capture/batch.js';

export interface PacketRingOptions {
  /** Bytes of frame data kept (default 64 MiB). */
  bytes?: number;
  /** Bytes kept of each frame (default 1600). */
  snaplen?: number;
  /** Frame slots (default bytes / 512: 131,072 in 64 MiB, over a second of a 100 kpps flood of small frames, while an evidence file holds 10,000 at most). */
  slots?: number;
  /** Bytes per chunk of the ring (default 4 MiB, or the whole ring when smaller): a live batch (2 MiB at most) fits in one, and what is held past the frames is at most a few. */
  chunkBytes?: number;
  /**
   * Gives the whole pages of bytes [from, to) of a chunk back to the system (the agent's: madvise through the
   * capture addon); returns the bytes given back. With it, chunks are never dropped: of those no frame uses,
   * the MAX_SPARES just ahead of the writer stay warm while frames come and the others' pages go back at once,
   * as do all of them when the writer goes quiet, instead of at the collection that frees a dropped chunk (a
   * quiet agent may not run one for minutes). The frame slots no frame uses give their pages back too once
   * the writer is quiet: a burst touched them all, and 131,072 slots are 3 MiB.
   */
  releasePages?: (view: ArrayBufferView, fromByte: number, toByte: number) => number;
}

/** Chunks kept for reuse: enough for a writer that passes two chunks between two expire() calls. */
const MAX_SPARES = 2;

export class PacketRing {
  readonly snaplen: number;
  private readonly chunkBytes: number;
  /** The ring's bytes, chunk by chunk; undefined until the write position reaches it, or after expire. */
  private readonly chunks: Array<Buffer | undefined>;
  /** chunks × chunkBytes: positions (offsets) run over [0, total). */
  private readonly total: number;
  /** By chunk: the span of it frames were written in since it was allocated, [writtenFrom, writtenTo) (its pages touched). */
  private readonly writtenFrom: Uint32Array;
  private readonly writtenTo: Uint32Array;
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
  /** Chunks the writer laps over: all of them, or fewer when the slots bound the ring (see moveOn). */
  private lapChunks: number;
  /**
   * Chunks let go, kept for the next ones needed while frames still come: dropped when the ring empties, or
   * when the writer stayed in one chunk since the last expire (a trickle needs none).
   */
  private readonly spares: Buffer[] = [];
  /** The writer moved on to another chunk since the last expire. */
  private movedOn = false;
  /** Frames stored since the start, and frames overwritten. */
  added = 0;
  overwritten = 0;
  /** Chunks allocated since the start (a reused spare is not one). */
  chunksAllocated = 0;
  /** Bytes of pages given back through releasePages. */
  bytesReleased = 0;
  /**
   * Frames stored plus frames let go when the free slots' pages were last given back: when neither moved
   * since, there are no more to give. (Frames let go count: after a burst and silence, the slots free up as
   * the frames age out, with none written.)
   */
  private changesAtSlotRelease = 0;
  private readonly releasePages: PacketRingOptions['releasePages'];

  constructor(options: PacketRingOptions = {}) {
    const bytes = Math.max(4096, Math.floor(options.bytes ?? 64 * 1024 * 1024));
    this.snaplen = Math.max(64, Math.floor(options.snaplen ?? 1600));
    this.slots = Math.max(16, Math.floor(options.slots ?? bytes / 512));
    this.chunkBytes = Math.min(bytes, Math.max(4096, Math.floor(options.chunkBytes ?? 4 * 1024 * 1024)));
    this.releasePages = options.releasePages;
    // A frame never straddles two chunks.
    this.snaplen = Math.min(this.snaplen, this.chunkBytes);
    this.chunks = new Array<Buffer | undefined>(Math.ceil(bytes / this.chunkBytes)).fill(undefined);
    this.total = this.chunks.length * this.chunkBytes;
    this.lapChunks = this.chunks.length;
    this.writtenFrom = new Uint32Array(this.chunks.length);
    this.writtenTo = new Uint32Array(this.chunks.length);
    this.ts = new Float64Array(this.slots);
    this.offset = new Uint32Array(this.slots);
    this.caplen = new Uint32Array(this.slots);
    this.wirelen = new Uint32Array(this.slots);
    this.linkType = new Int32Array(this.slots);
  }

  get size(): number {
    return this.count;
  }

  /** Bytes of chunks held now, the spares included (what the ring costs in memory). */
  get heldBytes(): number {
    return this.chunks.reduce((n, c) => n + (c === undefined ? 0 : c.length), this.spares.length * this.chunkBytes);
  }

  /** Bytes written into the chunks held, since each was allocated: what the ring can hold resident. */
  get writtenBytes(): number {
    let n = 0;
    for (let i = 0; i < this.chunks.length; i++) if (this.chunks[i] !== undefined) n += this.writtenTo[i] - this.writtenFrom[i];
    return n;
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
    if (!ordered || end - first > this.chunkBytes) {
      for (let i = 0; i < n; i++) {
        const m = i * META_STRIDE;
        this.add(data, meta[m + META_OFFSET], meta[m + META_CAPLEN], meta[m + META_WIRELEN], ts[i], linkTypes[meta[m + META_IFACE]] ?? -1);
      }
      return;
    }
    const base = this.reserve(end - first);
    data.copy(this.chunkAt(base), base % this.chunkBytes, first, end);
    if (n > this.slots) {
      for (let i = 0; i < n; i++) {
        const m = i * META_STRIDE;
        this.slot(base + meta[m + META_OFFSET] - first, meta[m + META_CAPLEN], meta[m + META_WIRELEN], ts[i], linkTypes[meta[m + META_IFACE]] ?? -1);
      }
      return;
    }
    this.slotBatch(batch, base - first);
  }

  /**
   * The slots of a batch copied whole, its frame at batch offset o now at position o + shift: n slots in a row
   * after the newest, the oldest frames evicted first when the slots are full (n ≤ slots). As `slot` frame by
   * frame, without a check and a division per frame: a flood of small frames is a slot a few dozen bytes.
   */
  private slotBatch(batch: PacketBatch, shift: number): void {
    const { meta, ts, linkTypes } = batch;
    const n = batch.count;
    const over = this.count + n - this.slots;
    if (over > 0) {
      this.head = (this.head + over) % this.slots;
      this.count -= over;
      this.overwritten += over;
    }
    const snaplen = this.snaplen;
    let slot = (this.head + this.count) % this.slots;
    for (let i = 0; i < n; i++) {
      const m = i * META_STRIDE;
      const caplen = meta[m + META_CAPLEN];
      const wirelen = meta[m + META_WIRELEN];
      this.ts[slot] = ts[i];
      this.offset[slot] = meta[m + META_OFFSET] + shift;
      this.caplen[slot] = caplen < snaplen ? caplen : snaplen;
      this.wirelen[slot] = wirelen > caplen ? wirelen : caplen;
      this.linkType[slot] = linkTypes[meta[m + META_IFACE]] ?? -1;
      if (++slot === this.slots) slot = 0;
    }
    this.count += n;
    this.added += n;
  }

  add(src: Buffer, start: number, caplen: number, wirelen: number, time: number, linkType: number): void {
    const len = caplen < this.snaplen ? caplen : this.snaplen;
    const at = this.reserve(len);
    src.copy(this.chunkAt(at), at % this.chunkBytes, start, start + len);
    this.slot(at, caplen, wirelen, time, linkType);
  }

  /**
   * Makes room for `len` bytes (at most a chunk) at the write position, which moves to the next chunk when
   * they would straddle two, wrapping after the last, and evicts what they overlap; returns the position.
   */
  private reserve(len: number): number {
    const chunkEnd = (Math.floor(this.write / this.chunkBytes) + 1) * this.chunkBytes;
    if (this.write + len > chunkEnd) {
      // Frames of the previous lap between here and the next chunk are the oldest: they go first.
      this.evictFrom(this.write, chunkEnd);
      this.moveOn(chunkEnd);
    }
    const end = this.write + len;
    this.evictFrom(this.write, end);
    const at = this.write;
    this.write = end;
    // A frame that ends its chunk takes the writer on, as one that would not fit does.
    if (end % this.chunkBytes === 0) this.moveOn(end);
    const chunk = Math.floor(at / this.chunkBytes);
    const endInChunk = end - chunk * this.chunkBytes;
    if (this.writtenTo[chunk] === 0) this.writtenFrom[chunk] = endInChunk - len;
    else if (endInChunk - len < this.writtenFrom[chunk]) this.writtenFrom[chunk] = endInChunk - len;
    if (endInChunk > this.writtenTo[chunk]) this.writtenTo[chunk] = endInChunk;
    return at;
  }

  /**
   * Takes the writer to the next chunk, `chunkEnd` onwards, or back to the first when no frame held lies in
   * the first chunk nor ahead of the writer: the frame slots, not the bytes, bound the ring then (small
   * frames), and wrapping early laps over the chunks the held frames need and a spare or two, whose pages
   * are warm, instead of over the whole ring, whose pages the kernel would have to fault in afresh each lap.
   */
  private moveOn(chunkEnd: number): void {
    const oldestAt = this.offset[this.head];
    const firstChunkFree = this.count === 0 || (oldestAt >= this.chunkBytes && oldestAt < this.write);
    if (chunkEnd === this.total || firstChunkFree) {
      this.lapChunks = chunkEnd / this.chunkBytes;
      this.write = 0;
    } else {
      this.write = chunkEnd;
      if (chunkEnd / this.chunkBytes >= this.lapChunks) this.lapChunks = chunkEnd / this.chunkBytes + 1;
    }
    this.movedOn = true;
  }

  /** Evicts the oldest frames while they lie in [from, to). */
  private evictFrom(from: number, to: number): void {
    while (this.count > 0 && this.offset[this.head] >= from && this.offset[this.head] < to) this.evict();
  }

  /** The chunk holding position `at`, allocated on first use (a spare, if there is one). */
  private chunkAt(at: number): Buffer {
    const i = Math.floor(at / this.chunkBytes);
    let chunk = this.chunks[i];
    if (chunk === undefined) {
      chunk = this.spares.pop();
      if (chunk === undefined) {
        chunk = Buffer.allocUnsafeSlow(this.chunkBytes);
        this.chunksAllocated++;
      } else {
        this.writtenFrom[i] = 0; // a spare's pages were written in its last place
        this.writtenTo[i] = this.chunkBytes;
      }
      this.chunks[i] = chunk;
    }
    return chunk;
  }

  /**
   * Lets go of chunk i; while frames come, up to MAX_SPARES are kept for the next chunks the writer reaches.
   * With releasePages the chunk stays: warm when kept as a spare would be, else its pages given back.
   */
  private release(i: number, keepSpare: boolean): void {
    const chunk = this.chunks[i];
    if (chunk === undefined) return;
    if (this.releasePages !== undefined) {
      if (!keepSpare) this.givePagesBack(i, this.writtenFrom[i], this.writtenTo[i]);
      return;
    }
    this.chunks[i] = undefined;
    this.writtenFrom[i] = 0;
    this.writtenTo[i] = 0;
    if (keepSpare && this.spares.length < MAX_SPARES) this.spares.push(chunk);
  }

  /**
   * Lets go of frames older than `before` (capture time) and of every chunk no frame held uses any more
   * (the one being written too, once no frame is held, or moves it to a fresh chunk when it holds a trickle
   * behind a burst: refreshIfStale). Call about once a second.
   */
  expire(before: number): void {
    while (this.count > 0 && this.ts[this.head] < before) this.evict();
    const quiet = !this.movedOn;
    if (quiet) this.spares.length = 0;
    this.movedOn = false;
    if (quiet) this.releaseFreeSlots();
    const writing = Math.floor(this.write / this.chunkBytes);
    if (this.count === 0) {
      for (let i = 0; i < this.chunks.length; i++) this.release(i, false);
      this.spares.length = 0;
      return;
    }
    // Frames held run from the oldest's chunk to the writing one, wrapping round (all of it when the oldest
    // lies ahead of the write position in the writing chunk).
    const oldest = Math.floor(this.offset[this.head] / this.chunkBytes);
    if (oldest === writing && this.offset[this.head] >= this.write) return;
    if (oldest === writing) this.trimWriting(writing, this.offset[this.head], this.write, quiet);
    // Held frames lie in the chunks of the lap, from the oldest's to the writing one, wrapping round.
    const lap = this.lapChunks;
    const span = (writing - oldest + lap) % lap;
    // When the frame slots, not the bytes, bound the ring (a flood of small frames), the writer reaches a
    // new chunk every second or so: a spare saves allocating a chunk each time and leaving the old to the GC.
    // With releasePages, the MAX_SPARES chunks just ahead of the writer in its lap stay warm and the rest
    // give their pages back: a flood holds the frames' span and two chunks, not all of the ring.
    for (let k = span + 1; k < lap; k++) {
      const i = (oldest + k) % lap;
      this.release(i, !quiet && (this.releasePages === undefined || (i - writing + lap) % lap <= MAX_SPARES));
    }
    for (let i = lap; i < this.chunks.length; i++) this.release(i, false);
  }

  /** The pages of the slots no frame holds, [head + count, head) round the ring, back to the system. */
  private releaseFreeSlots(): void {
    if (this.releasePages === undefined || this.added + this.overwritten === this.changesAtSlotRelease) return;
    this.changesAtSlotRelease = this.added + this.overwritten;
    const from = (this.head + this.count) % this.slots;
    const to = from + this.slots - this.count;
    this.releaseSlots(from, Math.min(to, this.slots));
    if (to > this.slots) this.releaseSlots(0, to - this.slots);
  }

  private releaseSlots(from: number, to: number): void {
    for (const column of [this.ts, this.offset, this.caplen, this.wirelen, this.linkType]) {
      this.bytesReleased += this.releasePages!(column, from * column.BYTES_PER_ELEMENT, to * column.BYTES_PER_ELEMENT);
    }
  }

  /** Every frame held lies in chunk i, at positions [from, to): what else was written in it may go. */
  private trimWriting(i: number, from: number, to: number, quiet: boolean): void {
    if (this.releasePages === undefined) {
      this.refreshIfStale(i, from, to);
      return;
    }
    if (!quiet) return;
    const base = i * this.chunkBytes;
    const writtenTo = this.writtenTo[i];
    this.givePagesBack(i, this.writtenFrom[i], from - base);
    this.givePagesBack(i, to - base, writtenTo);
    this.writtenFrom[i] = from - base;
    this.writtenTo[i] = to - base;
  }

  /** Bytes [from, to) of chunk i back to the system (whole pages: releasePages rounds inward). */
  private givePagesBack(i: number, from: number, to: number): void {
    if (to > from) this.bytesReleased += this.releasePages!(this.chunks[i]!, from, to);
    if (from === this.writtenFrom[i] && to === this.writtenTo[i]) this.writtenFrom[i] = this.writtenTo[i] = 0;
  }

  /**
   * Every frame held lies in chunk i, at positions [from, to): when half a chunk or more of what was written
   * in it is stale (a burst filled it, a trickle follows), the frames move to a fresh chunk at the same places
   * and the old chunk goes, so its pages are given back once it is collected.
   */
  private refreshIfStale(i: number, from: number, to: number): void {
    const held = to - from;
    if (this.writtenTo[i] - this.writtenFrom[i] - held < this.chunkBytes / 2) return;
    const old = this.chunks[i]!;
    const fresh = Buffer.allocUnsafeSlow(this.chunkBytes);
    this.chunksAllocated++;
    const start = from - i * this.chunkBytes;
    old.copy(fresh, start, start, start + held);
    this.chunks[i] = fresh;
    this.writtenFrom[i] = start;
    this.writtenTo[i] = start + held;
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
   * Calls `fn` for each frame with from ≤ ts ≤ to, oldest first. The frame is data[offset, offset+caplen)
   * (data: the chunk holding it), valid during the call only. Stop early by returning false.
   */
  forEach(from: number, to: number, fn: (data: Buffer, offset: number, caplen: number, wirelen: number, ts: number, linkType: number) => boolean | void): void {
    for (let i = 0; i < this.count; i++) {
      const slot = (this.head + i) % this.slots;
      const t = this.ts[slot];
      if (t < from || t > to) continue;
      const at = this.offset[slot];
      if (fn(this.chunkAt(at), at % this.chunkBytes, this.caplen[slot], this.wirelen[slot], t, this.linkType[slot]) === false) return;
    }
  }
}
