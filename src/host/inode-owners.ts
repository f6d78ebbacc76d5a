/**
 * Which process holds a socket inode: found from /proc/PID/fd links ("socket:[INODE]"), the only place Linux
 * tells it, walked in C (native/src/socket-owners.c). Reading every process's descriptors costs
 * milliseconds, so a search reads the likeliest first and stops when every inode asked for is found:
 *   1. processes that held sockets lately (a busy client or server opens the next one too);
 *   2. processes that appeared in /proc in the last RECENT_MS, oldest first (a curl that lives 50 ms; of a
 *      shell and the command it forked, which both hold the shell's socket, the shell that made it);
 *   3. only for the sockets the caller allows (`wide`), the rest, those of the sockets' users first,
 *      round-robin, within a budget per search: what it did not reach is asked again at the next poll.
 * A link costs the kernel some microseconds (≈ 3.5 here, more while the process opens and closes
 * descriptors), so the caller spaces its polls to bound the rest (process-attribution.ts).
 * Needs CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH for other users' processes (or root).
 */
import type { HostIO } from './host-io.js';

/** Processes remembered as lately active (step 1). */
const HOT_MAX = 32;
/** A process counts as new (step 2) this long after it first appeared in /proc. */
const RECENT_MS = 2000;

export interface InodeSearchCost {
  /** Processes whose descriptors were read. */
  processesRead: number;
  /** Descriptor links read. */
  linksRead: number;
}

/** The sockets one search asks about: inode, the socket's uid, and whether step 3 may look for it. */
export interface OwnerQuery {
  inodes: Uint32Array;
  uids: Uint32Array;
  wide: Uint8Array;
}

interface Seen {
  /** The process's uid once read (-1 before, -2 unreadable): only step 3 needs it. */
  uid: number;
  /** When it first appeared in /proc (ms). */
  at: number;
}

export class InodeOwners {
  private readonly known = new Map<number, Seen>();
  private hot: number[] = [];
  private cursor = 0;
  private readonly counts = new Float64Array(2);

  constructor(
    private readonly io: HostIO,
    /** Microseconds step 3 may take in one search. */
    private readonly wideBudgetUs: number,
  ) {}

  get cost(): InodeSearchCost {
    return { processesRead: this.counts[0], linksRead: this.counts[1] };
  }

  /** The owners of `query.inodes` (a pid each, 0 when not found). `now`: milliseconds. */
  search(query: OwnerQuery, now: number): Int32Array {
    const owners = new Int32Array(query.inodes.length);
    if (this.walk(Int32Array.from(this.hot), query.inodes, owners)) return this.heat(owners);
    if (this.walk(this.recentPids(now), query.inodes, owners)) return this.heat(owners);
    // Step 3 for the sockets allowed it only: the others are marked found (-1) for the walk, then cleared.
    let wanted = false;
    for (let i = 0; i < owners.length; i++) {
      if (owners[i] === 0 && !query.wide[i]) owners[i] = -1;
      else if (owners[i] === 0) wanted = true;
    }
    if (wanted) this.wideWalk(query, owners);
    for (let i = 0; i < owners.length; i++) if (owners[i] < 0) owners[i] = 0;
    return this.heat(owners);
  }

  /** Every process's descriptors, without a budget: the first sweep, where every existing socket is wanted. */
  searchAll(inodes: Uint32Array): Int32Array {
    const owners = new Int32Array(inodes.length);
    this.refreshPids(Number.NEGATIVE_INFINITY);
    this.walk(Int32Array.from(this.known.keys()), inodes, owners);
    return this.heat(owners);
  }

  /** Steps 1 and 2 and the first sweep, to the end; true when every inode has an owner. */
  private walk(pids: Int32Array, inodes: Uint32Array, owners: Int32Array): boolean {
    if (pids.length > 0) this.io.socketOwners(pids, inodes, owners, 0, this.counts);
    return owners.every((p) => p !== 0);
  }

  private wideWalk(query: OwnerQuery, owners: Int32Array): void {
    const uids = new Set<number>();
    for (let i = 0; i < owners.length; i++) if (owners[i] === 0) uids.add(query.uids[i]);
    const pids = [...this.known.keys()];
    const start = this.cursor % Math.max(1, pids.length);
    const rotated = [...pids.slice(start), ...pids.slice(0, start)];
    // The sockets' users' processes first, then anyone's (root's sockets may be held by any process).
    const mine = (p: number) => uids.has(this.knownUid(p) ?? -1);
    const ordered = Int32Array.from([...rotated.filter(mine), ...rotated.filter((p) => !mine(p))]);
    // At least 1: the addon reads 0 as no limit.
    const done = this.io.socketOwners(ordered, query.inodes, owners, Math.max(1, this.wideBudgetUs), this.counts) ?? 0;
    this.cursor = start + done;
  }

  /** Lists /proc (forgetting processes that ended); the pids that appeared in the last RECENT_MS, oldest first. */
  private recentPids(now: number): Int32Array {
    this.refreshPids(now);
    const recent: Array<[number, Seen]> = [];
    for (const entry of this.known) if (now - entry[1].at < RECENT_MS) recent.push(entry);
    // Seen in the same listing: the lower pid is the older (pids wrap only after pid_max).
    return Int32Array.from(recent.sort(([a, x], [b, y]) => x.at - y.at || a - b), ([pid]) => pid);
  }

  /** `at`: when the processes not known yet appeared (before anything, for the first sweep's). */
  private refreshPids(at: number): void {
    const alive = new Set(this.io.pids());
    for (const pid of this.known.keys()) if (!alive.has(pid)) this.known.delete(pid);
    this.hot = this.hot.filter((p) => alive.has(p));
    for (const pid of alive) if (!this.known.has(pid)) this.known.set(pid, { uid: -1, at });
  }

  private knownUid(pid: number): number | undefined {
    const seen = this.known.get(pid);
    if (seen === undefined) return undefined;
    if (seen.uid === -1) seen.uid = this.io.processUid(pid) ?? -2;
    return seen.uid >= 0 ? seen.uid : undefined;
  }

  /** The owners found make their processes hot (step 1 of the next search). */
  private heat(owners: Int32Array): Int32Array {
    for (const pid of owners) if (pid > 0) this.markHot(pid);
    return owners;
  }

  private markHot(pid: number): void {
    const at = this.hot.indexOf(pid);
    if (at === 0) return;
    if (at > 0) this.hot.splice(at, 1);
    this.hot.unshift(pid);
    if (this.hot.length > HOT_MAX) this.hot.length = HOT_MAX;
  }
}
