/**
 * In-order delivery of TCP stream directions, for the app dispatch's TCP stream adapter
 * (analyze/tcp-stream-adapter.ts), which feeds the analyzers: analyzers never use it themselves.
 * A direction is a number (the adapter's flow index × 2, + 1 for the responder's side) and its state lives in
 * typed columns by that number, not in an object per flow: a flow lives for seconds, so an object of its own
 * would be copied by a scavenge or two and promoted — the collector's main cost at 300 kpps.
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
import { type ColumnResize, moveEntry } from '../flows/flow-table.js';

/** Where the directions deliver: one sink for all of them (no closure per direction). */
export interface StreamSink {
  /** In-order bytes of direction `dir`; `ts` is the capture time of the segment they came in (a kept segment keeps its own time). */
  streamData(dir: number, data: Buffer, offset: number, length: number, ts: number): void;
  /** `bytes` of direction `dir` were never seen: the next delivery starts that far past the last one's end. */
  streamGap(dir: number, bytes: number): void;
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

/** The stream has a position (a SYN or its first byte fixed it). */
const STARTED = 1;
/** A SYN fixed it: its first byte is the first the sender sent. */
const BY_SYN = 2;
/** The other side has acknowledged something (peerAck holds the highest). */
const HAVE_PEER_ACK = 4;

export class StreamDirections {
  /** Sequence number of the next byte to deliver, by direction. */
  private nextSeq = new Uint32Array(0);
  /** The highest acknowledgment the other side sent. */
  private peerAck = new Uint32Array(0);
  private flags = new Uint8Array(0);
  private pendingBytes = new Uint32Array(0);
  private maxPendingBytes = new Uint32Array(0);
  /**
   * Segments kept behind a hole, for the few directions that have any: keyed by direction (two a flow slot,
   * so never more keys than the flow table has room for), each direction's bytes within its maxPendingBytes,
   * and dropped when the hole fills, is given up, or the direction starts again.
   */
  private readonly pending = new Map<number, PendingSegment[]>();

  constructor(private readonly sink: StreamSink) {}

  /** Hands the columns to the flow table (FlowTable.ownColumns): two directions a flow. */
  columns(resize: ColumnResize): void {
    this.nextSeq = resize(this.nextSeq, 2);
    this.peerAck = resize(this.peerAck, 2);
    this.flags = resize(this.flags, 2);
    this.pendingBytes = resize(this.pendingBytes, 2);
    this.maxPendingBytes = resize(this.maxPendingBytes, 2);
  }

  /** A compaction moved a flow from slot `from` to `to` (its columns moved with it): its kept segments follow. */
  follow(from: number, to: number): void {
    moveEntry(this.pending, 2 * from, 2 * to);
    moveEntry(this.pending, 2 * from + 1, 2 * to + 1);
  }

  /** Direction `dir` begins a new stream: nothing started, nothing kept, nothing of the stream before. */
  start(dir: number, maxPendingBytes = MAX_PENDING_BYTES): void {
    this.nextSeq[dir] = 0;
    this.peerAck[dir] = 0;
    this.flags[dir] = 0;
    this.dropPending(dir);
    this.maxPendingBytes[dir] = maxPendingBytes;
  }

  /**
   * Forgets the segments kept behind holes without delivering them (the flow was released). Safe from inside
   * a delivery of this direction: the drain stops at the missing list.
   */
  dropPending(dir: number): void {
    this.pending.delete(dir);
    this.pendingBytes[dir] = 0;
  }

  /** The SYN's sequence number: data starts at isn + 1. */
  setInitialSequence(dir: number, isn: number): void {
    if ((this.flags[dir] & STARTED) !== 0) return;
    this.nextSeq[dir] = (isn + 1) >>> 0;
    this.flags[dir] |= STARTED | BY_SYN;
  }

  /**
   * True when the stream started at its SYN, so its first byte is the first the sender sent; false while
   * nothing started it, or when the capture joined it mid-way (its first byte may be inside a message).
   */
  startedAtSyn(dir: number): boolean {
    return (this.flags[dir] & BY_SYN) !== 0;
  }

  /** Sequence number of the next byte to deliver (meaningful once the stream has started). */
  nextSequence(dir: number): number {
    return this.nextSeq[dir];
  }

  /** True while segments are kept behind a hole. */
  hasPending(dir: number): boolean {
    return this.pending.has(dir);
  }

