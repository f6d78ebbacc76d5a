/**
 * Standard output shared by the engines of `loopy read --json --workers N`: each engine writes its chunks of
 * whole lines straight to the file descriptor, one engine at a time, under a lock in shared memory. Posting
 * the chunks to the coordinating thread instead cost a copy of every byte, a message per chunk and the
 * coordinator's queue of chunks not yet written (about 45 MB of RSS over two engines on a 2 M-packet mix).
 * A chunk is written whole before the lock is let go, so two engines' lines never mix, even on a pipe, where
 * a write larger than PIPE_BUF may be split among other writers' bytes.
 */
import { writeSync } from 'node:fs';
import { Writable } from 'node:stream';

const UNLOCKED = 0;
const LOCKED = 1;
/** How long a writer sleeps when the descriptor is non-blocking and full (a slow reader: `| less`). */
const FULL_PAUSE_MS = 1;

/** What the coordinator hands each engine: the descriptor and the lock (one 32-bit word). */
export interface SharedOutput {
  fd: number;
  lock: SharedArrayBuffer;
}

export function sharedOutput(fd: number): SharedOutput {
  return { fd, lock: new SharedArrayBuffer(4) };
}

/** A stream writing each chunk whole to `output.fd` while holding its lock. Errors (EPIPE) go to the stream. */
export function lockedWriter(output: SharedOutput): Writable {
  const word = new Int32Array(output.lock);
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      while (Atomics.compareExchange(word, 0, UNLOCKED, LOCKED) !== UNLOCKED) Atomics.wait(word, 0, LOCKED);
      let failure: Error | null = null;
      try {
        writeWhole(output.fd, chunk, word);
      } catch (err) {
        failure = err as Error;
      } finally {
        Atomics.store(word, 0, UNLOCKED);
        Atomics.notify(word, 0, 1);
      }
      callback(failure);
    },
  });
}

/** Writes every byte of `chunk`, waiting out a full non-blocking descriptor (EAGAIN) rather than failing. */
function writeWhole(fd: number, chunk: Buffer, word: Int32Array): void {
  let written = 0;
  while (written < chunk.length) {
    try {
      written += writeSync(fd, chunk, written, chunk.length - written);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
      // The word holds LOCKED while this writer writes: the wait is a sleep.
      Atomics.wait(word, 0, LOCKED, FULL_PAUSE_MS);
    }
  }
}
