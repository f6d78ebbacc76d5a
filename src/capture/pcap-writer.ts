/**
 * Writes classic pcap files (little-endian, microsecond or nanosecond timestamps, any link type).
 * Used by the traffic generator and, later, for the evidence pcap around each alert, so it knows nothing
 * about what the frames contain.
 *
 * Buffering is bounded: records are packed into one fixed-size chunk; a full chunk is handed to the sink
 * and `writePacket` returns false when the sink asks us to wait (Node's backpressure), like
 * `Writable.write`. Callers that produce a lot `await writer.drain()` then; memory stays at a few chunks.
 */
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';

export const LINKTYPE_ETHERNET = 1;
export const PCAP_MAGIC_MICROS = 0xa1b2c3d4;
export const PCAP_MAGIC_NANOS = 0xa1b23c4d;
export const PCAP_FILE_HEADER_LENGTH = 24;
export const PCAP_RECORD_HEADER_LENGTH = 16;
const DEFAULT_SNAPLEN = 262144;
const DEFAULT_CHUNK = 1 << 20;

export interface PcapWriterOptions {
  /** LINKTYPE_* of every frame (default 1, Ethernet). */
  linkType?: number;
  /** Frames longer than this are cut to it (caplen), keeping their wire length (default 262144). */
  snaplen?: number;
  /** Nanosecond timestamps (magic a1b23c4d) instead of microseconds. */
  nanoseconds?: boolean;
  /** Bytes gathered before one write to the sink (default 1 MiB). */
  chunkSize?: number;
  /** When writing to a Writable the caller passed in: leave it open on close() (default false: end it). */
  keepOpen?: boolean;
}

/** A stable error code for program faults (see PRODUCT.md, "Habits"). */
export class PcapWriterError extends Error {
  constructor(readonly code: 'PCAP_WRITER_CLOSED' | 'PCAP_WRITER_BAD_TIMESTAMP', message: string) {
    super(message);
    this.name = 'PcapWriterError';
  }
}

export function pcapFileHeader(linkType: number, snaplen = DEFAULT_SNAPLEN, nanoseconds = false): Buffer {
  const h = Buffer.alloc(PCAP_FILE_HEADER_LENGTH);
  writeFileHeader(h, linkType, snaplen, nanoseconds);
  return h;
}

function writeFileHeader(h: Buffer, linkType: number, snaplen: number, nanoseconds: boolean): void {
  h.writeUInt32LE(nanoseconds ? PCAP_MAGIC_NANOS : PCAP_MAGIC_MICROS, 0);
  h.writeUInt16LE(2, 4); // version 2.4
  h.writeUInt16LE(4, 6);
  h.writeInt32LE(0, 8); // thiszone: timestamps are UTC
  h.writeUInt32LE(0, 12); // sigfigs
  h.writeUInt32LE(snaplen >>> 0, 16);
  h.writeUInt32LE(linkType >>> 0, 20);
}

/** The last whole second a classic pcap's unsigned 32-bit field holds (2106-02-07). */
const PCAP_LAST_SECOND = 0xffffffff;

/** True when a record header can hold the time (from 1970 to 2106), at µs or, with `nanoseconds`, ns. */
export function pcapHoldsTime(ts: number, nanoseconds = false): boolean {
  return ts >= 0 && recordSeconds(ts, nanoseconds ? 1e9 : 1e6) <= PCAP_LAST_SECOND;
}

/**
 * The nearest time a record header holds: a capture's time can be any (a pcapng timestamp is 64 bits, its
 * interface's offset signed), a classic pcap's only 1970 to 2106. Callers count what they clamp.
 */
export function nearestPcapTime(ts: number): number {
  return ts > 0 ? Math.min(ts, PCAP_LAST_SECOND) : 0;
}

/** Whole seconds of a time in seconds, as a record header has them (`scale`: 1e6 or 1e9 fractions a second). */
function recordSeconds(ts: number, scale: number): number {
  const sec = Math.floor(ts);
  return Math.round((ts - sec) * scale) >= scale ? sec + 1 : sec;
}

/** The fraction that goes with recordSeconds (a fraction that rounds up to a whole second carries into it). */
function recordFraction(ts: number, scale: number): number {
  const frac = Math.round((ts - Math.floor(ts)) * scale);
  return frac >= scale ? frac - scale : frac;
}

