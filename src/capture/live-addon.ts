/**
 * Loads the capture addon (native/: prebuilt in packages, else built by node-gyp at install time) and
 * describes its API.
 * Loading is lazy: offline analysis never touches the addon, so a machine without libpcap-dev can still
 * read capture files. When live capture is asked for and the addon is missing, the error is one line that
 * says what to install.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Options of `openLive`; every field has a default in the addon. */
export interface LiveOpenOptions {
  /** Bytes kept of each packet (default and maximum 262144). */
  snaplen?: number;
  /** Kernel ring size (default 64 MiB): what absorbs bursts while JS is busy. */
  bufferBytes?: number;
  /** How long the kernel may hold a partly filled block before handing it over (default 200 ms). */
  timeoutMs?: number;
  /** Promiscuous mode (default false: a server monitor wants its own traffic). */
  promisc?: boolean;
  /** Kernel filter in tcpdump syntax. */
  filter?: string;
  /** LINKTYPE_* to ask for, e.g. 276 (SLL2) on "any"; default: the device's own. */
  linkType?: number;
  /** Packet bytes per batch before it is handed over early (default 2 MiB). */
  batchBytes?: number;
  /** Batches waiting for JS before the capture thread waits (default 4). */
  maxInFlight?: number;
  /**
   * libpcap's immediate mode (default false). On Linux it switches from TPACKET_V3 ring blocks to TPACKET_V2
   * with a wakeup per packet; the tap-modes benchmark measures the cost. Leave it off outside that bench.
   */
  immediate?: boolean;
  /**
   * Hand the batch to JS once it holds this many packets (1 = one JS call per packet, as node_pcap- and
   * cap-style libraries do). Default 0: no limit, a batch ends by bytes, block or timeout.
   */
  packetsPerCall?: number;
  /** Batches go into these slots, lent to JS until `releaseSlot` (see BatchPool); onBatch then gets (slot, count). */
  pool?: BatchPoolMemory;
  /**
   * Members of a PACKET_FANOUT group sharing this interface's packets by address pair (each pair, both
   * directions, to one member); 0 or 1: no fanout.
   */
  fanoutShards?: number;
  /** The group to join (the first member's `fanoutGroup`; 0 is a group); absent: a new group with a unique id. */
  fanoutGroup?: number;
}

/**
 * The memory of a pool of batch slots, allocated once by JS: slot i's packet bytes at i * slotBytes in
 * `data`, its rows (PacketBatch.meta's layout, META_STRIDE words a packet) at i * slotRows * META_STRIDE
 * words in `rows`, its timestamps (float seconds) at i * slotRows in `ts`. Every row carries `iface`.
 */
export interface BatchPoolMemory {
  data: ArrayBuffer;
  rows: ArrayBuffer;
  ts: ArrayBuffer;
  slots: number;
  slotBytes: number;
  slotRows: number;
  iface: number;
}

/** An open live capture, as returned by `openLive`. */
export interface LiveHandle {
  readonly device: string;
  /** LINKTYPE_* number (1 Ethernet, 113 SLL, 276 SLL2, 101 raw IP...). */
  readonly linkType: number;
  readonly snaplen: number;
  /** libpcap's activation warning (e.g. promiscuous mode not supported), or null. */
  readonly warning: string | null;
  /** The PACKET_FANOUT group the handle is in (absent: none; 0 is a group, the kernel's first unique id after boot). */
  readonly fanoutGroup?: number;
}

/** Counters from pcap_stats; `addonDropped` counts packets lost because a batch buffer could not be allocated. */
export interface CaptureCounters {
  received: number;
  dropped: number;
  ifDropped: number;
  addonDropped: number;
}

export interface FilterProgram {
  readonly expression: string;
  readonly linkType: number;
  readonly snaplen: number;
}

export interface DeviceAddress {
  family: 'IPv4' | 'IPv6';
  addr: string;
  netmask?: string;
  broadaddr?: string;
  dstaddr?: string;
}

export interface DeviceInfo {
  name: string;
  description: string | null;
  flags: number;
  loopback: boolean;
  up: boolean;
  running: boolean;
  addresses: DeviceAddress[];
}

/** Per-packet words in the `meta` array the addon hands to `onBatch`. */
export const LIVE_META_WORDS = 5;
export const LIVE_META_OFFSET = 0;
export const LIVE_META_CAPLEN = 1;
export const LIVE_META_WIRELEN = 2;
export const LIVE_META_TS_SEC = 3;
export const LIVE_META_TS_USEC = 4;