  push(dir: number, seq: number, data: Buffer, offset: number, length: number, ts = 0): void {
    if (length <= 0) return;
    if ((this.flags[dir] & STARTED) === 0) {
      this.nextSeq[dir] = seq >>> 0;
      this.flags[dir] |= STARTED;
    }
    const ahead = seqDiff(seq, this.nextSeq[dir]);
    if (ahead > 0) {
      this.keep(dir, seq, data, offset, length, ts);
      return;
    }
    // Overlaps what was delivered already: deliver only the new tail.
    const skip = -ahead;
    if (skip >= length) return;
    this.deliver(dir, data, offset + skip, length - skip, ts);
    if (this.pending.has(dir)) this.drainPending(dir);
  }

  /**
   * The other direction acknowledged everything before `ack`. A hole below it that is still open was lost to
   * the capture: skip it (up to the ACK, or to the first kept segment, whichever is nearer) and deliver what
   * follows. Only with segments kept: an ACK alone may simply have overtaken its data in the capture.
   */
  acked(dir: number, ack: number): void {
    if ((this.flags[dir] & HAVE_PEER_ACK) === 0 || seqDiff(ack, this.peerAck[dir]) > 0) {
      this.peerAck[dir] = ack >>> 0;
      this.flags[dir] |= HAVE_PEER_ACK;
    }
    const kept = this.pending.get(dir);
    if (kept === undefined || seqDiff(ack, this.nextSeq[dir]) <= 0) return;
    const first = earliest(kept);
    this.skipTo(dir, seqDiff(ack, first) < 0 ? ack >>> 0 : first);
  }

  /** Gives up on the hole before the earliest kept segment now. False when nothing is kept. */
  skipGap(dir: number): boolean {
    const kept = this.pending.get(dir);
    if (kept === undefined) return false;
    this.skipTo(dir, earliest(kept));
    return true;
  }

  /** End of the stream: delivers every kept segment, skipping (and reporting) the holes between them. */
  flush(dir: number): void {
    while (this.skipGap(dir)) {
      // each pass skips one hole and delivers what became contiguous behind it
    }
  }

  private deliver(dir: number, data: Buffer, offset: number, length: number, ts: number): void {
    this.nextSeq[dir] = (this.nextSeq[dir] + length) >>> 0;
    this.sink.streamData(dir, data, offset, length, ts);
  }

  private keep(dir: number, seq: number, data: Buffer, offset: number, length: number, ts: number): void {
    const segment = { seq: seq >>> 0, bytes: Buffer.from(data.subarray(offset, offset + length)), ts };
    const kept = this.pending.get(dir);
    if (kept === undefined) this.pending.set(dir, [segment]);
    else kept.push(segment);
    this.pendingBytes[dir] += length;
    if (this.pendingBytes[dir] > this.maxPendingBytes[dir]) this.skipGap(dir);
    // Acknowledged already (the ACK came before the bytes after the hole): the hole is lost.
    else if ((this.flags[dir] & HAVE_PEER_ACK) !== 0 && seqDiff(this.peerAck[dir], this.nextSeq[dir]) > 0) this.acked(dir, this.peerAck[dir]);
  }

  private skipTo(dir: number, seq: number): void {
    const bytes = seqDiff(seq, this.nextSeq[dir]);
    if (bytes <= 0) return;
    this.nextSeq[dir] = seq;
    this.sink.streamGap(dir, bytes);
    this.drainPending(dir);
  }

  /** Delivers kept segments while one starts at or before the next byte; the list goes once it is empty. */
  private drainPending(dir: number): void {
    for (let kept = this.pending.get(dir); kept !== undefined; kept = this.pending.get(dir)) {
      const i = firstDue(kept, this.nextSeq[dir]);
      if (i < 0) return;
      const seg = kept[i];
      kept.splice(i, 1);
      this.pendingBytes[dir] -= seg.bytes.length;
      if (kept.length === 0) this.pending.delete(dir);
      const skip = -seqDiff(seg.seq, this.nextSeq[dir]);
      if (skip < seg.bytes.length) this.deliver(dir, seg.bytes, skip, seg.bytes.length - skip, seg.ts);
    }
  }
}

/** The index of the first kept segment that starts at or before `next`; -1 when all are still ahead. */
function firstDue(kept: PendingSegment[], next: number): number {
  for (let i = 0; i < kept.length; i++) if (seqDiff(kept[i].seq, next) <= 0) return i;
  return -1;
}

function earliest(kept: PendingSegment[]): number {
  let first = kept[0].seq;
  for (let i = 1; i < kept.length; i++) if (seqDiff(kept[i].seq, first) < 0) first = kept[i].seq;
  return first;
}
