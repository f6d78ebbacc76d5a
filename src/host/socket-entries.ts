/**
 * Sockets as the kernel lists them, parsed into reused entries: from a sock_diag dump (this network
 * namespace, through the capture addon) or from the text of /proc/PID/net/{tcp,tcp6,udp,udp6} (another
 * namespace, read through one of its processes). Addresses are kept as the flow table keeps them: four
 * big-endian words, IPv4 in word 0; an IPv4-mapped IPv6 socket (a dual-stack server's) becomes IPv4, as its
 * packets are. Never throws on odd input: a line or record it cannot read is skipped.
 */

/** TCP_* state numbers (include/net/tcp_states.h); UDP sockets use ESTABLISHED (connected) and CLOSE. */
export const SocketState = { Established: 1, SynSent: 2, SynRecv: 3, TimeWait: 6, Close: 7, Listen: 10 } as const;

/** Every TCP state but TIME_WAIT and CLOSE: those sockets belong to no process any more. */
export const TCP_LIVE_STATES = 0xfff & ~(1 << SocketState.TimeWait) & ~(1 << SocketState.Close);
export const UDP_ALL_STATES = 0xfff;

export interface SocketEntry {
  proto: number;
  version: 4 | 6;
  state: number;
  local: Uint32Array;
  localPort: number;
  remote: Uint32Array;
  remotePort: number;
  uid: number;
  inode: number;
}

const DUMP_RECORD = 48;

function fillWords(out: Uint32Array, buf: Buffer, at: number): void {
  for (let i = 0; i < 4; i++) out[i] = buf.readUInt32BE(at + 4 * i);
}

/** An IPv6 socket whose addresses are IPv4-mapped (::ffff:a.b.c.d) is an IPv4 one: its packets are. */
function normalise(e: SocketEntry): SocketEntry {
  if (e.version === 6 && isMapped(e.local) && (isMapped(e.remote) || isZero(e.remote))) {
    e.version = 4;
    e.local[0] = e.local[3];
    e.local[3] = 0;
    e.local[2] = 0;
    e.remote[0] = e.remote[3];
    e.remote[3] = 0;
    e.remote[2] = 0;
  }
  return e;
}

const isMapped = (w: Uint32Array) => w[0] === 0 && w[1] === 0 && w[2] === 0xffff;
export const isZero = (w: Uint32Array) => w[0] === 0 && w[1] === 0 && w[2] === 0 && w[3] === 0;

function entry(proto: number): SocketEntry {
  return { proto, version: 4, state: 0, local: new Uint32Array(4), localPort: 0, remote: new Uint32Array(4), remotePort: 0, uid: 0, inode: 0 };
}

/**
 * The records of `socketDump` (native/src/sock-diag.c); sockets without an inode (no owner left) are skipped,
 * and so are those `known` says were parsed before (only their inode is read).
 */
export function parseSocketDump(buf: Buffer, proto: number, known: (inode: number) => boolean, out: SocketEntry[]): void {
  for (let at = 0; at + DUMP_RECORD <= buf.length; at += DUMP_RECORD) {
    const inode = buf.readUInt32LE(at + 44);
    if (inode === 0 || known(inode)) continue;
    const e = entry(proto);
    e.version = buf[at] === 10 ? 6 : 4;
    e.state = buf[at + 1];
    e.localPort = buf.readUInt16LE(at + 2);
    e.remotePort = buf.readUInt16LE(at + 4);
    fillWords(e.local, buf, at + 8);
    fillWords(e.remote, buf, at + 24);
    if (e.version === 4) {
      e.local.fill(0, 1);
      e.remote.fill(0, 1);
    }
    e.uid = buf.readUInt32LE(at + 40);
    e.inode = inode;
    out.push(normalise(e));
  }
}

/** "0100007F:1F90" → words and port: each 32-bit group is printed as the host-order number (little-endian here). */
function readHexEndpoint(text: string, words: Uint32Array): number {
  const colon = text.indexOf(':');
  const hex = text.slice(0, colon);
  for (let i = 0; i < hex.length / 8; i++) {
    const n = parseInt(hex.slice(8 * i, 8 * i + 8), 16);
    words[i] = (((n & 0xff) << 24) | ((n & 0xff00) << 8) | ((n >>> 8) & 0xff00) | (n >>> 24)) >>> 0;
  }
  return parseInt(text.slice(colon + 1), 16);
}

