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
 * connection that lasts 50 ms is still caught — but never sooner than their pacer (pacer.ts) allows: polls
 * take at most `maxShare` of a core, full polls and the other namespaces' tables their own shares, 2 % in
 * all whatever the rate of connections (past that, short ones go unnamed; long ones never do).
 * What a socket was owned by is kept `retainMs` after it is gone: a conn record comes out seconds (closed
 * TCP) to a minute (UDP) after the last packet. Never touches packets; its cost is counted and reported.
 * With a connect trace (connect-trace.ts: eBPF, the process told at connect() time), the connections this
 * host opens are named from it at each poll, whatever their length, and neither looked up nor searched
 * for; listeners, accepted connections and UDP still come from the socket tables and /proc.
 */
import { formatIPv4, formatIPv6 } from '../analyze/format-address.js';
import type { FlowOwnerLookup, FlowOwners } from '../analyze/flows/flow-owners.js';
import type { ProcessRecord } from '../analyze/records.js';
import type { ConnectSource, ConnectTraceStats, TracedConnect } from './connect-trace.js';
import { CgroupUnits } from './cgroup-units.js';
import { type HostIO, realHostIO } from './host-io.js';
import { InodeOwners } from './inode-owners.js';
import { LookupQueue } from './lookup-queue.js';
import { Pacer } from './pacer.js';
import { type ProcessFacts, readProcessFacts, UserNames } from './process-facts.js';
import {
  addressKey, connectedKey, isZero, localIPv4, localIPv6, type SocketEntry, SocketList, SocketState, TCP_LIVE_STATES, UDP_ALL_STATES,
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
  /** Connects told by the kernel (eBPF): read at each poll; closed at stop(). */
  trace?: ConnectSource;
  /**
   * False when other processes' descriptors cannot be read (no CAP_DAC_READ_SEARCH / CAP_SYS_PTRACE): only
   * the trace names anything, and polls only read it.
   */
  searchOwners?: boolean;
  /** Milliseconds, monotonic enough for cadence (default performance.now). */
  now?: () => number;
  /** Wall-clock seconds for events (default Date.now() / 1000). */
  wallClock?: () => number;
  onSocket?: (event: SocketEvent) => void;
  fastMs?: number;
  slowMs?: number;
  fastForMs?: number;
  /** Listeners and UDP sockets are listed at least this often. */
  sweepMs?: number;
  /** Milliseconds a poll may spend reading other processes' descriptors when the likely ones did not tell. */
  searchBudgetMs?: number;
  /** The share of a core polls may take (each is spaced from the last by its cost / maxShare). */
  maxShare?: number;
  /** A socket whose owner is not found is asked about at each poll for this long while it lives. */
  retryMs?: number;
  retainMs?: number;
  /** Gone sockets remembered at most (the oldest go first). */
  maxRetained?: number;
}

export interface AttributionStats {
  polls: number;
  /** CPU milliseconds the agent's thread spent polling. */
  busy_ms: number;
  sockets: number;
  attributed: number;
  /** Sockets whose owner could not be found (not readable, or gone with the socket still open). */
  unattributed: number;
  /** Connected sockets that closed before their owner was found (a process that lived for one connection). */
  closed_unnamed: number;
  namespaces: number;
  processes_read: number;
  links_read: number;
  /** Connections named by the connect trace, and its own counts (absent without a trace). */
  traced?: number;
  trace?: ConnectTraceStats & { other_namespace: number };
}

/** A socket whose owner was found (or given up on: no process). */
interface Owned {
  ns: number;
  connected?: string;
  bound?: string;
  process?: ProcessRecord;
  /** A TCP listener of this namespace: its port. */
  listenPort?: number;
}

/** A socket not named yet: asked about at each poll while it lives, until `since` + retryMs. */
interface Pending {
  entry: SocketEntry;
  ns: number;
  since: number;
  /** Looked up exactly at each poll (a connected TCP socket of this namespace): gone when not found. */
  byLookup: boolean;
}