/** The functions of loopy_capture.node. Tests pass fakes of this shape. */
export interface CaptureAddon {
  /** Opens with `options.pool`: each batch is a slot of it, lent to JS until `releaseSlot`. */
  openLive(
    device: string,
    options: LiveOpenOptions & { pool: BatchPoolMemory },
    onBatch: (slot: number, count: number) => void,
    onError: (message: string) => void,
  ): LiveHandle;
  /** Opens without a pool: each batch is fresh memory (data, 5-word meta) that JS owns. */
  openLive(
    device: string,
    options: LiveOpenOptions,
    onBatch: (data: Buffer, meta: Uint32Array, count: number) => void,
    onError: (message: string) => void,
  ): LiveHandle;
  /** JS is done with the batch in `slot` of a pooled handle; a no-op once closed, throws if not lent. */
  releaseSlot(handle: LiveHandle, slot: number): void;
  /**
   * Gives back to the kernel the batch pages no batch has needed for `idleSeconds`: all of a free slot unused
   * that long, and in a free slot still in use, what lies beyond its largest batch of that time. Returns the
   * bytes given back (0 once closed).
   */
  trimIdleSlots(handle: LiveHandle, idleSeconds: number): number;
  stats(handle: LiveHandle): CaptureCounters;
  /** Stops and joins the capture thread and closes libpcap; safe to call twice. */
  close(handle: LiveHandle): void;
  datalink(handle: LiveHandle): number;
  /** While paused nothing is read: the kernel ring absorbs, then drops and counts. */
  setPaused(handle: LiveHandle, paused: boolean): void;
  /** Replaces the kernel filter of an open handle ('' for none); a bad expression throws. */
  setFilter(handle: LiveHandle, expression: string): void;
  /**
   * Compiles as `tcpdump -r` would for a file of this LINKTYPE_*, snaplen and byte order (default: this
   * machine's). Throws one line with libpcap's message (err.code LOOPY_BAD_FILTER) for a bad expression.
   */
  compileFilter(expression: string, linkType: number, snaplen: number, bigEndian?: boolean): FilterProgram;
  /**
   * One call per batch: out[i] = 1 when packet i matches. With ifaceIndex/ifaceMask only packets whose
   * interface has a non-zero mask entry are evaluated; the others keep their `out` value.
   */
  filterBatch(
    program: FilterProgram,
    buffer: Uint8Array,
    meta: Uint32Array,
    count: number,
    stride: number,
    offsetIndex: number,
    caplenIndex: number,
    wirelenIndex: number,
    out?: Uint8Array,
    ifaceIndex?: number,
    ifaceMask?: Uint8Array,
  ): Uint8Array;
  listDevices(): DeviceInfo[];
  libVersion(): string;
  /** mallopt(M_MMAP_THRESHOLD, bytes): blocks this big are mapped apart and unmapped when freed; false without glibc. */
  tuneMemory?(bytes: number): boolean;
  releasePages?(view: ArrayBufferView, fromByte: number, toByte: number): number;
  /** malloc_trim(0): the C heap's free pages back to the system; false when nothing was released (or no glibc). */
  trimMemory?(): boolean;
  /** SO_PEERCRED of a connected unix socket's descriptor, or null. */
  peerCredentials?(fd: number): PeerCredentials | null;
  /**
   * The sockets of this network namespace (sock_diag netlink): 48 bytes each, see native/src/sock-diag.c.
   * `states` is a mask of 1 << TCP_* state numbers. Throws (code LOOPY_SOCK_DIAG) when netlink refuses.
   */
  socketDump?(family: number, protocol: number, states: number): Buffer;
  /**
   * Exact lookups of connected sockets (36-byte requests: local address, remote address, 16 bytes each,
   * then local and remote port as u16 in host order); the records of those found, as socketDump's.
   */
  socketLookup?(family: number, protocol: number, requests: Buffer): Buffer;
  /**
   * Which of `pids` (tried in order) hold the socket `inodes`, from /proc/PID/fd (native/src/socket-owners.c):
   * owners[i] gets the first holder of inodes[i] (entries already set are skipped); stops when all are found
   * or after `budgetUs` (0: none). Returns the pids gone through; counts += [processes, links] read.
   */
  socketOwners?(pids: Int32Array, inodes: Uint32Array, owners: Int32Array, budgetUs: number, counts: Float64Array): number;
  /** The calling thread's CPU time in ms (CLOCK_THREAD_CPUTIME_ID), or undefined when the clock is refused. */
  threadCpuMs?(): number | undefined;
  /** Names the calling thread (its /proc comm, cut to 15 bytes): true when the system took the name. */
  nameThread?(name: string): boolean;
  /**
   * The connect trace (native/src/connect-trace.c): an eBPF program on sock:inet_sock_set_state and its
   * ring buffer. Throws (code LOOPY_CONNECT_TRACE) naming the step the kernel refused (CAP_BPF and
   * CAP_PERFMON, or root, are needed to open; nothing to read).
   */
  connectTraceOpen?(ringBytes: number): ConnectTraceHandle;
  /** Joined connects into `out` (72-byte records, see connect-trace.c); counts += [events, joined, unjoined, evicted]. */
  connectTraceRead?(handle: ConnectTraceHandle, out: Buffer, counts: Float64Array): number;
  connectTraceClose?(handle: ConnectTraceHandle): void;
  /** prctl(PR_SET_KEEPCAPS, 1) on the calling thread: its permitted capabilities outlive the next setuid from root. */
  keepCapabilities?(): boolean;
  /** After that setuid: the calling thread's permitted and effective sets become `caps` (those still permitted); returns those it lacked. */
  raiseKeptCapabilities?(caps: number[]): number[];
}

/** An open connect trace (an external of the addon's). */
export type ConnectTraceHandle = { readonly connectTrace: unique symbol };

