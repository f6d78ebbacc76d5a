/**
 * Reads a pcap or pcapng file (or stdin) as a stream of PacketBatch, one chunk (~4 MiB) at a time, the next
 * chunk read while the last one's batch is analysed.
 *
 * The format comes from the magic number only (several corpus `.pcap` files are pcapng). A record cut by a
 * chunk boundary is moved to the front of the other buffer and completed by the next read; a record bigger
 * than a chunk grows the buffer, up to the link type's sane bound, past which the file is called damaged.
 * Damage never loses what came before it: the batches before the damaged record are yielded first, then the
 * iterator throws a CaptureFileError (as tcpdump prints the packets and then "truncated dump file").
 */
import type { PacketBatch } from './batch.js';
import { BatchBuilder, type RecordParser } from './batch-builder.js';
import { descriptorSource, openFileSource, StreamSource, type ByteSource } from './byte-source.js';
import { CaptureFileError, unreadableError } from './capture-errors.js';
import { isPcapMagic, PcapParser } from './pcap-reader.js';
import { PCAPNG_SHB, PcapngParser } from './pcapng-reader.js';

export { CaptureFileError } from './capture-errors.js';
export type { CaptureFileErrorCode } from './capture-errors.js';

export interface CaptureFileInfo {
  format: 'pcap' | 'pcapng';
  /** e.g. 'pcap usec LE', 'pcap nsec BE', 'pcapng LE', 'pcapng MIXED' (sections of both byte orders). */
  detail: string;
  /** Written big-endian: what a filter needs to read host-order fields (the BSD loopback header). */
  bigEndian: boolean;
}

export interface CaptureFile extends AsyncIterable<PacketBatch> {
  /** The source as given: a path, or 'stdin' for '-'. */
  readonly path: string;
  /** Known once the file header has been read (at the latest after the first batch). */
  info(): CaptureFileInfo | undefined;
  /** Bytes read from the source so far. */
  bytesRead(): number;
}

export interface OpenCaptureFileOptions {
  /** Bytes read per chunk (default 4 MiB). A record larger than this still works: the buffer grows for it. */
  chunkBytes?: number;
  /** Read this stream instead of stdin when source is '-' (tests pass fakes here). */
  input?: NodeJS.ReadableStream;
  /** Read this open descriptor, from its start, instead of opening the path (which then only names it). */
  fd?: number;
}

export const DEFAULT_CHUNK_BYTES = 4 * 1024 * 1024;
const MAGIC_LEN = 4;

/**
 * Opens lazily: nothing is read until iteration starts, and an unreadable file throws CaptureFileError
 * (LOOPY_FILE_UNREADABLE) from the iterator. A CaptureFile can be iterated once.
 *
 * Each yielded batch (its data buffer, its meta/ts arrays, and its linkTypes/interfaceNames arrays, which grow
 * as pcapng interfaces appear) is valid only until the next batch is requested: the reader reuses them.
 * Copy anything you keep.
 */
export function openCaptureFile(source: string, options: OpenCaptureFileOptions = {}): CaptureFile {
  return new CaptureFileReader(source, options);
}

class CaptureFileReader implements CaptureFile {
  readonly path: string;
  private parser: RecordParser | undefined;
  private format: CaptureFileInfo['format'] | undefined;
  private bytes = 0;
  private started = false;
  private readonly chunkBytes: number;

  constructor(
    private readonly source: string,
    private readonly options: OpenCaptureFileOptions,
  ) {
    this.path = source === '-' ? 'stdin' : source;
    this.chunkBytes = Math.max(1, Math.floor(options.chunkBytes ?? DEFAULT_CHUNK_BYTES));
  }

  info(): CaptureFileInfo | undefined {
    const detail = this.parser?.detail;
    return this.format && detail ? { format: this.format, detail, bigEndian: detail.endsWith(' BE') } : undefined;
  }

  bytesRead(): number {
    return this.bytes;
  }

  [Symbol.asyncIterator](): AsyncIterator<PacketBatch> {
    if (this.started) throw new Error(`${this.path}: a CaptureFile can be iterated only once; open it again`);
    this.started = true;
    return this.batches();
  }

  private async openSource(): Promise<ByteSource> {
    if (this.options.fd !== undefined) return descriptorSource(this.options.fd);
    if (this.source !== '-') {
      try {
        return await openFileSource(this.source);
      } catch (err) {
        throw unreadableError(this.path, 0, err);
      }
    }
    const input = this.options.input ?? process.stdin;
    if ((input as { isTTY?: boolean }).isTTY) {
      throw new CaptureFileError('LOOPY_FILE_UNREADABLE', this.path, 0, 'stdin is a terminal', 'pipe a capture into it, e.g. tcpdump -w - | loopy read -');
    }
    return new StreamSource(input);
  }

