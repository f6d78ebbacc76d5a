/**
 * The agent's one seam to packets: a live capture (the addon, one handle per interface) or a capture file
 * replayed as if it were live. The agent takes a CaptureSourceFactory, so tests pass a fake source and
 * drive it batch by batch.
 */
import { closeSync, openSync } from 'node:fs';
import { basename } from 'node:path';
import { unreadableError } from '../capture/capture-errors.js';
import type { PacketBatch } from '../capture/batch.js';
import { openLiveCapture, type InterfaceStats } from '../capture/live.js';
import { type ReplayOptions, replayCapture } from '../capture/replay.js';

export type { InterfaceStats } from '../capture/live.js';

export interface CaptureSource extends AsyncIterable<PacketBatch> {
  readonly kind: 'live' | 'replay';
  /** Interface names (a replay: the file's name). */
  readonly interfaces: readonly string[];
  /** libpcap's activation warnings. */
  readonly warnings: readonly string[];
  /** Counters per interface since it opened (a replay: packets read, nothing dropped). */
  stats(): InterfaceStats[];
  /**
   * Replaces the kernel filter of every open handle (undefined: none). Absent when the source cannot; the
   * agent then filters in user space.
   */
  setFilter?(expression: string | undefined): void;
  /** Stops; iteration ends after what is already queued. Safe to call twice. */
  close(): void;
  /** Live with `fanout`: the PACKET_FANOUT group of each interface, for the other engines to join. */
  readonly fanoutGroups?: readonly number[];
}

export type CaptureRequest =
  | {
    kind: 'live'; interfaces: string[]; filter?: string; snaplen?: number; bufferMiB?: number; promisc: boolean; timeoutMs?: number;
    /** One of `shards` engines sharing the packets by address pair (`--workers`); `groups` to join, else new ones. */
    fanout?: { shards: number; groups?: readonly number[] };
  }
  | { kind: 'replay'; file: string; speed?: number; max: boolean; loop: boolean };

export type CaptureSourceFactory = (request: CaptureRequest) => CaptureSource;

export const openCaptureSource: CaptureSourceFactory = (request) => {
  if (request.kind === 'live') {
    const live = openLiveCapture({
      interfaces: request.interfaces,
      filter: request.filter,
      snaplen: request.snaplen,
      bufferMiB: request.bufferMiB,
      promisc: request.promisc,
      timeoutMs: request.timeoutMs,
      fanout: request.fanout,
    });
    return {
      kind: 'live',
      interfaces: live.interfaces,
      fanoutGroups: live.fanoutGroups,
      warnings: live.warnings,
      stats: () => live.stats(),
      setFilter: (expression) => live.setFilter(expression),
      close: () => live.close(),
      [Symbol.asyncIterator]: () => live[Symbol.asyncIterator](),
    };
  }
  return replaySource(request.file, { speed: request.speed, max: request.max, loop: request.loop });
};

/**
 * A replayed file; `close()` ends it at once, even while it waits to pace the next batch. The file is opened
 * here, when the agent opens its capture (as root, before dropping privileges): a file only root may read
 * is still replayed, every round of a loop too.
 */
export function replaySource(file: string, options: Omit<ReplayOptions, 'signal' | 'fd'>): CaptureSource {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    throw unreadableError(file, 0, err);
  }
  const abort = new AbortController();
  const replay = replayCapture(file, { ...options, fd, signal: abort.signal });
  const name = basename(file);
  let iterating = false;
  let open = true;
  const release = () => {
    if (open) closeSync(fd);
    open = false;
  };
  return {
    kind: 'replay',
    interfaces: [name],
    warnings: [],
    stats: () => [{ interface: name, received: replay.progress().packets, dropped: 0, ifDropped: 0, addonDropped: 0 }],
    close: () => {
      abort.abort();
      // While batches are being read the reader lets go of the file when it stops (below), not under a read.
      if (!iterating) release();
    },
    async *[Symbol.asyncIterator]() {
      iterating = true;
      try {
        yield* replay;
      } finally {
        iterating = false;
        release();
      }
    },
  };
}
