/**
 * All the I/O process attribution does, in one seam (bandwhich's OsInputOutput): /proc reads, the
 * sock_diag dumps and lookups, and the descriptor walk that finds a socket's owner. Synchronous on purpose: a poll is a few hundred small reads of pseudo-files that the
 * kernel makes in memory, cheaper in one go than as promises; it runs between batches, never per packet.
 * Every call answers undefined (or an empty list) when the file is gone or refused: processes end at any time.
 */
import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { tryLoadCaptureAddon } from '../capture/live-addon.js';

export interface HostIO {
  /** The pids in /proc. */
  pids(): number[];
  /** The owner of /proc/PID (the process's effective uid): one stat, no file read. */
  processUid(pid: number): number | undefined;
  readLink(path: string): string | undefined;
  readText(path: string): string | undefined;
  /** The directories in a directory (not following links). */
  subdirs(path: string): string[] | undefined;
  /** A file's inode number (a cgroup v2 directory's is its cgroup id). */
  inodeOf(path: string): number | undefined;
  /** sock_diag dump of this namespace (see native/src/sock-diag.c); undefined when the addon lacks it. */
  socketDump(family: number, protocol: number, states: number): Buffer | undefined;
  /** Exact lookups of connected sockets (see native/src/sock-diag.c); undefined when the addon lacks them. */
  socketLookup(family: number, protocol: number, requests: Buffer): Buffer | undefined;
  /** This thread's CPU time in ms (wall-clock time where the addon cannot tell): what the attribution's cost is counted in. */
  cpuMs(): number;
  /** Owners of socket inodes from /proc/PID/fd links (see native/src/socket-owners.c); undefined when the addon lacks it. */
  socketOwners(pids: Int32Array, inodes: Uint32Array, owners: Int32Array, budgetUs: number, counts: Float64Array): number | undefined;
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
  processUid: (pid) => quietly(() => statSync(`/proc/${pid}`).uid),
  readLink: (path) => quietly(() => readlinkSync(path)),
  readText: (path) => quietly(() => readFileSync(path, 'utf8')),
  subdirs: (path) => quietly(() => readdirSync(path, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name)),
  inodeOf: (path) => quietly(() => Number(statSync(path, { bigint: true }).ino)),
  socketDump: (family, protocol, states) => tryLoadCaptureAddon()?.socketDump?.(family, protocol, states),
  socketLookup: (family, protocol, requests) => tryLoadCaptureAddon()?.socketLookup?.(family, protocol, requests),
  cpuMs: () => tryLoadCaptureAddon()?.threadCpuMs?.() ?? performance.now(),
  socketOwners: (pids, inodes, owners, budgetUs, counts) => tryLoadCaptureAddon()?.socketOwners?.(pids, inodes, owners, budgetUs, counts),
};
