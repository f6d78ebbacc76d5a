/**
 * Which process holds a socket inode: found by reading /proc/PID/fd links ("socket:[INODE]"), the only place
 * Linux tells it. Reading every process's descriptors costs milliseconds, so a search reads the likeliest
 * first and stops when every inode asked for is found:
 *   1. processes that opened sockets lately (a busy client or server opens the next one too);
 *   2. processes started since the last look at /proc (a curl that lives 50 ms);
 *   3. the rest, those of the sockets' users first, round-robin, within a time budget: what is not found now
 *      is asked again at the next poll, while the socket lives.
 * Needs CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH for other users' processes (or root).
 */
import type { HostIO } from './host-io.js';

/** Processes remembered as lately active (step 1). */
const HOT_MAX = 32;

export interface InodeSearchCost {
  /** Processes whose descriptors were read. */
  processesRead: number;
  /** Descriptor links read. */
  linksRead: number;
}

export class InodeOwners {
  /** Processes known from /proc, with their uid once read (-1 before). */
  private readonly known = new Map<number, number>();
  private hot: number[] = [];
  private cursor = 0;
  readonly cost: InodeSearchCost = { processesRead: 0, linksRead: 0 };

  constructor(
    private readonly io: HostIO,
    /** The uid of a process (read lazily: only step 3 needs it). */
    private readonly uidOf: (pid: number) => number | undefined,
  ) {}

  /**
   * Finds the owners of `wanted` (inode → socket's uid) and calls `found(inode, pid)` for each; found ones
   * are deleted from `wanted`. `deadline` (performance.now() ms) bounds step 3.
   */
  search(wanted: Map<number, number>, deadline: number, found: (inode: number, pid: number) => void): void {
    const take = (pid: number) => this.read(pid, wanted, found);
    for (const pid of this.hot.slice()) if (wanted.size > 0) take(pid);
    if (wanted.size === 0) return;
    for (const pid of this.refreshPids()) if (wanted.size > 0) take(pid);
    if (wanted.size === 0) return;
    const uids = new Set(wanted.values());
    const pids = [...this.known.keys()];
    const start = this.cursor % Math.max(1, pids.length);
    const rotated = [...pids.slice(start), ...pids.slice(0, start)];
    // The sockets' users' processes first, then anyone's (root's sockets may be held by any process).
    const ordered = [...rotated.filter((p) => uids.has(this.knownUid(p) ?? -1)), ...rotated.filter((p) => !uids.has(this.knownUid(p) ?? -1))];
    let n = 0;
    for (; n < ordered.length && wanted.size > 0 && performance.now() < deadline; n++) take(ordered[n]);
    this.cursor = start + n;
  }

  /** Reads every descriptor of `pid`: a full sweep at start, where every existing socket is wanted. */
  searchAll(wanted: Map<number, number>, found: (inode: number, pid: number) => void): void {
    for (const pid of this.refreshPids(true)) if (wanted.size > 0) this.read(pid, wanted, found);
  }

  /** Lists /proc; returns the pids not seen before (newest first) and forgets those that ended. */
  private refreshPids(all = false): number[] {
    const now = this.io.pids();
    const alive = new Set(now);
    for (const pid of this.known.keys()) if (!alive.has(pid)) this.known.delete(pid);
    this.hot = this.hot.filter((p) => alive.has(p));
    const fresh: number[] = [];
    for (const pid of now) {
      if (!this.known.has(pid)) {
        this.known.set(pid, -1);
        fresh.push(pid);
      }
    }
    return (all ? now : fresh).sort((a, b) => b - a);
  }

  private knownUid(pid: number): number | undefined {
    let uid = this.known.get(pid);
    if (uid === undefined || uid < 0) {
      uid = this.uidOf(pid) ?? -2;
      this.known.set(pid, uid);
    }
    return uid >= 0 ? uid : undefined;
  }

  private read(pid: number, wanted: Map<number, number>, found: (inode: number, pid: number) => void): void {
    this.cost.processesRead++;
    let hit = false;
    for (const fd of this.io.fds(pid)) {
      const link = this.io.readLink(`/proc/${pid}/fd/${fd}`);
      this.cost.linksRead++;
      if (link === undefined || !link.startsWith('socket:[')) continue;
      const inode = Number(link.slice(8, -1));
      if (!wanted.has(inode)) continue;
      wanted.delete(inode);
      found(inode, pid);
      hit = true;
      if (wanted.size === 0) break;
    }
    if (hit) this.markHot(pid);
  }

  private markHot(pid: number): void {
    const at = this.hot.indexOf(pid);
    if (at === 0) return;
    if (at > 0) this.hot.splice(at, 1);
    this.hot.unshift(pid);
    if (this.hot.length > HOT_MAX) this.hot.length = HOT_MAX;
  }
}
