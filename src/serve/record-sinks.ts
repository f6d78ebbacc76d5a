/**
 * Where the agent's records go besides its clients and the store: a callback, and NDJSON streams
 * (`--stdout`, `--stats-out FILE`) written through the same writer as `loopy read --json` (conn records byte by
 * byte, few large writes). The capture loop awaits `drain()` after each batch, so a slow reader holds capture
 * back (the kernel ring absorbs, then drops and counts) instead of growing memory. A stream that fails (EPIPE:
 * its reader went away) stops that sink only, and is reported once.
 */
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { NdjsonWriter } from '../analyze/ndjson-writer.js';

export class NdjsonSink {
  private writer: NdjsonWriter;
  /** Set when the stream failed; the agent logs it once. */
  failure: Error | undefined;

  constructor(
    readonly name: string,
    private out: Writable,
  ) {
    this.writer = new NdjsonWriter(out, (err) => (this.failure = err));
  }

  /** Records from now on go to `out`; what the old stream was given is flushed to it, then it is closed. */
  replace(out: Writable): void {
    const [oldWriter, oldOut] = [this.writer, this.out];
    this.out = out;
    this.writer = new NdjsonWriter(out, (err) => (this.failure = err));
    // Ended only once drained: an ending stream never emits 'drain', and the capture loop may be awaiting one.
    void (async () => {
      await oldWriter.drain();
      if (oldOut.writableNeedDrain) await once(oldOut, 'drain');
      oldOut.end();
    })().catch(() => oldOut.destroy());
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

/** An output stream; `reopen` (a file's) gives a new stream for the same path (SIGHUP after logrotate's mv). */
export interface SinkStream {
  sink: NdjsonSink;
  close: boolean;
  reopen?: () => Writable;
}

export class RecordSinks {
  constructor(
    private readonly streams: readonly SinkStream[],
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

  /** Reopens the outputs that are files; one that cannot be reopened keeps its stream and is reported. */
  reopen(): Array<{ name: string; error: Error }> {
    const failed: Array<{ name: string; error: Error }> = [];
    for (const s of this.streams) {
      try {
        if (s.reopen) s.sink.replace(s.reopen());
      } catch (err) {
        failed.push({ name: s.sink.name, error: err as Error });
      }
    }
    return failed;
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