/**
 * /proc/PID/net/tcp, tcp6, udp or udp6 (`version` says which), live sockets only (`states` as for a dump).
 * Columns: sl local rem st tx:rx tr:when retrnsmt uid timeout inode …
 */
export function parseProcNet(text: string, proto: number, version: 4 | 6, states: number, known: (inode: number) => boolean, out: SocketEntry[]): void {
  const lines = text.split('\n');
  for (let i = 1; i < lines.length; i++) {
    const f = lines[i].trim().split(/\s+/);
    if (f.length < 10) continue;
    const state = parseInt(f[3], 16);
    const inode = Number(f[9]);
    if (!((states >> state) & 1) || !(inode > 0) || known(inode)) continue;
    const e = entry(proto);
    e.version = version;
    e.state = state;
    e.localPort = readHexEndpoint(f[1], e.local);
    e.remotePort = readHexEndpoint(f[2], e.remote);
    e.uid = Number(f[7]);
    e.inode = inode;
    out.push(normalise(e));
  }
}

/**
 * The sockets one poll lists: entries for the inodes not known before (`known`: those already owned), the
 * namespace of each, and every inode seen (what is missing from a full listing has gone).
 */
export class SocketList {
  readonly entries: SocketEntry[] = [];
  readonly nsOf = new Map<number, number>();
  readonly current = new Set<number>();
  /** Inodes of the entries added as urgent (the engine's new flows). */
  readonly urgent = new Set<number>();
  private readonly isNew = (inode: number) => {
    this.current.add(inode);
    return this.known.has(inode) || this.nsOf.has(inode);
  };

  constructor(private readonly known: { has(inode: number): boolean }) {}

  /** Records of socketDump or socketLookup (undefined: the addon has none). */
  addDump(buf: Buffer | undefined, proto: number, ns: number, urgent = false): void {
    if (buf === undefined) return;
    const from = this.entries.length;
    parseSocketDump(buf, proto, this.isNew, this.entries);
    this.take(ns, from);
    if (urgent) for (let i = from; i < this.entries.length; i++) this.urgent.add(this.entries[i].inode);
  }

  /** Lines of /proc/PID/net/*, another namespace's; their inodes also go to `seenThere`. */
  addProcNet(text: string, proto: number, version: 4 | 6, states: number, ns: number, seenThere: Set<number>): void {
    const from = this.entries.length;
    parseProcNet(text, proto, version, states, (inode) => {
      seenThere.add(inode);
      return this.isNew(inode);
    }, this.entries);
    this.take(ns, from);
  }

  private take(ns: number, from: number): void {
    for (let i = from; i < this.entries.length; i++) this.nsOf.set(this.entries[i].inode, ns);
  }
}

/** An address as a lookup key: IPv4 as its number, IPv6 as its four words. */
export function addressKey(version: number, words: Uint32Array): string {
  return version === 4 ? String(words[0]) : `${words[0]}:${words[1]}:${words[2]}:${words[3]}`;
}

/** The key of a connected socket or of a flow's end seen from that end: protocol, local then remote. */
export function connectedKey(proto: number, version: number, local: Uint32Array, localPort: number, remote: Uint32Array, remotePort: number): string {
  return `${proto}|${addressKey(version, local)}|${localPort}|${addressKey(version, remote)}|${remotePort}`;
}

/** The local addresses of a namespace from /proc/PID/net/fib_trie: each "|-- ADDR" followed by "/32 host LOCAL". */
export function localIPv4(fibTrie: string): number[] {
  const out = new Set<number>();
  let last: number | undefined;
  for (const line of fibTrie.split('\n')) {
    const m = /\|-- (\d+)\.(\d+)\.(\d+)\.(\d+)/.exec(line);
    if (m) last = ((Number(m[1]) << 24) | (Number(m[2]) << 16) | (Number(m[3]) << 8) | Number(m[4])) >>> 0;
    else if (last !== undefined && line.includes('/32 host LOCAL')) out.add(last);
  }
  return [...out];
}

/** The IPv6 addresses of a namespace from /proc/PID/net/if_inet6 (32 hex digits, network order). */
export function localIPv6(ifInet6: string): Uint32Array[] {
  const out: Uint32Array[] = [];
  for (const line of ifInet6.split('\n')) {
    const hex = line.slice(0, 32);
    if (!/^[0-9a-f]{32}$/.test(hex)) continue;
    out.push(Uint32Array.from([0, 1, 2, 3], (i) => parseInt(hex.slice(8 * i, 8 * i + 8), 16)));
  }
  return out;
}
