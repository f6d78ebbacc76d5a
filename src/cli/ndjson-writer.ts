import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { recordToJson } from '../analyze/flows/conn-json.js';

const FLUSH_BYTES = 256 * 1024;

/**
 * Writes records as NDJSON with few, large writes. The engine emits synchronously inside a batch; the
 * caller awaits `drain()` between batches so a slow reader (a pipe to jq) holds the reading back instead of
 * growing memory.
 */
export class NdjsonWriter {
  private parts: string[] = [];
  private pending = 0;
  private closed = false;

  constructor(private readonly out: Writable) {
    out.on('error', (err: NodeJS.ErrnoException) => {
      // The reader went away (e.g. `| head`): stop writing, as Unix tools do.
      if (err.code === 'EPIPE') this.closed = true;
      else throw err;
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  write(record: { type: string }): void {
    if (this.closed) return;
    const line = recordToJson(record);
    this.parts.push(line);
    this.pending += line.length + 1;
    if (this.pending >= FLUSH_BYTES) this.flushBuffered();
  }

  private flushBuffered(): boolean {
    if (this.parts.length === 0 || this.closed) return true;
    const text = `${this.parts.join('\n')}\n`;
    this.parts = [];
    this.pending = 0;
    return this.out.write(text);
  }

  /** Flushes and waits while the stream's buffer is full. */
  async drain(): Promise<void> {
    if (this.flushBuffered() || this.closed) return;
    try {
      await once(this.out, 'drain');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EPIPE') throw err;
      this.closed = true;
    }
  }

  async end(): Promise<void> {
    await this.drain();
  }
}
