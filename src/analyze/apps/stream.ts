/**
 * In-order delivery of one direction of a TCP stream for application analyzers.
 * Sequence arithmetic is modulo 2^32. In-order data is delivered straight from the packet buffer (no copy);
 * out-of-order segments are kept (copied) up to a byte budget, and a gap that never fills is skipped when
 * the budget is exceeded, so a lost segment costs the analyzer one message, not the rest of the stream.
 */
export type StreamConsumer = (data: Buffer, offset: number, length: number) => void;

const MAX_PENDING_BYTES = 64 * 1024;

interface PendingSegment {
  seq: number;
  bytes: Buffer;
}

/** a - b as a signed 32-bit distance. */
export function seqDiff(a: number, b: number): number {
  return ((a - b) | 0);
}

export class StreamReassembler {
  private nextSeq = 0;
  private started = false;
  private pending: PendingSegment[] = [];
  private pendingBytes = 0;
  /** Bytes skipped over because a gap never filled. */
  gapBytes = 0;

  constructor(private readonly consume: StreamConsumer) {}

  /** The SYN's sequence number: data starts at isn + 1. */
  setInitialSequence(isn: number): void {
    if (this.started) return;
    this.nextSeq = (isn + 1) >>> 0;
    this.started = true;
  }

  push(seq: number, data: Buffer, offset: number, length: number): void {
    if (length <= 0) return;
    if (!this.started) {
      this.nextSeq = seq >>> 0;
      this.started = true;
    }
    const ahead = seqDiff(seq, this.nextSeq);
    if (ahead > 0) {
      this.keep(seq, data, offset, length);
      return;
    }
    // Overlaps what was delivered already: deliver only the new tail.
    const skip = -ahead;
    if (skip >= length) return;
    this.deliver(data, offset + skip, length - skip);
    this.drainPending();
  }

  private deliver(data: Buffer, offset: number, length: number): void {
    this.nextSeq = (this.nextSeq + length) >>> 0;
    this.consume(data, offset, length);
  }

  private keep(seq: number, data: Buffer, offset: number, length: number): void {
    this.pending.push({ seq: seq >>> 0, bytes: Buffer.from(data.subarray(offset, offset + length)) });
    this.pendingBytes += length;
    if (this.pendingBytes > MAX_PENDING_BYTES) {
      // Give up on the gap: jump to the earliest kept segment.
      this.pending.sort((a, b) => seqDiff(a.seq, b.seq));
      const first = this.pending[0];
      this.gapBytes += seqDiff(first.seq, this.nextSeq);
      this.nextSeq = first.seq;
      this.drainPending();
    }
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
        if (skip < seg.bytes.length) this.deliver(seg.bytes, skip, seg.bytes.length - skip);
        progressed = true;
        break;
      }
    }
  }
}
