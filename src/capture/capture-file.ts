/**
 * Reads a pcap or pcapng file (or stdin) as a stream of PacketBatch, one chunk (~4 MiB) at a time.
 *
 * The format comes from the magic number only (several corpus `.pcap` files are pcapng). A record cut by a
 * chunk boundary is moved to the front of the buffer and completed by the next read; a record bigger than a
 * chunk grows the buffer, up to the link type's sane bound, past which the file is called damaged.
 * Damage never loses what came before it: the batches before the damaged record are yielded first, then the
 * iterator throws a CaptureFileError (as tcpdump prints the packets and then "truncated dump file").
 */
import type { PacketBatch } from './batch.js';
import { BatchBuilder, type RecordParser } from './batch-builder.js';
import { openFileSource, StreamSource, type ByteSource } from './byte-source.js';
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

  private async *batches(): AsyncGenerator<PacketBatch> {
    const source = await this.openSource();
    const out = new BatchBuilder();
    let buf = Buffer.allocUnsafeSlow(this.chunkBytes);
    let view = new DataView(buf.buffer, buf.byteOffset, buf.length);
    let start = 0; // first unparsed byte in buf
    let end = 0; // end of valid bytes in buf
    let base = 0; // file offset of buf[0]
    let eof = false;
    try {
      for (;;) {
        // The previous batch is no longer in use: keep only the unparsed tail, at the front.
        if (start > 0) {
          buf.copy(buf, 0, start, end);
          base += start;
          end -= start;
          start = 0;
        }
        const needed = this.parser ? this.parser.needed : MAGIC_LEN;
        if (needed > buf.length) {
          // Parsers check sane bounds before asking, so this growth is bounded (256 KiB..128 MiB records).
          const bigger = Buffer.allocUnsafeSlow(needed);
          buf.copy(bigger, 0, 0, end);
          buf = bigger;
          view = new DataView(buf.buffer, buf.byteOffset, buf.length);
        }
        if (!eof) {
          let n: number;
          try {
            n = await source.read(buf, end, buf.length - end);
          } catch (err) {
            throw unreadableError(this.path, base + end, err);
          }
          if (n === 0) eof = true;
          end += n;
          this.bytes += n;
        }
        if (!this.parser) {
          if (end < MAGIC_LEN) {
            if (eof) throw this.tooShort(end);
            continue;
          }
          this.parser = this.parserFor(view.getUint32(0, false));
        }
        out.reset();
        start = this.parser.parse(buf, view, start, end, base, out);
        if (out.count > 0) yield out.toBatch(buf, this.parser.linkTypes, this.parser.interfaceNames);
        if (this.parser.error) throw this.parser.error;
        if (eof) {
          if (start < end) throw this.parser.truncated(base + start, end - start);
          return;
        }
      }
    } finally {
      await source.close();
    }
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
