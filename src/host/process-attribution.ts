/**
 * Process attribution: which process owns each socket of this host, in its own network namespace and in the
 * others (containers), kept beside the packet loop and asked once per flow when its conn record is due.
 *
 *   const attribution = new ProcessAttribution({ onSocket });  // onSocket: new listeners and connections
 *   attribution.start();                                        // a full sweep, then polls on a timer
 *   engine.setOwnerLookup(attribution);                         // conn records gain orig_/resp_process
 *   attribution.hint();                                         // the engine saw a new flow: poll soon
 *
 * A poll lists the sockets (sock_diag for this namespace, /proc/PID/net/* through one process of each
 * other namespace), and looks for the owner of each socket it has not seen (inode-owners.ts). Polls come
 * every `slowMs` while nothing happens, every `fastMs` for `fastForMs` after a new socket or a hint, so a
 * connection that lasts 50 ms is still caught. What a socket was owned by is kept `retainMs` after it is
 * gone: a conn record comes out seconds (closed TCP) to a minute (UDP) after the last packet.
 * Never touches packets; its cost is counted (busy milliseconds) and reported.
 */
import { formatIPv4, formatIPv6 } from '../analyze/format-address.js';
import type { FlowOwnerLookup, FlowOwners } from '../analyze/flows/flow-owners.js';
import type { ProcessRecord } from '../analyze/records.js';
import { type HostIO, realHostIO } from './host-io.js';
import { InodeOwners } from './inode-owners.js';
import { LookupQueue } from './lookup-queue.js';
import { type ProcessFacts, readProcessFacts, UserNames } from './process-facts.js';
import {
  addressKey, connectedKey, isZero, localIPv4, localIPv6, parseProcNet, parseSocketDump, type SocketEntry, SocketState, TCP_LIVE_STATES, UDP_ALL_STATES,
} from './socket-entries.js';

const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;

/** What the owner of a new socket did: listen (TCP LISTEN), bind (UDP, unconnected), accept or connect. */
export type SocketKind = 'listen' | 'bind' | 'accept' | 'connect';

/** A socket whose owner was just found (for detection). The arrays are the event's own. */
export interface SocketEvent {
  kind: SocketKind;
  proto: number;
  version: 4 | 6;
  local: Uint32Array;
  localPort: number;
  remote: Uint32Array;
  remotePort: number;
  localHost: string;
  remoteHost: string;
  process: ProcessRecord;
  /** The owner's parent pid (a shell started by a server is the server's doing). */
  ppid: number;
  /** True for the sockets found by the first sweep (they were there before the agent). */
  initial: boolean;
  /** Wall-clock seconds. */
  ts: number;
}

export interface AttributionOptions {
  io?: HostIO;
  /** Milliseconds, monotonic enough for cadence (default performance.now). */
  now?: () => number;
  /** Wall-clock seconds for events (default Date.now() / 1000). */
  wallClock?: () => number;
  onSocket?: (event: SocketEvent) => void;
  fastMs?: number;
  slowMs?: number;
  fastForMs?: number;
  /** Every connected socket is listed this often (the dump walks the kernel's whole TCP hash table). */
  fullDumpMs?: number;
  /** Milliseconds a poll may spend reading other processes' descriptors when the likely ones did not tell. */
  searchBudgetMs?: number;
  retainMs?: number;
  /** Gone sockets remembered at most (the oldest go first). */
  maxRetained?: number;
}

export interface AttributionStats {
  polls: number;
  /** Milliseconds spent polling (on the agent's thread). */
  busy_ms: number;
  sockets: number;
  attributed: number;
  /** Sockets whose owner could not be found (gone first, or not readable). */
  unattributed: number;
  namespaces: number;
  processes_read: number;
  links_read: number;
}

/** A socket whose owner was found (or given up on: no process). */
interface Owned {
  ns: number;
  connected?: string;
  bound?: string;
  process?: ProcessRecord;
}

/** Polls a socket stays wanted without its owner being found before it is given up. */
const MAX_TRIES = 8;
/** Namespaces and their addresses are looked for again this often. */
const CENSUS_MS = 2000;
/** Polls for the engine's new flows come no closer than this (a busy link's batches come every few ms). */
const LOOKUP_SPACING_MS = 5;

const nsNumber = (link: string | undefined): number | undefined => {
  const m = link === undefined ? null : /\[(\d+)\]/.exec(link);
  return m ? Number(m[1]) : undefined;
};