/** A costly poll (a first wide search) pauses the next at most this long: the share holds on average. */
const MAX_PAUSE_MS = 500;
/** Poll time saved while quiet (a second's worth): a few costly polls in a row pause nothing. */
const POLL_BURST_MS = 15;
/** A known process's start time is checked (has its pid been reused?) at most this often. */
const FACTS_CHECK_MS = 1000;
/** Namespaces and their addresses are looked for again this often. */
const CENSUS_MS = 2000;
/**
 * The shares of a core, together 2 %: polls for new flows (POLL_SHARE, the default of `maxShare`); full
 * polls, whose dump of every connected socket walks the kernel's whole established hash table (TIME_WAIT
 * sockets included: 1 ms idle, 10 ms with 5,000 of them here) and whose wide search serves the sockets
 * only a dump found (FULL_SHARE); the other namespaces' tables, /proc text that makes the same walk for
 * each (13–17 ms a namespace here: FOREIGN_SHARE).
 */
const POLL_SHARE = 0.015;
const FULL_SHARE = 0.004;
const FOREIGN_SHARE = 0.001;
/**
 * While no flow has started since the last full poll, the next waits this long (1 s otherwise): an idle
 * host's table changes little, and each dump walks the whole established hash (1.1 ms a family here).
 */
const QUIET_FULL_MS = 5000;
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
  private readonly opts: Required<Omit<AttributionOptions, 'io' | 'now' | 'wallClock' | 'onSocket' | 'trace'>>;
  private readonly trace: ConnectSource | undefined;
  /** Connections the trace named whose socket no poll has seen yet, by connected key. */
  private readonly awaitingInode = new Map<string, Owned>();
  /** Every connection the trace named, oldest first: kept `retainMs` unless a socket poll adopted it. */
  private readonly traced: Array<{ owned: Owned; at: number }> = [];
  /** Processes' network namespaces, for the trace's loopback connections (every namespace has a 127.0.0.1). */
  private readonly netnsOf = new Map<number, number | undefined>();
  private readonly users: UserNames;
  /** The units of traced connects whose process was gone before /proc was read. */
  private readonly cgroups: CgroupUnits;
  private readonly owners: InodeOwners;
  private readonly byInode = new Map<number, Owned>();
  private readonly connected = new Map<string, Owned>();
  private readonly bound = new Map<string, Owned>();
  /**
   * This host's addresses (its sockets' local ends) and their namespaces: IPv4 by its word as an int32 (a
   * small integer to V8: a word of 128.0.0.0 or above read as it is would be boxed for each look-up, two a
   * flow), IPv6 by text, looked up only when its last word is one of theirs (no text made for most flows).
   */
  private readonly local4 = new Map<number, number>();
  private readonly local6 = new Map<string, number>();
  private readonly local6Tails = new Set<number>();
  private readonly facts = new Map<number, { facts: ProcessFacts; checkedAt: number }>();
  /** Inodes alive at the last poll; those missing now are retired (kept `retainMs`). */
  private readonly alive = new Set<number>();
  private readonly retired: Array<{ inode: number; owned: Owned; at: number }> = [];
  private ownNs = 0;
  /** Other namespaces → a process in each, through which their sockets are read. */
  private foreign = new Map<number, number>();
  private lastCensus = Number.NEGATIVE_INFINITY;
  private lastSweep = Number.NEGATIVE_INFINITY;
  /**
   * Full polls: every connected socket here (long connections the capture saw before, sockets gone) and
   * the wide search for the sockets only a dump found, at most FULL_SHARE.
   */
  private readonly connectedDump = new Pacer(1000, FULL_SHARE);
  /** A flow was hinted since the last full poll; when the last one began (performance.now()). */
  private hintedSinceFull = false;
  private lastFull = Number.NEGATIVE_INFINITY;
  private readonly foreignRead = new Pacer(CENSUS_MS, FOREIGN_SHARE);
  /** Polls, each spaced from the last by its cost / maxShare. */
  private readonly polls: Pacer;
  private lastPoll = Number.NEGATIVE_INFINITY;
  /** Inodes the last read of the other namespaces saw (alive until the next read says otherwise). */
  private readonly foreignSeen = new Set<number>();
  private readonly lookups = new LookupQueue();
  /** Sockets whose owner was not found yet, asked again at the next polls. */
  private readonly retry = new Map<number, Pending>();
  /** A UDP flow was seen since the last UDP dump. */
  private udpDue = false;
  /** Local ports of new flows' responders since the last poll: one not known to listen asks for a listener dump. */
  private readonly accepting = new Set<number>();
  /** TCP ports this namespace listens on. */
  private readonly listenPorts = new Set<number>();
  private fastUntil = Number.NEGATIVE_INFINITY;
  private timer: NodeJS.Timeout | undefined;
  private nextAt = Number.POSITIVE_INFINITY;
  private started = false;
  private readonly counts = { polls: 0, busy: 0, attributed: 0, unattributed: 0, closedUnnamed: 0, traced: 0, otherNamespace: 0 };

  constructor(private readonly options: AttributionOptions = {}) {
    this.io = options.io ?? realHostIO;
    this.now = options.now ?? (() => performance.now());
    this.wallClock = options.wallClock ?? (() => Date.now() / 1000);
    this.opts = {
      fastMs: options.fastMs ?? 10, slowMs: options.slowMs ?? 250, fastForMs: options.fastForMs ?? 3000, sweepMs: options.sweepMs ?? 1000,
      searchBudgetMs: options.searchBudgetMs ?? 4, maxShare: options.maxShare ?? POLL_SHARE, retryMs: options.retryMs ?? 2000,
      retainMs: options.retainMs ?? 180_000, maxRetained: options.maxRetained ?? 200_000, searchOwners: options.searchOwners ?? true,
    };
    this.trace = options.trace;
    this.users = new UserNames(this.io);
    this.cgroups = new CgroupUnits(this.io);
    this.owners = new InodeOwners(this.io, this.opts.searchBudgetMs * 1000);
    this.polls = new Pacer(0, this.opts.maxShare, { burstMs: POLL_BURST_MS, maxMs: MAX_PAUSE_MS });
  }

  /** The first sweep (every socket's owner, however long it takes), then polls on a timer until stop(). */
  start(): void {
    this.ownNs = nsNumber(this.io.readLink('/proc/self/ns/net')) ?? 0;
    this.poll(true);
    this.started = true;
    this.schedule(this.opts.slowMs);
  }

  /** Stops polling; the connects traced since the last poll are named first (the engine's last records ask next). */
  stop(): void {
    this.started = false;
    if (this.trace !== undefined) this.readTrace(this.now());
    this.trace?.close();
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
      attributed: this.counts.attributed, unattributed: this.counts.unattributed, closed_unnamed: this.counts.closedUnnamed, namespaces: this.foreign.size + 1,
      processes_read: this.owners.cost.processesRead, links_read: this.owners.cost.linksRead,
      ...(this.trace ? { traced: this.counts.traced, trace: { ...this.trace.stats(), other_namespace: this.counts.otherNamespace } } : {}),
    };
  }

  /** Schedules the next poll in `ms`, or later when the last poll's cost asks for a longer pause. */
  private schedule(ms: number): void {
    if (this.timer) clearTimeout(this.timer);
    const now = this.now();
    ms = Math.max(ms, this.polls.nextAt - now);
    this.nextAt = now + ms;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.started) return;
      const found = this.poll(false);
      const now = this.now();
      if (found > 0) this.fastUntil = Math.max(this.fastUntil, now + this.opts.fastForMs);
      // Fast only while sockets wait for their owner: new flows schedule their own poll (hintFlow).
      this.schedule(now < this.fastUntil && this.retry.size > 0 ? this.opts.fastMs : this.opts.slowMs);
    }, ms);
    this.timer.unref();
  }

  /**
   * The engine saw a new flow: when an end is an address of this namespace, its socket is looked up at the
   * next poll (TCP; for UDP the next poll dumps the UDP sockets), and polls come soon and often for a while.
   */
  hintFlow(version: number, proto: number, orig: Uint32Array, origPort: number, resp: Uint32Array, respPort: number): void {
    if (proto !== IPPROTO_TCP && proto !== IPPROTO_UDP) return;
    const origHere = this.nsOfAddress(version, orig) === this.ownNs;
    const respHere = this.nsOfAddress(version, resp) === this.ownNs;
    if (!origHere && !respHere) return;
    if (!this.opts.searchOwners) return;
    this.hintedSinceFull = true;
    if (proto === IPPROTO_UDP) this.udpDue = true;
    else {
      // A connection this host opened: the trace names it at the next poll, whenever that is.
      if (origHere && this.trace === undefined) this.lookups.add(version, orig, origPort, resp, respPort);
      // An accepted connection of a known listener is named after the listener's owner until the full
      // dump finds it (one that lasts a second): its own owner is the listener's or a worker's, and
      // searching the server's descriptors for each one would cost more than all the rest at 1,000/s.
      if (respHere && !this.listenPorts.has(respPort)) {
        this.lookups.add(version, resp, respPort, orig, origPort);
        if (this.accepting.size < 64) this.accepting.add(respPort);
      }
    }
    // Soon even when the trace names it: /proc's facts (exe, unit) are read while a short process lives.
    this.hint();
    // Look right after this batch (a timer, never on the packet loop), at most every LOOKUP_SPACING_MS.
    const now = this.now();
    const soonest = Math.max(0, this.lastPoll + LOOKUP_SPACING_MS - now, this.polls.nextAt - now);
    if (this.started && this.nextAt - now > soonest) this.schedule(soonest);
  }

  /**
   * One look at the sockets; returns how many new ones got an owner. A full poll (when its pacer allows)
   * lists every connected socket and the other namespaces' too, and retires the sockets gone.
   */
  poll(initial = false): number {
    const t0 = performance.now();
    const cpu0 = this.io.cpuMs();
    this.lastPoll = this.now();
    this.counts.polls++;
    if (t0 - this.lastCensus >= CENSUS_MS) this.census(t0);
    let attributed = this.readTrace(t0);
    if (!this.opts.searchOwners) {
      this.retireTraced(t0);
      this.counts.busy += this.io.cpuMs() - cpu0;
      return attributed;
    }
    const full = initial || (this.connectedDump.due(t0) && (this.hintedSinceFull || t0 - this.lastFull >= QUIET_FULL_MS));
    if (full) {
      this.hintedSinceFull = false;
      this.lastFull = t0;
    }
    for (const p of this.retry.values()) if (p.byLookup) this.lookups.add(p.entry.version, p.entry.local, p.entry.localPort, p.entry.remote, p.entry.remotePort);
    const { entries: listed, nsOf, current, urgent, foreignMs } = this.listSockets(full, t0);
    const entries = this.adoptTraced(listed);
    this.dropClosed(nsOf);
    // Listeners first: a connected socket is "accepted" when its port is one this namespace listens on.
    entries.sort((a, b) => +(b.state === SocketState.Listen) - +(a.state === SocketState.Listen));
    const owners = initial ? this.owners.searchAll(Uint32Array.from(entries, (e) => e.inode)) : this.search(entries, nsOf, t0, (inode) => full || urgent.has(inode));
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i];
      if (owners[i] > 0 && this.adopt(e, nsOf.get(e.inode)!, owners[i], initial)) attributed++;
      else this.askAgain(e, nsOf.get(e.inode)!, t0);
    }
    if (full) this.retire(current, t0);
    const cost = this.io.cpuMs() - cpu0;
    this.counts.busy += cost;
    // A full poll answers to the whole tables' pacers (the other namespaces' its own), the others to the polls'.
    if (full && !initial) this.connectedDump.ran(t0, cost - foreignMs);
    this.polls.ran(this.now(), full ? 0 : cost);
    return attributed;
  }

  /**
   * The owners of new sockets (a pid each, 0 when not found). The wide search (step 3 of inode-owners.ts)
   * is spent only where `wide` allows (the engine's new flows every poll, sockets only a dump found on full
   * polls: a busy host's other sockets must not starve the flows), and never on an accepted connection: its
   * listener's owner names it when its own is not found.
   */
  private search(entries: SocketEntry[], nsOf: Map<number, number>, now: number, wide: (inode: number) => boolean): Int32Array {
    const query = { inodes: new Uint32Array(entries.length), uids: new Uint32Array(entries.length), wide: new Uint8Array(entries.length) };
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i];
      query.inodes[i] = e.inode;
      query.uids[i] = e.uid;
      const accepted = e.proto === IPPROTO_TCP && e.state !== SocketState.Listen && this.listenerOf(nsOf.get(e.inode)!, e.proto, e.version, e.local, e.localPort) !== undefined;
      query.wide[i] = !accepted && wide(e.inode) ? 1 : 0;
    }
    return entries.length === 0 ? new Int32Array(0) : this.owners.search(query, now);
  }

  /** Connected sockets asked about again by exact lookup and not found: closed, their owner with them. */
  private dropClosed(nsOf: Map<number, number>): void {
    for (const [inode, p] of this.retry) {
      if (!p.byLookup || nsOf.has(inode)) continue;
      this.retry.delete(inode);
      this.counts.closedUnnamed++;
    }
  }

  /**
   * The sockets to look at: every poll, the connected sockets of the engine's new flows (exact lookups), the
   * UDP sockets when a UDP flow was seen, the listeners when a new flow's responder port is not known to
   * listen, both every `sweepMs`; on a full poll, every socket of this namespace and, when their pacer
   * allows, the other namespaces'. Full entries only for inodes not known yet; `current` holds every inode
   * a full poll saw; `urgent`, the inodes of the engine's new flows; `foreignMs`, the time the other
   * namespaces' tables took (paced apart).
   */
  private listSockets(full: boolean, now: number): { entries: SocketEntry[]; nsOf: Map<number, number>; current: Set<number>; urgent: Set<number>; foreignMs: number } {
    const list = new SocketList(this.byInode);
    const udpUrgent = this.udpDue;
    const sweep = full || now - this.lastSweep >= this.opts.sweepMs;
    if (sweep) this.lastSweep = now;
    const listen = sweep || this.listenerDue() ? 1 << SocketState.Listen : 0;
    const udpStates = sweep || this.udpDue ? UDP_ALL_STATES : 0;
    this.udpDue = false;
    for (const [family, proto, states] of [[2, IPPROTO_TCP, listen], [10, IPPROTO_TCP, listen], [2, IPPROTO_UDP, udpStates], [10, IPPROTO_UDP, udpStates]]) {
      if (states !== 0) list.addDump(this.io.socketDump(family, proto, states), proto, this.ownNs, proto === IPPROTO_UDP && udpUrgent);
    }
    for (const version of [4, 6] as const) {
      const requests = this.lookups.take(version);
      if (requests !== undefined) list.addDump(this.io.socketLookup(version === 4 ? 2 : 10, IPPROTO_TCP, requests), IPPROTO_TCP, this.ownNs, true);
    }
    let foreignMs = 0;
    if (full) {
      for (const family of [2, 10]) list.addDump(this.io.socketDump(family, IPPROTO_TCP, TCP_LIVE_STATES & ~(1 << SocketState.Listen)), IPPROTO_TCP, this.ownNs);
      foreignMs = this.readForeign(list, now);
    }
    return { entries: list.entries, nsOf: list.nsOf, current: list.current, urgent: list.urgent, foreignMs };
  }

  /**
   * Other namespaces' sockets, through /proc text, which walks the whole TCP table (every namespace's
   * TIME_WAIT sockets too): when the pacer allows, else those seen last time count as still there.
   * Returns the milliseconds it took.
   */
  private readForeign(list: SocketList, now: number): number {
    if (!this.foreignRead.due(now)) {
      for (const inode of this.foreignSeen) list.current.add(inode);
      return 0;
    }
    const cpu0 = this.io.cpuMs();
    this.foreignSeen.clear();
    for (const [ns, pid] of this.foreign) {
      for (const [file, proto, version, states] of [['tcp', IPPROTO_TCP, 4, TCP_LIVE_STATES], ['tcp6', IPPROTO_TCP, 6, TCP_LIVE_STATES], ['udp', IPPROTO_UDP, 4, UDP_ALL_STATES], ['udp6', IPPROTO_UDP, 6, UDP_ALL_STATES]] as const) {
        const text = this.io.readText(`/proc/${pid}/net/${file}`);
        if (text !== undefined) list.addProcNet(text, proto, version, states, ns, this.foreignSeen);
      }
    }
    const ms = this.io.cpuMs() - cpu0;
    this.foreignRead.ran(now, ms);
    return ms;
  }

  /** Whether a new flow's responder port is not known to listen here (a server just started): list the listeners. */
  private listenerDue(): boolean {
    let due = false;
    for (const port of this.accepting) if (!this.listenPorts.has(port)) due = true;
    this.accepting.clear();
    return due;
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
    this.announce(kind, e.proto, e, facts, initial);
    return true;
  }

  /** Tells detection of a socket and its owner. */
  private announce(kind: SocketKind, proto: number, e: Omit<SocketEntry, 'proto' | 'state' | 'uid' | 'inode'>, facts: ProcessFacts, initial: boolean): void {
    this.options.onSocket?.({
      kind, proto, version: e.version, local: e.local, localPort: e.localPort, remote: e.remote, remotePort: e.remotePort,
      localHost: this.text(e.version, e.local), remoteHost: this.text(e.version, e.remote), process: facts.record, ppid: facts.ppid, initial, ts: this.wallClock(),
    });
  }

  /**
   * The connects the trace told since the last poll: each named at once (for its conn record, kept
   * `retainMs`, or for as long as its socket lives once a socket poll has seen it) and announced.
   */
  private readTrace(now: number): number {
    if (this.trace === undefined) return 0;
    let named = 0;
    for (const c of this.trace.read()) {
      const ns = this.namespaceOfTraced(c);
      if (ns === undefined) {
        this.counts.otherNamespace++;
        continue;
      }
      const facts = this.factsOfTraced(c);
      const owned: Owned = { ns, process: facts.record, connected: connectedKey(IPPROTO_TCP, c.version, c.local, c.localPort, c.remote, c.remotePort) };
      this.connected.set(owned.connected!, owned);
      this.awaitingInode.set(owned.connected!, owned);
      this.traced.push({ owned, at: now });
      this.counts.traced++;
      named++;
      // Every one, gone or not: detection learns and judges the same connects whether /proc was read in time.
      this.announce('connect', IPPROTO_TCP, c, facts, false);
    }
    return named;
  }

  /**
   * The namespace a traced connection belongs to, by its local address (the trace sees every namespace's).
   * A loopback address is every namespace's: the connection is this namespace's only when its process is
   * here (or gone, which cannot be told: then it is taken as this namespace's, see decision 15).
   */
  private namespaceOfTraced(c: TracedConnect): number | undefined {
    const loopback = c.version === 4 ? c.local[0] >>> 24 === 127 : c.local[0] === 0 && c.local[1] === 0 && c.local[2] === 0 && c.local[3] === 1;
    if (!loopback) return this.nsOfAddress(c.version, c.local) ?? this.ownNs;
    if (!this.netnsOf.has(c.pid)) this.netnsOf.set(c.pid, nsNumber(this.io.readLink(`/proc/${c.pid}/ns/net`)));
    const ns = this.netnsOf.get(c.pid);
    return ns === undefined || ns === this.ownNs ? this.ownNs : undefined;
  }

  /**
   * The facts of a traced connection's process: /proc's while it lives under the name it connected with;
   * else (gone, or it has exec'd another program since) what the trace told: pid, name, user, and the unit
   * of its cgroup id (cgroup-units.ts). Its executable and parent are not known then.
   */
  private factsOfTraced(c: TracedConnect): ProcessFacts {
    const live = this.factsOf(c.pid);
    if (live !== undefined && live.record.name === c.name) return live;
    const now = this.now();
    const record: ProcessRecord = { pid: c.pid, name: c.name, user: this.users.nameOf(c.uid, now) };
    const unit = this.cgroups.unitOf(c.cgroupId, now);
    if (unit !== undefined) record.unit = unit;
    return { record, uid: c.uid, ppid: 0, start: 0 };
  }

  /** Sockets a poll listed that the trace already named: indexed by inode (their life is then followed), not searched for. */
  private adoptTraced(entries: SocketEntry[]): SocketEntry[] {
    if (this.awaitingInode.size === 0) return entries;
    return entries.filter((e) => {
      if (e.proto !== IPPROTO_TCP || e.state === SocketState.Listen) return true;
      const key = connectedKey(e.proto, e.version, e.local, e.localPort, e.remote, e.remotePort);
      const owned = this.awaitingInode.get(key);
      if (owned === undefined) return true;
      this.awaitingInode.delete(key);
      this.byInode.set(e.inode, owned);
      this.alive.add(e.inode);
      return false;
    });
  }

  /** Keys a socket for lookups and learns its local address; says what kind of socket it is. */
  private index(e: SocketEntry, ns: number, owned: Owned): SocketKind {
    const listening = e.proto === IPPROTO_TCP ? e.state === SocketState.Listen : e.remotePort === 0 && isZero(e.remote);
    if (!isZero(e.local)) this.learnAddress(e.version, e.local, ns);
    if (listening) {
      owned.bound = this.boundKey(ns, e.proto, e.version, e.local, e.localPort);
      this.bound.set(owned.bound, owned);
      if (e.proto === IPPROTO_TCP && ns === this.ownNs) {
        owned.listenPort = e.localPort;
        this.listenPorts.add(e.localPort);
      }
      return e.proto === IPPROTO_TCP ? 'listen' : 'bind';
    }
    owned.connected = connectedKey(e.proto, e.version, e.local, e.localPort, e.remote, e.remotePort);
    this.connected.set(owned.connected, owned);
    if (e.proto !== IPPROTO_TCP) return 'connect';
    return this.listenerOf(ns, e.proto, e.version, e.local, e.localPort) !== undefined ? 'accept' : 'connect';
  }

  /**
   * A socket whose owner was not found: asked about again at the next polls while it lives (a connected one
   * by exact lookup, the others when their dump lists them again), for `retryMs`, then given up.
   */
  private askAgain(e: SocketEntry, ns: number, now: number): void {
    const pending = this.retry.get(e.inode);
    if (pending === undefined) {
      const byLookup = ns === this.ownNs && e.proto === IPPROTO_TCP && e.state !== SocketState.Listen;
      this.retry.set(e.inode, { entry: e, ns, since: now, byLookup });
      return;
    }
    if (now - pending.since < this.opts.retryMs) return;
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
      if (!this.local4.has(words[0] | 0)) this.local4.set(words[0] | 0, ns);
    } else {
      const key = addressKey(6, words);
      if (!this.local6.has(key)) this.local6.set(key, ns);
      this.local6Tails.add(words[3] | 0);
    }
  }

  private nsOfAddress(version: number, words: Uint32Array): number | undefined {
    if (version === 4) return this.local4.get(words[0] | 0);
    return this.local6Tails.has(words[3] | 0) ? this.local6.get(addressKey(6, words)) : undefined;
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
    const pids = this.io.pids();
    const alive = new Set(pids);
    for (const pid of this.facts.keys()) if (!alive.has(pid)) this.facts.delete(pid);
    for (const pid of this.netnsOf.keys()) if (!alive.has(pid)) this.netnsOf.delete(pid);
    for (const pid of pids) {
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

  /**
   * A process's facts, read once while it lives: a pid reused by another process is read again, which a
   * look at its start time tells, at most once a second (reusing a pid takes pid_max forks; reading the
   * stat of a process with many threads costs tens of microseconds).
   */
  private factsOf(pid: number): ProcessFacts | undefined {
    const now = this.now();
    const known = this.facts.get(pid);
    if (known !== undefined && now - known.checkedAt < FACTS_CHECK_MS) return known.facts;
    if (known !== undefined) {
      const stat = this.io.readText(`/proc/${pid}/stat`);
      if (stat !== undefined && stat.split(') ')[1]?.split(' ')[19] === String(known.facts.start)) {
        known.checkedAt = now;
        return known.facts;
      }
    }
    const facts = readProcessFacts(this.io, pid, this.users, now);
    if (facts === undefined) this.facts.delete(pid);
    else this.facts.set(pid, { facts, checkedAt: now });
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
    this.retireTraced(now);
  }

  /** Traced connections no socket poll adopted (closed within a second, most of them) are forgotten after `retainMs`. */
  private retireTraced(now: number): void {
    let drop = 0;
    while (drop < this.traced.length && (now - this.traced[drop].at > this.opts.retainMs || this.traced.length - drop > this.opts.maxRetained)) {
      const { owned } = this.traced[drop++];
      if (this.awaitingInode.get(owned.connected!) !== owned) continue;
      this.awaitingInode.delete(owned.connected!);
      this.forget(-1, owned);
    }
    if (drop > 0) this.traced.splice(0, drop);
  }

  /** Drops a gone socket's entries, unless its inode (or its key) already belongs to a newer socket. */
  private forget(inode: number, owned: Owned): void {
    if (this.byInode.get(inode) === owned) this.byInode.delete(inode);
    if (owned.connected !== undefined && this.connected.get(owned.connected) === owned) this.connected.delete(owned.connected);
    if (owned.bound !== undefined && this.bound.get(owned.bound) === owned) this.bound.delete(owned.bound);
    if (owned.listenPort !== undefined) this.listenPorts.delete(owned.listenPort);
  }

  private text(version: number, words: Uint32Array): string {
    return version === 4 ? formatIPv4(words[0]) : formatIPv6(words);
  }
}

/** Whether this thread may read other processes' sockets: root, or CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH. */
export function attributionProblem(io: HostIO = realHostIO, euid = process.geteuid?.() ?? 0): string | undefined {
  const none = new Int32Array(0);
  if (io.socketDump(2, IPPROTO_TCP, 1 << SocketState.Listen) === undefined || io.socketOwners(none, new Uint32Array(0), none, 0, new Float64Array(2)) === undefined) {
    return 'the capture addon has no socketDump or socketOwners (rebuild it: npm rebuild loopy-netmon)';
  }
  if (euid === 0) return undefined;
  // This thread's: capabilities are per thread, and an agent that dropped root kept them on its JS thread only.
  const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(io.readText('/proc/thread-self/status') ?? io.readText('/proc/self/status') ?? '');
  const caps = m ? BigInt(`0x${m[1]}`) : 0n;
  const missing = [['CAP_SYS_PTRACE', 19n], ['CAP_DAC_READ_SEARCH', 2n]].filter(([, bit]) => ((caps >> (bit as bigint)) & 1n) === 0n).map(([name]) => name);
  return missing.length === 0 ? undefined : `running as uid ${euid} without ${missing.join(' and ')}: other processes' sockets cannot be read (see contrib/loopy-agent.service)`;
}

