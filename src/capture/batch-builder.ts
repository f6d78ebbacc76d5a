/**
 * Collects the frames of one chunk into reusable typed arrays, and the contract between the chunk loop
 * (capture-file.ts) and the format parsers (pcap-reader.ts, pcapng-reader.ts).
 */
import { META_STRIDE, type PacketBatch } from './batch.js';
import type { CaptureFileError } from './capture-errors.js';

const INITIAL_CAPACITY = 4096;

/** Grows by doubling and is reused for every batch, so steady-state reading allocates no typed arrays. */
export class BatchBuilder {
  meta = new Uint32Array(INITIAL_CAPACITY * META_STRIDE);
  ts = new Float64Array(INITIAL_CAPACITY);
  count = 0;
  private capacity = INITIAL_CAPACITY;

  reset(): void {
    this.count = 0;
  }

  push(offset: number, caplen: number, wirelen: number, iface: number, ts: number): void {
    if (this.count === this.capacity) this.grow();
    const m = this.count * META_STRIDE;
    const meta = this.meta;
    meta[m] = offset;
    meta[m + 1] = caplen;
    meta[m + 2] = wirelen;
    meta[m + 3] = iface;
    this.ts[this.count] = ts;
    this.count++;
  }

  /** One small object per batch (not per packet); its arrays are shared with the next batch. */
  toBatch(data: Buffer, linkTypes: readonly number[], interfaceNames?: readonly string[]): PacketBatch {
    return { data, count: this.count, meta: this.meta, ts: this.ts, linkTypes, interfaceNames };
  }

  private grow(): void {
    this.capacity *= 2;
    const meta = new Uint32Array(this.capacity * META_STRIDE);
    meta.set(this.meta);
    this.meta = meta;
    const ts = new Float64Array(this.capacity);
    ts.set(this.ts);
    this.ts = ts;
  }
}

/**
 * A format parser: consumes whole records from a window of the chunk buffer. It never throws on damage; it
 * stops, keeps the error in `error`, and the chunk loop yields the frames parsed so far before throwing it.
 */
export interface RecordParser {
  /**
   * Parses records in buf[start, end) (fileOffset = the file offset of buf[0]) into `out`, with offsets into
   * `buf`. Returns the offset of the first unconsumed byte. When it stops short of `end` without an error,
   * `needed` is the byte count the next record needs from that offset.
   */
  parse(buf: Buffer, view: DataView, start: number, end: number, fileOffset: number, out: BatchBuilder): number;
  /** Bytes needed (from the returned offset) to make progress; meaningful after parse stopped short. */
  readonly needed: number;
  /** Set when the file is damaged at the returned offset; nothing more will be parsed. */
  readonly error: CaptureFileError | undefined;
  /** 'pcap usec LE', 'pcapng LE', 'pcapng MIXED'...; undefined until the file header is parsed. */
  readonly detail: string | undefined;
  /** Link type per global interface index. */
  readonly linkTypes: readonly number[];
  readonly interfaceNames: readonly string[] | undefined;
  /** Describes a file that ends at `offset` with `have` bytes of a record that needs `needed`. */
  truncated(offset: number, have: number): CaptureFileError;
}
