/**
 * Where capture bytes come from: a file (read with a FileHandle at increasing positions) or a stream (stdin,
 * or a fake in tests). Both fill a caller's buffer, so the chunk loop has one code path and never holds the
 * whole file.
 */
import { read as readFd } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';

export interface ByteSource {
  /**
   * Copies up to `max` bytes into target[at...]; resolves with the count, 0 only at end of input.
   * A stream source returns what is available now (at least 1 byte) rather than waiting to fill `max`.
   */
  read(target: Buffer, at: number, max: number): Promise<number>;
  close(): Promise<void>;
}

export async function openFileSource(path: string): Promise<ByteSource> {
  const handle = await open(path, 'r');
  return new FileSource(handle);
}

class FileSource implements ByteSource {
  private position = 0;

  constructor(private readonly handle: FileHandle) {}

  async read(target: Buffer, at: number, max: number): Promise<number> {
    if (max === 0) return 0;
    const { bytesRead } = await this.handle.read(target, at, max, this.position);
    this.position += bytesRead;
    return bytesRead;
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}

/**
 * A descriptor opened by the caller, read from its start: the replay opens its file once, before the agent
 * drops privileges, and reads it again from the start each round. Closing it is the caller's.
 */
export function descriptorSource(fd: number): ByteSource {
  let position = 0;
  return {
    read(target, at, max) {
      if (max === 0) return Promise.resolve(0);
      return new Promise((resolve, reject) => {
        readFd(fd, target, at, max, position, (err, bytesRead) => {
          if (err) return reject(err);
          position += bytesRead;
          resolve(bytesRead);
        });
      });
    },
    close: () => Promise.resolve(),
  };
}

/**
 * Reads a stream in paused mode: on each call it drains whatever the stream has buffered (stream.read()), so a
 * fast producer gives big batches and a slow one (tcpdump -w - on a quiet link) small but timely ones.
 */
export class StreamSource implements ByteSource {
  private pending: Buffer | undefined;
  private pendingAt = 0;
  private ended = false;
  private closed = false;
  private failure: unknown;
  private wake: (() => void) | undefined;
  private readonly onReadable = () => this.notify();
  private readonly onEnd = () => {
    this.ended = true;
    this.notify();
  };
  private readonly onError = (err: unknown) => {
    this.failure = err;
    this.notify();
  };

  constructor(private readonly stream: NodeJS.ReadableStream) {
    stream.on('readable', this.onReadable);
    stream.on('end', this.onEnd);
    stream.on('close', this.onEnd);
    stream.on('error', this.onError);
    const s = stream as { readableEnded?: boolean; destroyed?: boolean };
    if (s.readableEnded) this.ended = true;
  }

  async read(target: Buffer, at: number, max: number): Promise<number> {
    if (max === 0) return 0;
    for (;;) {
      if (this.closed) return 0;
      if (this.failure !== undefined) throw this.failure;
      const n = this.take(target, at, max);
      if (n > 0) return n;
      if (this.ended) return 0;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  async close(): Promise<void> {
    const s = this.stream;
    s.off('readable', this.onReadable);
    s.off('end', this.onEnd);
    s.off('close', this.onEnd);
    s.off('error', this.onError);
    // Leave the stream for its owner (stdin may be read again); just stop holding its data.
    this.pending = undefined;
    // A read still waiting for data (a quiet `tcpdump -w -` when `loopy read -c` has its packets) ends now.
    this.closed = true;
    this.notify();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /** Copies from the leftover chunk and then from stream.read() until `max` is met or nothing is buffered. */
  private take(target: Buffer, at: number, max: number): number {
    let n = 0;
    while (n < max) {
      if (this.pending === undefined) {
        const chunk = this.stream.read() as Buffer | string | null;
        if (chunk === null) break;
        this.pending = typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk;
        this.pendingAt = 0;
      }
      const copied = this.pending.copy(target, at + n, this.pendingAt, Math.min(this.pending.length, this.pendingAt + max - n));
      n += copied;
      this.pendingAt += copied;
      if (this.pendingAt >= this.pending.length) this.pending = undefined;
    }
    return n;
  }
}
