/**
 * Where the agent's records go besides its clients and the store: a callback, and NDJSON streams
 * (`--stdout`, `--stats-out FILE`) written through the same writer as `loopy read --json` (conn records byte by
 * byte, few large writes). The capture loop awaits `drain()` after each batch, so a slow reader holds capture
 * back (the kernel ring absorbs, then drops and counts) instead of growing memory. A stream that fails (EPIPE:
 * its reader went away) stops that sink only, and is reported once.
 */
import type { Writable } from 'node:stream';
import { NdjsonWriter } from '../analyze/ndjson-writer.js';

export class NdjsonSink {
  private readonly writer: NdjsonWriter;
  /** Set when the stream failed; the agent logs it once. */
  failure: Error | undefined;

  constructor(
    readonly name: string,
    private readonly out: Writable,
  ) {
    this.writer = new NdjsonWriter(out, (err) => (this.failure = err));
  }

  write(record: { type: string }): void {
    this.writer.write(record);
  }

  /** Hands buffered lines to the stream; false when the stream's own buffer is full. */
  flush(): boolean {
    return this.writer.flush();
  }

  drain(): Promise<void> {
    return this.writer.drain();
  }

  /** Flushes; closes the stream unless it is shared (stdout). */
  async end(closeStream: boolean): Promise<void> {
    await this.writer.drain();
    if (!closeStream || this.writer.isClosed) return;
    await new Promise<void>((resolve) => this.out.end(resolve));
  }
}

export class RecordSinks {
  constructor(
    private readonly streams: ReadonlyArray<{ sink: NdjsonSink; close: boolean }>,
    private readonly callback?: (record: object) => void,
  ) {}

  /** True when some output takes records (a stream or a callback). */
  get active(): boolean {
    return this.callback !== undefined || this.streams.length > 0;
  }

  write(record: { type: string }): void {
    this.callback?.(record);
    for (const s of this.streams) s.sink.write(record);
  }

  flush(): void {
    for (const s of this.streams) s.sink.flush();
  }

  async drain(): Promise<void> {
    for (const s of this.streams) await s.sink.drain();
  }

  async end(): Promise<void> {
    for (const s of this.streams) await s.sink.end(s.close);
  }

  /** Sinks whose stream failed, each once. */
  failures(): Array<{ name: string; error: Error }> {
    const out: Array<{ name: string; error: Error }> = [];
    for (const { sink } of this.streams) {
      if (sink.failure) {
        out.push({ name: sink.name, error: sink.failure });
        sink.failure = undefined;
      }
    }
    return out;
  }
}
