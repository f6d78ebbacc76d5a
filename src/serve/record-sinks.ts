/**
 * Where the agent's records go besides its clients and the store: a callback, and NDJSON streams
 * (`--stdout`, `--stats-out FILE`) written through the same writer as `loopy read --json` (conn records byte by
 * byte, few large writes). The capture loop awaits `drain()` after each batch, so a slow reader holds capture
 * back (the kernel ring absorbs, then drops and counts) instead of growing memory. A stream that fails (EPIPE:
 * its reader went away) stops that sink only, and is reported once.
 */
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { NdjsonWriter, type RecordFormat } from '../analyze/ndjson-writer.js';
import type { ZeekLogs } from '../store/zeek-logs.js';

export class NdjsonSink {
  private writer: NdjsonWriter;
  /** Set when the stream failed; the agent logs it once. */
  failure: Error | undefined;

  constructor(
    readonly name: string,
    private out: Writable,
    private readonly format: RecordFormat = 'ndjson',
  ) {
    this.writer = new NdjsonWriter(out, (err) => (this.failure = err), format);
  }

  /** Records from now on go to `out`; what the old stream was given is flushed to it, then it is closed. */
  replace(out: Writable): void {
    const [oldWriter, oldOut] = [this.writer, this.out];
    this.out = out;
    this.writer = new NdjsonWriter(out, (err) => (this.failure = err), this.format);
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

/**
 * Zeek logs on disk (`--zeek-logs`) as one of the agent's outputs: written at each flush (every second, between
 * batches) and rotated on the hour there. A write that fails (disk full) stops this output only, reported once.
 */
export class ZeekLogSink {
  readonly name = 'zeek-logs';
  failure: Error | undefined;
  private stopped = false;

  constructor(private readonly logs: ZeekLogs) {}

  /** Opening a log (its first record, or the first after a rotation) can fail too: the directory's permissions. */
  write(record: { type: string }): void {
    this.guard(() => this.logs.write(record));
  }

  flush(): void {
    this.guard(() => this.logs.flush());
  }

  end(): void {
    this.guard(() => this.logs.close());
  }

  private guard(step: () => void): void {
    if (this.stopped) return;
    try {
      step();
    } catch (err) {
      this.failure = err as Error;
      this.stopped = true;
    }
  }
}

export class RecordSinks {
  private readonly zeek: ZeekLogSink | undefined;

  constructor(
    private readonly streams: readonly SinkStream[],
    private readonly callback?: (record: object) => void,
    zeekLogs?: ZeekLogs,
  ) {
    this.zeek = zeekLogs && new ZeekLogSink(zeekLogs);
  }

  /** True when some output takes records (a stream, Zeek logs or a callback). */
  get active(): boolean {
    return this.callback !== undefined || this.streams.length > 0 || this.zeek !== undefined;
  }

  write(record: { type: string }): void {
    this.callback?.(record);
    for (const s of this.streams) s.sink.write(record);
    this.zeek?.write(record);
  }

  flush(): void {
    for (const s of this.streams) s.sink.flush();
    this.zeek?.flush();
  }

  async drain(): Promise<void> {
    for (const s of this.streams) await s.sink.drain();
  }

  async end(): Promise<void> {
    for (const s of this.streams) await s.sink.end(s.close);
    this.zeek?.end();
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
    for (const sink of [...this.streams.map((s) => s.sink), ...(this.zeek ? [this.zeek] : [])]) {
      if (sink.failure) {
        out.push({ name: sink.name, error: sink.failure });
        sink.failure = undefined;
      }
    }
    return out;
  }
}