export class ProcessAttribution implements FlowOwnerLookup {
  private readonly io: HostIO;
  private readonly now: () => number;
  private readonly wallClock: () => number;
  private readonly opts: Required<Pick<AttributionOptions, 'fastMs' | 'slowMs' | 'fastForMs' | 'fullDumpMs' | 'searchBudgetMs' | 'retainMs' | 'maxRetained'>>;
  private readonly users: UserNames;
  private readonly owners: InodeOwners;
  private readonly byInode = new Map<number, Owned>();
  private readonly connected = new Map<string, Owned>();
  private readonly bound = new Map<string, Owned>();
  private readonly local4 = new Map<number, number>();
  private readonly local6 = new Map<string, number>();
  private readonly facts = new Map<number, ProcessFacts>();
  /** Inodes alive at the last poll; those missing now are retired (kept `retainMs`). */
  private readonly alive = new Set<number>();
  private readonly retired: Array<{ inode: number; owned: Owned; at: number }> = [];
  private ownNs = 0;
  /** Other namespaces → a process in each, through which their sockets are read. */
  private foreign = new Map<number, number>();
  private lastCensus = Number.NEGATIVE_INFINITY;
  private lastFull = Number.NEGATIVE_INFINITY;
  private lastPoll = Number.NEGATIVE_INFINITY;
  private lastForeign = Number.NEGATIVE_INFINITY;
  /** Inodes the last read of the other namespaces saw (alive until the next read says otherwise). */
  private readonly foreignSeen = new Set<number>();
  private readonly lookups = new LookupQueue();
  /** Sockets whose owner was not found yet, asked again at the next polls. */
  private readonly retry = new Map<number, { entry: SocketEntry; ns: number; tries: number }>();
  private fastUntil = Number.NEGATIVE_INFINITY;
  private timer: NodeJS.Timeout | undefined;
  private nextAt = Number.POSITIVE_INFINITY;
  private started = false;
  private readonly counts = { polls: 0, busy: 0, attributed: 0, unattributed: 0 };

  constructor(private readonly options: AttributionOptions = {}) {
    this.io = options.io ?? realHostIO;
    this.now = options.now ?? (() => performance.now());
    this.wallClock = options.wallClock ?? (() => Date.now() / 1000);
    this.opts = {
      fastMs: options.fastMs ?? 10, slowMs: options.slowMs ?? 250, fastForMs: options.fastForMs ?? 3000, fullDumpMs: options.fullDumpMs ?? 1000,
      searchBudgetMs: options.searchBudgetMs ?? 4, retainMs: options.retainMs ?? 180_000, maxRetained: options.maxRetained ?? 200_000,
    };
    this.users = new UserNames(this.io);
    this.owners = new InodeOwners(this.io, (pid) => this.factsOf(pid)?.uid);
  }

  /** The first sweep (every socket's owner, however long it takes), then polls on a timer until stop(). */
  start(): void {
    this.ownNs = nsNumber(this.io.readLink('/proc/self/ns/net')) ?? 0;
    this.poll(true);
    this.started = true;
    this.schedule(this.opts.slowMs);
  }

