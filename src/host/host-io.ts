/**
 * All the I/O process attribution does, in one seam (bandwhich's OsInputOutput): /proc reads and the
 * sock_diag dump. Synchronous on purpose: a poll is a few hundred small reads of pseudo-files that the
 * kernel makes in memory, cheaper in one go than as promises; it runs between batches, never per packet.
 * Every call answers undefined (or an empty list) when the file is gone or refused: processes end at any time.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { tryLoadCaptureAddon } from '../capture/live-addon.js';

export interface HostIO {
  /** The pids in /proc. */
  pids(): number[];
  /** Descriptor numbers of a process (names in /proc/PID/fd). */
  fds(pid: number): string[];
  readLink(path: string): string | undefined;
  readText(path: string): string | undefined;
  /** sock_diag dump of this namespace (see native/src/sock-diag.c); undefined when the addon lacks it. */
  socketDump(family: number, protocol: number, states: number): Buffer | undefined;
  /** Exact lookups of connected sockets (see native/src/sock-diag.c); undefined when the addon lacks them. */
  socketLookup(family: number, protocol: number, requests: Buffer): Buffer | undefined;
}

function quietly<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

export const realHostIO: HostIO = {
  pids: () => (quietly(() => readdirSync('/proc')) ?? []).filter((n) => n.charCodeAt(0) <= 0x39).map(Number).filter((n) => n > 0),
  fds: (pid) => quietly(() => readdirSync(`/proc/${pid}/fd`)) ?? [],
  readLink: (path) => quietly(() => readlinkSync(path)),
  readText: (path) => quietly(() => readFileSync(path, 'utf8')),
  socketDump: (family, protocol, states) => tryLoadCaptureAddon()?.socketDump?.(family, protocol, states),
  socketLookup: (family, protocol, requests) => tryLoadCaptureAddon()?.socketLookup?.(family, protocol, requests),
};