  /**
   * Two buffers take turns: the records of one are parsed and their batch analysed while the next chunk is
   * read into the other (the read runs on libuv's threads, so a busy caller does not wait for the disk or the
   * page cache). The unparsed tail of a chunk, a record cut by its end, is copied to the front of the other
   * buffer before the read that completes it.
   */
  private async *batches(): AsyncGenerator<PacketBatch> {
    const source = await this.openSource();
    const out = new BatchBuilder();
    let cur = new Chunk(this.chunkBytes);
    let next = new Chunk(this.chunkBytes);
    let start = 0; // first unparsed byte in cur
    let end = 0; // end of valid bytes in cur
    let base = 0; // file offset of cur.buf[0]
    let eof = false;
    /** The read under way into `next`, after the tail it already holds. */
    let reading: Promise<number> | undefined;
    try {
      for (;;) {
        if (reading === undefined) {
          // The first read, or no packet came of this chunk (blocks without packets, or a record not complete
          // yet): keep the unparsed bytes at the front and read on in place.
          if (start > 0) {
            cur.buf.copy(cur.buf, 0, start, end);
            base += start;
            end -= start;
            start = 0;
          }
          cur.grow(Math.max(this.parser ? this.parser.needed : MAGIC_LEN, end + 1), end);
          const n = await this.readInto(source, cur, end, base);
          if (n === 0) eof = true;
          end += n;
        } else {
          const tail = end - start;
          const n = await reading.catch((err: unknown) => {
            throw unreadableError(this.path, base + end, err);
          });
          reading = undefined;
          [cur, next] = [next, cur];
          base += start;
          start = 0;
          end = tail + n;
          if (n === 0) eof = true;
        }
        if (!this.parser) {
          if (end < MAGIC_LEN) {
            if (eof) throw this.tooShort(end);
            continue;
          }
          this.parser = this.parserFor(cur.view.getUint32(0, false));
        }
        out.reset();
        start = this.parser.parse(cur.buf, cur.view, start, end, base, out);
        const error = this.parser.error;
        // The next chunk is read while this batch is analysed (with no batch, there is nothing to overlap).
        if (!eof && !error && out.count > 0) reading = this.readAhead(source, cur, next, start, end, this.parser.needed);
        if (out.count > 0) yield out.toBatch(cur.buf, this.parser.linkTypes, this.parser.interfaceNames);
        if (error) throw error;
        if (eof) {
          if (start < end) throw this.parser.truncated(base + start, end - start);
          return;
        }
      }
    } finally {
      // A caller that stopped early leaves a read under way: a file's close waits for it to finish, a
      // stream's ends it (it may wait for data that never comes).
      const closing = source.close();
      await reading?.catch(() => undefined);
      await closing;
    }
  }

  /** Reads into chunk.buf from `at` (the first read of a file). */
  private async readInto(source: ByteSource, chunk: Chunk, at: number, base: number): Promise<number> {
    try {
      const n = await source.read(chunk.buf, at, chunk.buf.length - at);
      this.bytes += n;
      return n;
    } catch (err) {
      throw unreadableError(this.path, base + at, err);
    }
  }

  /**
   * Copies cur's unparsed tail [start, end) to the front of `next` (grown when the next record needs more
   * than it holds: parsers check sane bounds before asking, 256 KiB..128 MiB records) and starts reading
   * after it. Resolves with the bytes read.
   */
  private readAhead(source: ByteSource, cur: Chunk, next: Chunk, start: number, end: number, needed: number): Promise<number> {
    const tail = end - start;
    next.grow(Math.max(needed, tail + 1), 0);
    cur.buf.copy(next.buf, 0, start, end);
    return source.read(next.buf, tail, next.buf.length - tail).then((n) => {
      this.bytes += n;
      return n;
    });
  }

  private parserFor(magicBE: number): RecordParser {
    if (magicBE === PCAPNG_SHB) {
      this.format = 'pcapng';
      return new PcapngParser(this.path);
    }
    if (isPcapMagic(magicBE)) {
      this.format = 'pcap';
      return new PcapParser(this.path);
    }
    throw new CaptureFileError(
      'LOOPY_BAD_MAGIC',
      this.path,
      0,
      `magic number 0x${magicBE.toString(16).padStart(8, '0')} is neither pcap nor pcapng`,
      'give a capture written by tcpdump, tshark, dumpcap or loopy',
    );
  }

  private tooShort(have: number): CaptureFileError {
    const reason = have === 0 ? 'file is empty' : `file has only ${have} bytes, too few for a capture file header`;
    return new CaptureFileError('LOOPY_TRUNCATED', this.path, 0, reason, 'give a complete pcap or pcapng file');
  }
}

/** A read buffer and a DataView over it, grown (never shrunk) when a record needs more. */
class Chunk {
  buf: Buffer;
  view: DataView;

  constructor(bytes: number) {
    this.buf = Buffer.allocUnsafeSlow(bytes);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.length);
  }

  /** At least `bytes` long, keeping its first `keep` bytes. */
  grow(bytes: number, keep: number): void {
    if (bytes <= this.buf.length) return;
    const bigger = Buffer.allocUnsafeSlow(bytes);
    this.buf.copy(bigger, 0, 0, keep);
    this.buf = bigger;
    this.view = new DataView(bigger.buffer, bigger.byteOffset, bigger.length);
  }
}