  stop(): void {
    this.started = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** The engine saw a new flow: its socket may be short-lived, look soon and often for a while. */
  hint(): void {
    const now = this.now();
    if (now + this.opts.fastMs > this.fastUntil) this.fastUntil = now + this.opts.fastForMs;
    if (this.started && this.nextAt - now > this.opts.fastMs) this.schedule(this.opts.fastMs);
  }

  stats(): AttributionStats {
    return {
      polls: this.counts.polls, busy_ms: Math.round(this.counts.busy * 10) / 10, sockets: this.alive.size,
      attributed: this.counts.attributed, unattributed: this.counts.unattributed, namespaces: this.foreign.size + 1,
      processes_read: this.owners.cost.processesRead, links_read: this.owners.cost.linksRead,
    };
  }

  private schedule(ms: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.nextAt = this.now() + ms;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.started) return;
      const found = this.poll(false);
      const now = this.now();
      if (found > 0) this.fastUntil = Math.max(this.fastUntil, now + this.opts.fastForMs);
      this.schedule(now < this.fastUntil ? this.opts.fastMs : this.opts.slowMs);
    }, ms);
    this.timer.unref();
  }

  /**
   * The engine saw a new flow: when an end is an address of this namespace, its socket is looked up at the
   * next poll (TCP; UDP sockets come with every poll's dump), and polls come soon and often for a while.
   */
  hintFlow(version: number, proto: number, orig: Uint32Array, origPort: number, resp: Uint32Array, respPort: number): void {
    if (proto !== IPPROTO_TCP) return;
    const origHere = this.nsOfAddress(version, orig) === this.ownNs;
    const respHere = this.nsOfAddress(version, resp) === this.ownNs;
    if (!origHere && !respHere) return;
    if (origHere) this.lookups.add(version, orig, origPort, resp, respPort);
    if (respHere) this.lookups.add(version, resp, respPort, orig, origPort);
    this.hint();
    // Look right after this batch (a timer, never on the packet loop), at most every LOOKUP_SPACING_MS.
    const now = this.now();
    const soonest = Math.max(0, this.lastPoll + LOOKUP_SPACING_MS - now);
    if (this.started && this.nextAt - now > soonest) this.schedule(soonest);
  }

  /** One look at the sockets; returns how many new ones got an owner. */
  poll(initial = false): number {
    const t0 = performance.now();
    this.lastPoll = this.now();
    this.counts.polls++;
    const full = initial || t0 - this.lastFull >= this.opts.fullDumpMs;
    if (t0 - this.lastCensus >= CENSUS_MS) this.census(t0);
    const { entries, nsOf, current } = this.listSockets(full, t0);
    for (const [inode, pending] of this.retry) {
      if (nsOf.has(inode) || (full && !current.has(inode))) continue;
      entries.push(pending.entry);
      nsOf.set(inode, pending.ns);
    }
    const wanted = new Map<number, number>();
    for (const e of entries) wanted.set(e.inode, e.uid);
    const owned = new Map<number, number>();
    const found = (inode: number, pid: number) => owned.set(inode, pid);
    if (initial) this.owners.searchAll(wanted, found);
    else if (wanted.size > 0) this.owners.search(wanted, t0 + this.opts.searchBudgetMs, found);
    // Listeners first: a connected socket is "accepted" when its port is one this namespace listens on.
    entries.sort((a, b) => +(b.state === SocketState.Listen) - +(a.state === SocketState.Listen));
    let attributed = 0;
    for (const e of entries) {
      const pid = owned.get(e.inode);
      if (pid !== undefined) attributed += this.adopt(e, nsOf.get(e.inode)!, pid, initial) ? 1 : 0;
      else this.giveUpLater(e, nsOf.get(e.inode)!);
    }
    if (full) {
      this.retire(current, t0);
      this.lastFull = t0;
    }
    this.counts.busy += performance.now() - t0;
    return attributed;
  }

  /**
   * The sockets to look at: every poll, this namespace's listeners and UDP sockets (cheap dumps) and the
   * connected sockets of the engine's new flows (exact lookups); on a full poll, every connected socket too
   * (a dump that walks the kernel's whole hash table) and the other namespaces' sockets. Full entries only
   * for inodes not known yet; `current` holds every inode a full poll saw.
   */
  private listSockets(full: boolean, now: number): { entries: SocketEntry[]; nsOf: Map<number, number>; current: Set<number> } {
    const entries: SocketEntry[] = [];
    const nsOf = new Map<number, number>();
    const current = new Set<number>();
    const known = (inode: number) => {
      current.add(inode);
      return this.byInode.has(inode) || nsOf.has(inode);
    };
    const take = (ns: number, from: number) => {
      for (let i = from; i < entries.length; i++) nsOf.set(entries[i].inode, ns);
    };
    const tcpStates = full ? TCP_LIVE_STATES : 1 << SocketState.Listen;
    for (const [family, proto, states] of [[2, IPPROTO_TCP, tcpStates], [10, IPPROTO_TCP, tcpStates], [2, IPPROTO_UDP, UDP_ALL_STATES], [10, IPPROTO_UDP, UDP_ALL_STATES]]) {
      const from = entries.length;
      const buf = this.io.socketDump(family, proto, states);
      if (buf !== undefined) parseSocketDump(buf, proto, known, entries);
      take(this.ownNs, from);
    }
    for (const version of [4, 6] as const) {
      const requests = this.lookups.take(version);
      const from = entries.length;
      const buf = requests === undefined ? undefined : this.io.socketLookup(version === 4 ? 2 : 10, IPPROTO_TCP, requests);
      if (buf !== undefined) parseSocketDump(buf, IPPROTO_TCP, (inode) => this.byInode.has(inode) || nsOf.has(inode), entries);
      take(this.ownNs, from);
    }
    if (full && now - this.lastForeign >= CENSUS_MS) {
      // Other namespaces through /proc text, which walks the whole TCP table too: every census only.
      this.lastForeign = now;
      this.foreignSeen.clear();
      const knownThere = (inode: number) => {
        this.foreignSeen.add(inode);
        return known(inode);
      };
      for (const [ns, pid] of this.foreign) {
        for (const [file, proto, version, states] of [['tcp', IPPROTO_TCP, 4, TCP_LIVE_STATES], ['tcp6', IPPROTO_TCP, 6, TCP_LIVE_STATES], ['udp', IPPROTO_UDP, 4, UDP_ALL_STATES], ['udp6', IPPROTO_UDP, 6, UDP_ALL_STATES]] as const) {
          const text = this.io.readText(`/proc/${pid}/net/${file}`);
          const from = entries.length;
          if (text !== undefined) parseProcNet(text, proto, version, states, knownThere, entries);
          take(ns, from);
        }
      }
    } else if (full) {
      for (const inode of this.foreignSeen) current.add(inode);
    }
    return { entries, nsOf, current };
  }

  /** A socket and its owner: indexed for lookups, announced. False when the process had already gone. */
  private adopt(e: SocketEntry, ns: number, pid: number, initial: boolean): boolean {
    const facts = this.factsOf(pid);
    if (facts === undefined) return false;
    this.retry.delete(e.inode);
    const owned: Owned = { ns, process: facts.record };
    const kind = this.index(e, ns, owned);
    this.byInode.set(e.inode, owned);
    this.alive.add(e.inode);
    this.counts.attributed++;
    this.options.onSocket?.({
      kind, proto: e.proto, version: e.version, local: e.local, localPort: e.localPort, remote: e.remote, remotePort: e.remotePort,
      localHost: this.text(e.version, e.local), remoteHost: this.text(e.version, e.remote), process: facts.record, ppid: facts.ppid, initial, ts: this.wallClock(),
    });
    return true;
  }

  /** Keys a socket for lookups and learns its local address; says what kind of socket it is. */
  private index(e: SocketEntry, ns: number, owned: Owned): SocketKind {
    const listening = e.proto === IPPROTO_TCP ? e.state === SocketState.Listen : e.remotePort === 0 && isZero(e.remote);
    if (!isZero(e.local)) this.learnAddress(e.version, e.local, ns);
    if (listening) {
      owned.bound = this.boundKey(ns, e.proto, e.version, e.local, e.localPort);
      this.bound.set(owned.bound, owned);
      return e.proto === IPPROTO_TCP ? 'listen' : 'bind';
    }
    owned.connected = connectedKey(e.proto, e.version, e.local, e.localPort, e.remote, e.remotePort);
    this.connected.set(owned.connected, owned);
    if (e.proto !== IPPROTO_TCP) return 'connect';
    return this.listenerOf(ns, e.proto, e.version, e.local, e.localPort) !== undefined ? 'accept' : 'connect';
  }

  /** A socket whose owner was not found: asked again while it lives, up to MAX_TRIES polls. */
  private giveUpLater(e: SocketEntry, ns: number): void {
    const tries = (this.retry.get(e.inode)?.tries ?? 0) + 1;
    if (tries < MAX_TRIES) {
      this.retry.set(e.inode, { entry: e, ns, tries });
      return;
    }
    this.retry.delete(e.inode);
    this.byInode.set(e.inode, { ns });
    this.alive.add(e.inode);
    this.counts.unattributed++;
  }

  private boundKey(ns: number, proto: number, version: number, local: Uint32Array, port: number): string {
    return `${ns}|${proto}|${isZero(local) ? '*' : addressKey(version, local)}|${port}`;
  }

  private listenerOf(ns: number, proto: number, version: number, local: Uint32Array, port: number): Owned | undefined {
    return this.bound.get(this.boundKey(ns, proto, version, local, port)) ?? this.bound.get(`${ns}|${proto}|*|${port}`);
  }

  private learnAddress(version: number, words: Uint32Array, ns: number): void {
    if (version === 4) {
      if (!this.local4.has(words[0])) this.local4.set(words[0], ns);
    } else {
      const key = addressKey(6, words);
      if (!this.local6.has(key)) this.local6.set(key, ns);
    }
  }

  private nsOfAddress(version: number, words: Uint32Array): number | undefined {
    return version === 4 ? this.local4.get(words[0]) : this.local6.get(addressKey(6, words));
  }

  ownersOf(version: number, proto: number, orig: Uint32Array, origPort: number, resp: Uint32Array, respPort: number): FlowOwners | undefined {
    if (proto !== IPPROTO_TCP && proto !== IPPROTO_UDP) return undefined;
    const origNs = this.nsOfAddress(version, orig);
    const respNs = this.nsOfAddress(version, resp);
    if (origNs === undefined && respNs === undefined) return undefined;
    const o = origNs === undefined ? undefined
      : (this.connected.get(connectedKey(proto, version, orig, origPort, resp, respPort)) ?? (proto === IPPROTO_UDP ? this.listenerOf(origNs, proto, version, orig, origPort) : undefined))?.process;
    const r = respNs === undefined ? undefined
      : (this.connected.get(connectedKey(proto, version, resp, respPort, orig, origPort)) ?? this.listenerOf(respNs, proto, version, resp, respPort))?.process;
    if (o === undefined && r === undefined) return undefined;
    const owners: FlowOwners = {};
    if (o !== undefined) owners.orig = o;
    if (r !== undefined) owners.resp = r;
    return owners;
  }

  /** Other network namespaces (one process each to read them through) and every namespace's addresses. */
  private census(now: number): void {
    this.lastCensus = now;
    const foreign = new Map<number, number>();
    for (const pid of this.io.pids()) {
      const ns = nsNumber(this.io.readLink(`/proc/${pid}/ns/net`));
      if (ns !== undefined && ns !== this.ownNs && !foreign.has(ns)) foreign.set(ns, pid);
    }
    this.foreign = foreign;
    // This namespace first: 127.0.0.1 is local everywhere, and here is where its packets are captured.
    for (const [ns, dir] of [[this.ownNs, 'self'] as const, ...[...foreign].map(([ns, pid]) => [ns, String(pid)] as const)]) {
      for (const a of localIPv4(this.io.readText(`/proc/${dir}/net/fib_trie`) ?? '')) this.learnAddress(4, Uint32Array.of(a, 0, 0, 0), ns);
      for (const w of localIPv6(this.io.readText(`/proc/${dir}/net/if_inet6`) ?? '')) this.learnAddress(6, w, ns);
    }
  }

  /** A process's facts, read once while it lives (a pid reused by another process is read again). */
  private factsOf(pid: number): ProcessFacts | undefined {
    const known = this.facts.get(pid);
    if (known !== undefined) {
      const stat = this.io.readText(`/proc/${pid}/stat`);
      if (stat !== undefined && stat.split(') ')[1]?.split(' ')[19] === String(known.start)) return known;
    }
    const facts = readProcessFacts(this.io, pid, this.users, this.now());
    if (facts === undefined) this.facts.delete(pid);
    else this.facts.set(pid, facts);
    return facts;
  }

  /** Sockets gone since the last poll are kept `retainMs` (their flows' records are still to come), then forgotten. */
  private retire(current: Set<number>, now: number): void {
    for (const inode of this.alive) {
      if (current.has(inode)) continue;
      this.alive.delete(inode);
      const owned = this.byInode.get(inode);
      if (owned !== undefined) this.retired.push({ inode, owned, at: now });
    }
    for (const inode of this.retry.keys()) if (!current.has(inode)) this.retry.delete(inode);
    let drop = 0;
    while (drop < this.retired.length && (now - this.retired[drop].at > this.opts.retainMs || this.retired.length - drop > this.opts.maxRetained)) {
      this.forget(this.retired[drop].inode, this.retired[drop].owned);
      drop++;
    }
    if (drop > 0) this.retired.splice(0, drop);
  }

  /** Drops a gone socket's entries, unless its inode (or its key) already belongs to a newer socket. */
  private forget(inode: number, owned: Owned): void {
    if (this.byInode.get(inode) === owned) this.byInode.delete(inode);
    if (owned.connected !== undefined && this.connected.get(owned.connected) === owned) this.connected.delete(owned.connected);
    if (owned.bound !== undefined && this.bound.get(owned.bound) === owned) this.bound.delete(owned.bound);
  }

  private text(version: number, words: Uint32Array): string {
    return version === 4 ? formatIPv4(words[0]) : formatIPv6(words);
  }
}

/** Whether this process may read other processes' sockets: root, or CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH. */
export function attributionProblem(io: HostIO = realHostIO, euid = process.geteuid?.() ?? 0): string | undefined {
  if (io.socketDump(2, IPPROTO_TCP, 1 << SocketState.Listen) === undefined) {
    return 'the capture addon has no socketDump (rebuild it: npm rebuild loopy)';
  }
  if (euid === 0) return undefined;
  const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(io.readText('/proc/self/status') ?? '');
  const caps = m ? BigInt(`0x${m[1]}`) : 0n;
  const missing = [['CAP_SYS_PTRACE', 19n], ['CAP_DAC_READ_SEARCH', 2n]].filter(([, bit]) => ((caps >> (bit as bigint)) & 1n) === 0n).map(([name]) => name);
  return missing.length === 0 ? undefined : `running as uid ${euid} without ${missing.join(' and ')}: other processes' sockets cannot be read (see contrib/loopy-agent.service)`;
}