/** One record, header and frame bytes src[start, start+caplen), at c[o]; returns the offset after it. */
function writeRecord(c: Buffer, o: number, sec: number, frac: number, src: Uint8Array, start: number, caplen: number, wireLength: number): number {
  c.writeUInt32LE(sec >>> 0, o);
  c.writeUInt32LE(frac >>> 0, o + 4);
  c.writeUInt32LE(caplen, o + 8);
  c.writeUInt32LE(Math.max(wireLength, caplen) >>> 0, o + 12);
  o += PCAP_RECORD_HEADER_LENGTH;
  if (Buffer.isBuffer(src)) src.copy(c, o, start, start + caplen);
  else c.set(src.subarray(start, start + caplen), o);
  return o + caplen;
}

export class PcapWriter {
  readonly linkType: number;
  readonly snaplen: number;
  readonly nanoseconds: boolean;
  /** Records written so far. */
  packets = 0;
  /** File bytes produced so far (headers included), whether or not the sink has flushed them yet. */
  bytes = 0;

  private readonly sink: Writable;
  private readonly endSink: boolean;
  private readonly ownsSink: boolean;
  private readonly chunkSize: number;
  private chunk: Buffer;
  private used = 0;
  /** Set while the sink is over its high-water mark; settles on its next 'drain' (or close/error). */
  private pendingDrain: Promise<void> | null = null;
  private error: Error | null = null;
  private closed = false;

  constructor(out: string | Writable, options: PcapWriterOptions = {}) {
    this.linkType = options.linkType ?? LINKTYPE_ETHERNET;
    this.snaplen = options.snaplen ?? DEFAULT_SNAPLEN;
    this.nanoseconds = options.nanoseconds ?? false;
    this.chunkSize = Math.max(options.chunkSize ?? DEFAULT_CHUNK, 4096);
    this.ownsSink = typeof out === 'string';
    // Our own file stream may hold a few chunks in flight so disk writes overlap with generation.
    this.sink = typeof out === 'string' ? createWriteStream(out, { highWaterMark: 4 * this.chunkSize }) : out;
    this.endSink = this.ownsSink || !options.keepOpen;
    this.sink.on('error', (err: Error) => {
      this.error ??= err;
    });
    this.chunk = Buffer.allocUnsafe(this.chunkSize);
    const header = pcapFileHeader(this.linkType, this.snaplen, this.nanoseconds);
    header.copy(this.chunk, 0);
    this.used = header.length;
    this.bytes = header.length;
  }

  /**
   * Appends one frame. `tsSeconds` is seconds since the epoch (a float: exact to about 0.2 µs today; use
   * `writeFrame` for exact nanoseconds). Returns false when the sink is full: `await drain()` before more.
   */
  writePacket(tsSeconds: number, frame: Uint8Array, wireLength = frame.length): boolean {
    if (!Number.isFinite(tsSeconds) || tsSeconds < 0) {
      throw new PcapWriterError('PCAP_WRITER_BAD_TIMESTAMP', `pcap timestamp ${tsSeconds} is not a time since 1970: pass seconds since the epoch`);
    }
    const scale = this.nanoseconds ? 1e9 : 1e6;
    return this.writeFrame(recordSeconds(tsSeconds, scale), recordFraction(tsSeconds, scale), frame, 0, frame.length, wireLength);
  }

  /**
   * Appends frame bytes src[start, start+length) with an exact timestamp: `sec` since the epoch and
   * `frac` in µs or ns (per the file's resolution). No allocation: the generator's hot path uses this.
   */
  writeFrame(sec: number, frac: number, src: Uint8Array, start: number, length: number, wireLength = length): boolean {
    if (this.closed) throw new PcapWriterError('PCAP_WRITER_CLOSED', 'pcap writer: writePacket after close()');
    const caplen = Math.min(length, this.snaplen);
    const recordLength = PCAP_RECORD_HEADER_LENGTH + caplen;
    if (this.used + recordLength > this.chunkSize) this.flushChunk(recordLength);
    this.used = writeRecord(this.chunk, this.used, sec, frac, src, start, caplen, wireLength);
    this.packets++;
    this.bytes += recordLength;
    return this.pendingDrain === null;
  }

  /** Resolves once the sink has taken what it was given (at once when it is not full). */
  async drain(): Promise<void> {
    if (this.pendingDrain) await this.pendingDrain;
    if (this.error) throw this.error;
  }

