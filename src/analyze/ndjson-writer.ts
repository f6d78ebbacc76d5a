import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { connJsonRoom, connViewJsonRoom, writeConnJson, writeConnViewJson } from './flows/conn-json.js';
import type { ConnView } from './flows/conn-record.js';
import type { ConnRecord, DnsRecord } from './records.js';
import { dnsJsonRoom, isEngineDnsRecord, writeDnsJson } from './apps/dns/dns-json.js';
import { toEcs } from './ecs.js';
import type { TlsFlowRecord } from './apps/tls/analyzer.js';
import { isEngineTlsRecord, tlsJsonRoom, writeTlsJson } from './apps/tls/tls-json.js';
import type { HttpRecord } from './apps/http/record.js';
import { httpJsonRoom, isEngineHttpRecord, writeHttpJson } from './apps/http/http-json.js';

/** A record type written byte by byte (the most frequent ones), for records of the shape its maker gives them. */
interface ByteWriter {
  fits(record: object): boolean;
  room(record: object): number;
  write(buf: Buffer, pos: number, record: object): number;
}

/** By record type; any other type, or a record that does not fit, goes through JSON.stringify. */
const BYTE_WRITERS: ReadonlyMap<string, ByteWriter> = new Map<string, ByteWriter>([
  ['conn', { fits: () => true, room: (r) => connJsonRoom(r as ConnRecord), write: (b, p, r) => writeConnJson(b, p, r as ConnRecord) }],
  ['dns', { fits: (r) => isEngineDnsRecord(r as DnsRecord), room: (r) => dnsJsonRoom(r as DnsRecord), write: (b, p, r) => writeDnsJson(b, p, r as DnsRecord) }],
  ['tls', { fits: (r) => isEngineTlsRecord(r as TlsFlowRecord), room: (r) => tlsJsonRoom(r as TlsFlowRecord), write: (b, p, r) => writeTlsJson(b, p, r as TlsFlowRecord) }],
  ['http', { fits: (r) => isEngineHttpRecord(r as HttpRecord), room: (r) => httpJsonRoom(r as HttpRecord), write: (b, p, r) => writeHttpJson(b, p, r as HttpRecord) }],
]);

/** `ndjson`: records as Loopy writes them (Zeek's field names); `ecs`: each as an Elastic Common Schema document. */
export type RecordFormat = 'ndjson' | 'ecs';

const FLUSH_BYTES = 256 * 1024;

/**
 * Writes records as NDJSON with few, large writes. The engine emits synchronously inside a batch; the
 * caller awaits `drain()` between batches so a slow reader (a pipe to jq) holds the reading back instead of
 * growing memory. `loopy read --json` and the agent's `--stdout` / `--stats-out` streams both write through it.
 *
 * Lines go straight into a byte buffer (conn, dns, tls and http records byte by byte, the others as JSON.stringify's
 * text encoded in place) rather than strings joined and then encoded: that was two copies and a large string per
 * flush. A buffer handed to the stream is not written again until the stream says it has passed it on (its
 * write callback); a few such buffers are kept for reuse, so writing a million records does not leave a
 * trail of freed 320 KB buffers for the garbage collector to find (they held ~100 MB of RSS at a time).
 */
export class NdjsonWriter {
  private buf = newChunk(FLUSH_BYTES);
  private pos = 0;
  private closed = false;
  /** Buffers the stream has finished with, for the next flushes. */
  private readonly spare: Buffer[] = [];
  private readonly recycle = (buf: Buffer): (() => void) => () => {
    if (buf.length === CHUNK_BYTES && this.spare.length < MAX_SPARE) this.spare.push(buf);
  };

  /**
   * `onError`: any error of the stream stops this writer and is handed over (the agent logs it and keeps
   * running). Without it, the reader going away (EPIPE, e.g. `| head`) stops the writer quietly, as Unix tools
   * do, and any other error is thrown.
   */
  constructor(
    private readonly out: Writable,
    private readonly onError?: (err: Error) => void,
    private readonly format: RecordFormat = 'ndjson',
  ) {
    out.on('error', (err: NodeJS.ErrnoException) => {
      if (this.onError !== undefined) {
        if (!this.closed) this.onError(err);
        this.closed = true;
      } else if (err.code === 'EPIPE') this.closed = true;
      else throw err;
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  write(record: { type: string }): void {
    if (this.closed) return;
    if (this.format === 'ecs') {
      this.writeText(JSON.stringify(toEcs(record)));
      return;
    }
    const bytes = BYTE_WRITERS.get(record.type);
    if (bytes === undefined || !bytes.fits(record)) {
      this.writeText(JSON.stringify(record));
      return;
    }
    const buf = this.room(bytes.room(record) + 1);
    this.pos = bytes.write(buf, this.pos, record);
    this.endLine();
  }

  private writeText(line: string): void {
    // UTF-8 takes at most 3 bytes per UTF-16 unit.
    const buf = this.room(3 * line.length + 1);
    this.pos += buf.write(line, this.pos, 'utf8');
    this.endLine();
  }

  private endLine(): void {
    this.buf[this.pos++] = 0x0a;
    if (this.pos >= FLUSH_BYTES) this.flushBuffered();
  }

  /** A closed flow's conn line, read from the flow table (the same bytes as write(conn.record())). */
  writeConn(conn: ConnView): void {
    if (this.closed) return;
    if (this.format === 'ecs') {
      this.write(conn.record());
      return;
    }
    const history = conn.history();
    const buf = this.room(connViewJsonRoom(history, conn.service, conn.owners()) + 1);
    this.pos = writeConnViewJson(buf, this.pos, conn, history);
    this.endLine();
  }

  /** The buffer, with at least `bytes` free after pos (flushing first, or growing for a huge line): call before reading pos. */
  private room(bytes: number): Buffer {
    if (this.buf.length - this.pos < bytes) {
      this.flushBuffered();
      if (this.buf.length < bytes) this.buf = newChunk(bytes);
    }
    return this.buf;
  }

  /** Hands the buffered lines to the stream; false when the stream's own buffer is full. */
  flush(): boolean {
    return this.flushBuffered();
  }

  private flushBuffered(): boolean {
    if (this.pos === 0) return true;
    const full = this.buf;
    const chunk = full.subarray(0, this.pos);
    this.buf = this.spare.pop() ?? newChunk(FLUSH_BYTES);
    this.pos = 0;
    return this.closed || this.out.write(chunk, this.recycle(full));
  }

  /** Flushes and waits while the stream's buffer is full. */
  async drain(): Promise<void> {
    if (this.flushBuffered() || this.closed) return;
    try {
      await once(this.out, 'drain');
    } catch (err) {
      if (this.onError === undefined && (err as NodeJS.ErrnoException).code !== 'EPIPE') throw err;
      this.closed = true;
    }
  }

  async end(): Promise<void> {
    await this.drain();
  }
}

/** Room for a flush's worth of lines plus the largest usual line, so a flush is rarely early. */
const CHUNK_BYTES = FLUSH_BYTES + 64 * 1024;
/** Buffers kept for reuse: the caller's drain between batches keeps about two in the stream at once. */
const MAX_SPARE = 4;

/** A buffer of CHUNK_BYTES, or bigger for one huge line (those are not reused). */
function newChunk(bytes: number): Buffer {
  return Buffer.allocUnsafeSlow(Math.max(bytes + 64 * 1024, CHUNK_BYTES));
}