/** The process at the other end of a unix socket, as the kernel saw it connect. */
export interface PeerCredentials {
  pid: number;
  uid: number;
  gid: number;
}

/** Thrown when live capture or a filter needs the addon and it is not there. */
export class CaptureAddonMissingError extends Error {
  readonly code = 'LOOPY_CAPTURE_ADDON_MISSING';
}

const here = dirname(fileURLToPath(import.meta.url));
/** src/capture or dist/capture: the project root is two levels up. */
const projectRoot = resolve(here, '..', '..');
const require = createRequire(import.meta.url);

/**
 * Where the addon is looked for, in order: $LOOPY_CAPTURE_ADDON; the prebuild for this platform, architecture
 * and libc (prebuilds/linux-ARCH/, shipped in packages: native/prebuild.mjs), as node-gyp-build picks it; the
 * build from source, native/build/Release/loopy_capture.node.
 */
export function captureAddonCandidates(): string[] {
  if (process.env.LOOPY_CAPTURE_ADDON) return [process.env.LOOPY_CAPTURE_ADDON];
  const built = join(projectRoot, 'native', 'build', 'Release', 'loopy_capture.node');
  return [prebuiltAddonPath(), built].filter((p): p is string => p !== undefined);
}

function prebuiltAddonPath(): string | undefined {
  try {
    return (require('node-gyp-build') as { path(dir: string): string }).path(projectRoot);
  } catch {
    return undefined; // no prebuild for this machine
  }
}

/** The addon file that will be used: the first candidate that exists (else the build from source's path). */
export function captureAddonPath(): string {
  const candidates = captureAddonCandidates();
  return candidates.find((p) => existsSync(p)) ?? candidates[candidates.length - 1];
}

const INSTALL_HINT = 'apt-get install -y libpcap-dev build-essential python3, then npm rebuild loopy-netmon';

let loaded: CaptureAddon | undefined;
let problem: string | undefined;
let tried = false;

/** Loads the first candidate that loads; a prebuild that does not (e.g. no libpcap0.8) gives way to the build. */
function tryLoad(): void {
  if (tried) return;
  tried = true;
  const failures: string[] = [];
  for (const path of captureAddonCandidates().filter((p) => existsSync(p))) {
    try {
      loaded = require(path) as CaptureAddon;
      return;
    } catch (err) {
      failures.push(`${path}: ${String((err as Error).message ?? err).split('\n')[0]}`);
    }
  }
  problem = failures.length
    ? `live capture needs the capture addon, which did not load (${failures.join('; ')}): ${INSTALL_HINT}`
    : `live capture needs the capture addon, which was not built (no ${captureAddonPath()}): ${INSTALL_HINT}`;
}

/** The addon, or undefined when it is not built or does not load. */
export function tryLoadCaptureAddon(): CaptureAddon | undefined {
  tryLoad();
  return loaded;
}

/** Why the addon cannot be used (one line with what to install), or undefined when it loads. */
export function captureAddonProblem(): string | undefined {
  tryLoad();
  return problem;
}

/** The addon; throws CaptureAddonMissingError (one line saying what to install) when it is unavailable. */
export function loadCaptureAddon(): CaptureAddon {
  tryLoad();
  if (!loaded) throw new CaptureAddonMissingError(problem ?? 'capture addon unavailable');
  return loaded;
}

/**
 * Gives the C heap's free pages back to the system (glibc's malloc_trim), through the addon when it is
 * built: after a burst, freed batch and output buffers would otherwise keep the process at its peak RSS.
 * False when nothing was released or the addon is not there.
 */
export function trimProcessMemory(): boolean {
  return tryLoadCaptureAddon()?.trimMemory?.() ?? false;
}

/**
 * Makes blocks of `bytes` or more (batch columns, evidence chunks, output buffers) their own mappings, given
 * back to the system as soon as they are freed, instead of resident heap between trims: a long-running
 * process's RSS then follows what it holds. False when the addon is not there.
 */
export function limitRetainedMemory(bytes = 256 * 1024): boolean {
  return tryLoadCaptureAddon()?.tuneMemory?.(bytes) ?? false;
}

/**
 * Gives the pages lying wholly inside bytes [from, to) of a typed array back to the system (madvise
 * MADV_DONTNEED): they read as zeros afterwards and cost nothing until written. Returns the bytes released;
 * 0 without the addon (the memory is simply kept).
 */
export function releasePages(view: ArrayBufferView, fromByte: number, toByte: number): number {
  return tryLoadCaptureAddon()?.releasePages?.(view, fromByte, toByte) ?? 0;
}

/**
 * Who is at the other end of a connected unix socket (SO_PEERCRED, through the addon), or undefined when it
 * cannot be told (no addon, or not a unix socket). `socket` is a net.Socket: its descriptor is read from
 * Node's handle, which has no public accessor.
 */
export function peerCredentials(socket: unknown): PeerCredentials | undefined {
  const fd = (socket as { _handle?: { fd?: unknown } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) return undefined;
  return tryLoadCaptureAddon()?.peerCredentials?.(fd) ?? undefined;
}
