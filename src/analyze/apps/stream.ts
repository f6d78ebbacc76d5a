/**
 * In-order delivery of one direction of a TCP stream, for the app dispatch's TCP stream adapter
 * (analyze/tcp-stream-adapter.ts), which feeds the analyzers: analyzers never use it themselves.
 * Sequence arithmetic is modulo 2^32. In-order data is delivered straight from the packet buffer (no copy,
 * no allocation); only out-of-order segments are kept (copied), up to a byte budget. Never throws.
 *
 * A hole in front of the kept segments is given up on (a content gap, as Zeek calls it) when
 *  - the other side has acknowledged bytes in it (`acked`): the receiver had them, so the capture lost them;
 *  - the kept bytes exceed the budget (no ACK seen, e.g. a one-sided capture);
 *  - the stream ends (`flush`), so that what was kept behind the hole is still analysed.
 * The sink hears of each gap (`streamGap`, with its length) before the bytes after it, so a parser can
 * resynchronise instead of reading them as if they continued what came before.
 */
/** Where a direction's reassembler delivers; one sink may serve both directions of a flow (no closure per direction). */
export interface StreamSink {
  /** In-order bytes; `ts` is the capture time of the segment they came in (a kept segment keeps its own time). */
  streamData(fromOrig: boolean, data: Buffer, offset: number, length: number, ts: number): void;
  /** `bytes` of the stream were never seen: the next delivery starts that far past the last one's end. */
  streamGap(fromOrig: boolean, bytes: number): void;
}

/** Out-of-order bytes kept per direction before the oldest hole is given up on. */
export const MAX_PENDING_BYTES = 64 * 1024;

interface PendingSegment {
  seq: number;
  bytes: Buffer;
  ts: number;
}

/** a - b as a signed 32-bit distance. */
export function seqDiff(a: number, b: number): number {
  return ((a - b) | 0);
}

export class StreamReassembler {
  private nextSeq = 0;
  private started = false;
  private startedBySyn = false;
  private pending: PendingSegment[] = [];
  private pendingBytes = 0;
  /** The highest acknowledgment the other side sent, once it has sent one. */
  private peerAck = 0;
  private havePeerAck = false;
  /** Holes given up on, and the bytes they held. */
  gaps = 0;
  gapBytes = 0;

  constructor(
    private readonly sink: StreamSink,
    /** Which direction this is, as the sink hears it. */
    readonly fromOrig: boolean,
    private maxPendingBytes = MAX_PENDING_BYTES,
  ) {}

  /** Back to a new stream's state (nothing started, nothing kept), for the next flow of a reused owner. */
  reset(maxPendingBytes: number): void {
    this.nextSeq = 0;
    this.started = false;
    this.startedBySyn = false;
    this.dropPending();
    this.peerAck = 0;
    this.havePeerAck = false;
    this.gaps = 0;
    this.gapBytes = 0;
    this.maxPendingBytes = maxPendingBytes;
  }

  /**
   * Forgets the segments kept behind holes without delivering them (their flow was released), so that a kept
   * owner holds no copies. Safe from inside a delivery of this stream: the drain stops at the empty list.
   */
  dropPending(): void {
    if (this.pending.length > 0) this.pending = [];
    this.pendingBytes = 0;
  }

  /** The SYN's sequence number: data starts at isn + 1. */
  setInitialSequence(isn: number): void {
    if (this.started) return;
    this.nextSeq = (isn + 1) >>> 0;
    this.started = true;
    this.startedBySyn = true;
  }

  /**
   * True when the stream started at its SYN, so its first byte is the first the sender sent; false while
   * nothing started it, or when the capture joined it mid-way (its first byte may be inside a message).
   */
  get startedAtSyn(): boolean {
    return this.startedBySyn;
  }

  /** Sequence number of the next byte to deliver (meaningful once the stream has started). */
  get nextSequence(): number {
    return this.nextSeq;
  }

  /** True while segments are kept behind a hole. */
  get hasPending(): boolean {
    return this.pending.length > 0;
  }

  push(seq: number, data: Buffer, offset: number, length: number, ts = 0): void {
    if (length <= 0) return;
    if (!this.started) {
      this.nextSeq = seq >>> 0;
      this.started = true;
    }
    const ahead = seqDiff(seq, this.nextSeq);
    if (ahead > 0) {
      this.keep(seq, data, offset, length, ts);
      return;
    }
    // Overlaps what was delivered already: deliver only the new tail.
    const skip = -ahead;
    if (skip >= length) return;
    this.deliver(data, offset + skip, length - skip, ts);
    if (this.pending.length > 0) this.drainPending();
  }

  /**
   * The other direction acknowledged everything before `ack`. A hole below it that is still open was lost to
   * the capture: skip it (up to the ACK, or to the first kept segment, whichever is nearer) and deliver what
   * follows. Only with segments kept: an ACK alone may simply have overtaken its data in the capture.
   */
  acked(ack: number): void {
    if (!this.havePeerAck || seqDiff(ack, this.peerAck) > 0) {
      this.peerAck = ack >>> 0;
      this.havePeerAck = true;
    }
    if (this.pending.length === 0 || seqDiff(ack, this.nextSeq) <= 0) return;
    const first = this.earliestPending();
    this.skipTo(seqDiff(ack, first) < 0 ? ack >>> 0 : first);
  }

  /** Gives up on the hole before the earliest kept segment now. False when nothing is kept. */
  skipGap(): boolean {
    if (this.pending.length === 0) return false;
    this.skipTo(this.earliestPending());
    return true;
  }

  /** End of the stream: delivers every kept segment, skipping (and reporting) the holes between them. */
  flush(): void {
    while (this.skipGap()) {
      // each pass skips one hole and delivers what became contiguous behind it
    }
  }

  private deliver(data: Buffer, offset: number, length: number, ts: number): void {
    this.nextSeq = (this.nextSeq + length) >>> 0;
    this.sink.streamData(this.fromOrig, data, offset, length, ts);
  }

  private keep(seq: number, data: Buffer, offset: number, length: number, ts: number): void {
    this.pending.push({ seq: seq >>> 0, bytes: Buffer.from(data.subarray(offset, offset + length)), ts });
    this.pendingBytes += length;
    if (this.pendingBytes > this.maxPendingBytes) this.skipGap();
    // Acknowledged already (the ACK came before the bytes after the hole): the hole is lost.
    else if (this.havePeerAck && seqDiff(this.peerAck, this.nextSeq) > 0) this.acked(this.peerAck);
  }

  private earliestPending(): number {
    let first = this.pending[0].seq;
    for (let i = 1; i < this.pending.length; i++) if (seqDiff(this.pending[i].seq, first) < 0) first = this.pending[i].seq;
    return first;
  }

  private skipTo(seq: number): void {
    const bytes = seqDiff(seq, this.nextSeq);
    if (bytes <= 0) return;
    this.gaps++;
    this.gapBytes += bytes;
    this.nextSeq = seq;
    this.sink.streamGap(this.fromOrig, bytes);
    this.drainPending();
  }

  private drainPending(): void {
    let progressed = true;
    while (progressed && this.pending.length > 0) {
      progressed = false;
      for (let i = 0; i < this.pending.length; i++) {
        const seg = this.pending[i];
        const ahead = seqDiff(seg.seq, this.nextSeq);
        if (ahead > 0) continue;
        this.pending.splice(i, 1);
        this.pendingBytes -= seg.bytes.length;
        const skip = -ahead;
        if (skip < seg.bytes.length) this.deliver(seg.bytes, skip, seg.bytes.length - skip, seg.ts);
        progressed = true;
        break;
      }
    }
  }
}
