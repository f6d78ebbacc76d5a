/**
 * Where the agent's records go (for now; the next issue adds clients and the store): a callback, and NDJSON
 * streams (`--stdout`, `--stats-out FILE`). Lines are buffered and written in few large writes; the capture
 * loop awaits `drain()` after each batch, so a slow reader holds capture back (the kernel ring absorbs, then
 * drops and counts) instead of growing memory. A reader that goes away (EPIPE) stops that sink only.
 */
import type { Writable } from 'node:stream';

const FLUSH_BYTES = 256 * 1024;

export class NdjsonSink {
  private parts: string[] = [];
  private pending = 0;
  private closed = false;
  /** Set when the stream failed; the agent logs it once. */
  failure: Error | undefined;

  constructor(
    readonly name: string,
    private readonly out: Writable,
  ) {
    out.on('error', (err: NodeJS.ErrnoException) => {
      this.closed = true;
      this.failure = err;
      this.parts = [];
    });
  }

  write(line: string): void {
    if (this.closed) return;
    this.parts.push(line);
    this.pending += line.length + 1;
    if (this.pending >= FLUSH_BYTES) this.flush();
  }

  /** Hands buffered lines to the stream; false when the stream's own buffer is full. */
  flush(): boolean {
    if (this.parts.length === 0 || this.closed) return true;
    const text = `${this.parts.join('\n')}\n`;
    this.parts = [];
    this.pending = 0;
    return this.out.write(text);
  }

  async drain(): Promise<void> {
    if (this.flush() || this.closed) return;
    await new Promise<void>((resolve) => {
      // Both listeners go once either fires: a long-running agent must not pile them up.
      const done = () => {
        this.out.off('drain', done);
        this.out.off('error', done);
        resolve();
      };
      this.out.on('drain', done);
      this.out.on('error', done);
    });
  }

  /** Flushes; closes the stream unless it is shared (stdout). */
  async end(closeStream: boolean): Promise<void> {
    await this.drain();
    if (!closeStream || this.closed) return;
    this.closed = true;
    await new Promise<void>((resolve) => this.out.end(resolve));
  }
}

export class RecordSinks {
  constructor(
    private readonly streams: ReadonlyArray<{ sink: NdjsonSink; close: boolean }>,
    private readonly callback?: (record: object) => void,
  ) {}

  write(record: object): void {
    this.callback?.(record);
    if (this.streams.length === 0) return;
    const line = JSON.stringify(record);
    for (const s of this.streams) s.sink.write(line);
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
