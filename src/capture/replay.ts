/**
 * Replays a capture file as if it were live (`loopy agent -r FILE`): timestamps are moved to the clock (the
 * first packet at "now", later ones at their original distance divided by the speed), each batch holds at
 * most ~100 ms of that replayed time, and in real time a batch is handed over only once the clock has reached
 * its last packet, as the kernel hands over a block after its packets arrived. With `loop`, each round
 * continues from where the last one ended, so time only moves forward.
 *
 * Unlike openCaptureFile's, the batches are the consumer's to keep (as live batches are): each is a compact
 * copy of its packets, since the reader reuses its buffers as soon as it reads on.
 */
import { setTimeout as sleepTimer } from 'node:timers/promises';
import { META_CAPLEN, META_IFACE, META_OFFSET, META_STRIDE, META_WIRELEN, type PacketBatch } from './batch.js';
import { openCaptureFile } from './capture-file.js';

/** Time as the replay sees it: injected, so that tests never sleep for real. */
export interface ReplayClock {
  /** Milliseconds since the epoch, as Date.now(). */
  now(): number;
  sleep(ms: number): Promise<void>;
}

export interface ReplayOptions {
  /** 1 = real time (default), 2 = twice as fast; timestamps are compressed by the same factor. */
  speed?: number;
  /** As fast as the consumer takes batches: no waiting (timestamps still follow `speed`). */
  max?: boolean;
  /** Start again at the end of the file, forever (or until the consumer stops or `signal` aborts). */
  loop?: boolean;
  clock?: ReplayClock;
  /** Ends the replay at once, even in the middle of a wait. */
  signal?: AbortSignal;
  /** Replayed seconds per batch at most (default 0.1, like a live capture's block timeout). */
  batchSeconds?: number;
  /** Packets per batch at most (default 65536), which bounds memory with `max` on a dense capture. */
  batchPackets?: number;
  /** The file, already open (before a privilege drop): each round reads it from the start. */
  fd?: number;
}

export class ReplayError extends Error {
  readonly code = 'LOOPY_BAD_REPLAY_OPTION';
}

export interface ReplayCapture extends AsyncIterable<PacketBatch> {
  readonly path: string;
  /** Rounds started (1 without `loop`) and packets handed over so far. */
  progress(): { rounds: number; packets: number };
}

export function replayCapture(path: string, options: ReplayOptions = {}): ReplayCapture {
  const speed = options.speed ?? 1;
  if (!(speed > 0 && Number.isFinite(speed))) throw new ReplayError(`replay speed must be a positive number, not ${options.speed}`);
  const batchSeconds = options.batchSeconds ?? 0.1;
  if (!(batchSeconds > 0)) throw new ReplayError(`replay batch length must be positive, not ${options.batchSeconds}`);
  const batchPackets = Math.max(1, Math.floor(options.batchPackets ?? 65536));
  const signal = options.signal;
  const clock = options.clock ?? systemClock(signal);
  let rounds = 0;
  let delivered = 0;

  async function* batches(): AsyncGenerator<PacketBatch> {
    // Replayed time of capture time t in this round: origin + (t - first) / speed.
    let origin = Number.NaN;
    let lastShifted = Number.NaN;
    for (;;) {
      rounds++;
      let first = Number.NaN;
      let roundPackets = 0;
      for await (const batch of openCaptureFile(path, { fd: options.fd })) {
        for (let i = 0; i < batch.count; ) {
          if (Number.isNaN(first)) {
            first = batch.ts[i];
            origin = Number.isNaN(lastShifted) ? clock.now() / 1000 : lastShifted;
          }
          const shift = (t: number) => origin + (t - first) / speed;
          const windowEnd = shift(batch.ts[i]) + batchSeconds;
          let j = i + 1;
          while (j < batch.count && j - i < batchPackets && shift(batch.ts[j]) < windowEnd) j++;
          const out = copyShifted(batch, i, j, origin, first, speed);
          const last = out.ts[out.count - 1];
          if (!(last <= lastShifted)) lastShifted = last;
          if (!options.max) {
            const wait = last * 1000 - clock.now();
            if (wait > 0 && !(await pause(clock, wait, signal))) return;
          }
          if (signal?.aborted) return;
          roundPackets += out.count;
          delivered += out.count;
          yield out;
          i = j;
        }
      }
      // An empty file would loop without end: one round is all it gets.
      if (!options.loop || roundPackets === 0 || signal?.aborted) return;
    }
  }

  return {
    path,
    progress: () => ({ rounds, packets: delivered }),
    [Symbol.asyncIterator]: () => batches(),
  };
}

/** Frames [from, to) of a reader's batch, copied into buffers of their own, timestamps moved to the clock. */
function copyShifted(batch: PacketBatch, from: number, to: number, origin: number, first: number, speed: number): PacketBatch {
  const count = to - from;
  let bytes = 0;
  for (let i = from; i < to; i++) bytes += batch.meta[i * META_STRIDE + META_CAPLEN];
  const data = Buffer.allocUnsafe(bytes);
  const meta = new Uint32Array(count * META_STRIDE);
  const ts = new Float64Array(count);
  let at = 0;
  for (let i = from, k = 0; i < to; i++, k++) {
    const m = i * META_STRIDE;
    const o = k * META_STRIDE;
    const offset = batch.meta[m + META_OFFSET];
    const caplen = batch.meta[m + META_CAPLEN];
    batch.data.copy(data, at, offset, offset + caplen);
    meta[o + META_OFFSET] = at;
    meta[o + META_CAPLEN] = caplen;
    meta[o + META_WIRELEN] = batch.meta[m + META_WIRELEN];
    meta[o + META_IFACE] = batch.meta[m + META_IFACE];
    ts[k] = origin + (batch.ts[i] - first) / speed;
    at += caplen;
  }
  return {
    data,
    count,
    meta,
    ts,
    linkTypes: [...batch.linkTypes],
    interfaceNames: batch.interfaceNames ? [...batch.interfaceNames] : undefined,
  };
}

function systemClock(signal: AbortSignal | undefined): ReplayClock {
  return {
    now: () => Date.now(),
    // An abort rejects the timer; pause() then sees signal.aborted and ends the replay.
    sleep: (ms) => sleepTimer(ms, undefined, { signal }).catch(() => undefined),
  };
}

/** Waits `ms` on the clock; false when the signal aborted meanwhile. */
async function pause(clock: ReplayClock, ms: number, signal: AbortSignal | undefined): Promise<boolean> {
  if (signal === undefined) {
    await clock.sleep(ms);
    return true;
  }
  if (signal.aborted) return false;
  let onAbort: () => void = () => {};
  const aborted = new Promise<void>((resolve) => (onAbort = resolve));
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    await Promise.race([clock.sleep(ms), aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
  return !signal.aborted;
}