  /** Writes what is buffered, ends the sink (unless keepOpen) and resolves when it is on disk / flushed. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.used > 0) this.sink.write(this.chunk.subarray(0, this.used));
    this.used = 0;
    if (!this.endSink) {
      if (!this.sink.write(Buffer.alloc(0))) this.waitForDrain();
      await this.drain();
      if (this.error) throw this.error;
      return;
    }
    await new Promise<void>((resolve, reject) => {
      const finished = (err?: Error | null): void => {
        const e = err ?? this.error;
        if (e) reject(e);
        else resolve();
      };
      // A file stream is done when its descriptor is closed; other sinks when they finish.
      if (this.ownsSink) this.sink.once('close', () => finished());
      else this.sink.once('finish', () => finished());
      this.sink.once('error', finished);
      this.sink.end();
    });
  }

  private waitForDrain(): void {
    if (this.pendingDrain) return;
    this.pendingDrain = new Promise((resolve) => {
      const done = (): void => {
        this.sink.off('drain', done);
        this.sink.off('close', done);
        this.sink.off('error', done);
        this.pendingDrain = null;
        resolve();
      };
      this.sink.on('drain', done);
      this.sink.on('close', done);
      this.sink.on('error', done);
    });
  }

  private flushChunk(nextRecord: number): void {
    if (this.used > 0) {
      // The sink keeps the buffer it was given, so a fresh chunk takes its place.
      if (!this.sink.write(this.chunk.subarray(0, this.used))) this.waitForDrain();
      this.chunk = Buffer.allocUnsafe(Math.max(this.chunkSize, nextRecord));
      this.used = 0;
    } else if (this.chunk.length < nextRecord) {
      this.chunk = Buffer.allocUnsafe(nextRecord);
    }
  }
}

export interface PcapPacket {
  /** Seconds since the epoch. */
  ts: number;
  data: Uint8Array;
  /** Length on the wire when more than `data` (a cut frame). */
  wirelen?: number;
}

/**
 * A whole pcap file built in memory, record by record, in one buffer that doubles when full: no object per
 * frame. (An evidence file's thousands of frames, each a Buffer and a header, were all alive until the file
 * was written, so a scavenge in between copied every one.) The link type is given when the file is taken:
 * the evidence recorder learns it from the first frame.
 */
export class PcapBytes {
  private buf: Buffer;
  private used = PCAP_FILE_HEADER_LENGTH;
  private readonly scale: number;
  /** Records added. */
  count = 0;

  constructor(
    private readonly snaplen = DEFAULT_SNAPLEN,
    private readonly nanoseconds = false,
    /** Bytes to start with (the file's whole size when known). */
    size = 64 * 1024,
  ) {
    this.buf = Buffer.allocUnsafe(Math.max(size, PCAP_FILE_HEADER_LENGTH));
    this.scale = nanoseconds ? 1e9 : 1e6;
  }

  /**
   * Frame bytes src[start, start+length), captured at `ts` (seconds since the epoch), cut to the snap length;
   * a time a pcap cannot hold is written as the nearest it can (nearestPcapTime): evidence of a damaged capture.
   */
  add(ts: number, src: Uint8Array, start: number, length: number, wireLength = length): void {
    ts = nearestPcapTime(ts);
    const caplen = Math.min(length, this.snaplen);
    const end = this.used + PCAP_RECORD_HEADER_LENGTH + caplen;
    if (end > this.buf.length) {
      const grown = Buffer.allocUnsafe(Math.max(end, 2 * this.buf.length));
      this.buf.copy(grown, 0, 0, this.used);
      this.buf = grown;
    }
    this.used = writeRecord(this.buf, this.used, recordSeconds(ts, this.scale), recordFraction(ts, this.scale), src, start, caplen, wireLength);
    this.count++;
  }

  /** The file: its header (with `linkType`), then every record added. */
  bytes(linkType: number): Buffer {
    writeFileHeader(this.buf, linkType, this.snaplen, this.nanoseconds);
    return this.buf.subarray(0, this.used);
  }
}

export interface PcapPacket {
  /** Seconds since the epoch. */
  ts: number;
  data: Uint8Array;
  /** Length on the wire when more than `data` (a cut frame). */
  wirelen?: number;
}

/** A whole pcap file in memory, for tests and small files. */
export function encodePcap(linkType: number, packets: readonly PcapPacket[], options: { nanoseconds?: boolean; snaplen?: number } = {}): Buffer {
  const snaplen = options.snaplen ?? DEFAULT_SNAPLEN;
  let size = PCAP_FILE_HEADER_LENGTH;
  for (const p of packets) size += PCAP_RECORD_HEADER_LENGTH + Math.min(p.data.length, snaplen);
  const file = new PcapBytes(snaplen, options.nanoseconds, size);
  for (const p of packets) file.add(p.ts, p.data, 0, p.data.length, p.wirelen ?? p.data.length);
  return file.bytes(linkType);
}
