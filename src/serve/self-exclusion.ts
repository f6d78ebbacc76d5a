/**
 * Not counting its own traffic. The agent's own sessions (UIs connected to its listening ports, its own TLS
 * or SSH clients) would otherwise show up in the very statistics they carry, and grow with every viewer.
 * They are described here as a set of excluded ports and 4-tuples and turned into one BPF expression that
 * the capture combines with the user's filter: `(USER) and not (EXCLUSIONS)`. The kernel drops those
 * packets before they are copied to the ring, so they cost nothing and are counted nowhere.
 */
import { isIP } from 'node:net';

export type Proto = 'tcp' | 'udp';

/** Every session to one of our listening sockets (on `hosts`, or on any local address). */
export interface ExcludedListener {
  kind: 'listen';
  proto: Proto;
  port: number;
  hosts?: readonly string[];
}

/** One connection of ours, both directions. */
export interface ExcludedSession {
  kind: 'session';
  proto: Proto;
  localHost: string;
  localPort: number;
  remoteHost: string;
  remotePort: number;
}

export type ExcludedTraffic = ExcludedListener | ExcludedSession;

function checkPort(port: number): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`not a port: ${port}`);
}

function checkHost(host: string): void {
  // Only literal addresses: a name would make libpcap resolve it, and a bad string would break the filter.
  if (isIP(host) === 0) throw new RangeError(`not an IP address: ${host}`);
}

function end(dir: 'src' | 'dst', host: string | undefined, port: number): string {
  return host === undefined ? `${dir} port ${port}` : `${dir} host ${host} and ${dir} port ${port}`;
}

/** The BPF expression of one entry (without the proto's parentheses around the whole). */
export function exclusionExpression(e: ExcludedTraffic): string {
  if (e.kind === 'listen') {
    checkPort(e.port);
    const hosts = e.hosts && e.hosts.length > 0 ? e.hosts : [undefined];
    const sides = hosts.map((h) => {
      if (h !== undefined) checkHost(h);
      return `(${end('src', h, e.port)}) or (${end('dst', h, e.port)})`;
    });
    return `${e.proto} and (${sides.join(' or ')})`;
  }
  checkPort(e.localPort);
  checkPort(e.remotePort);
  checkHost(e.localHost);
  checkHost(e.remoteHost);
  const out = `${end('src', e.localHost, e.localPort)} and ${end('dst', e.remoteHost, e.remotePort)}`;
  const back = `${end('src', e.remoteHost, e.remotePort)} and ${end('dst', e.localHost, e.localPort)}`;
  return `${e.proto} and ((${out}) or (${back}))`;
}

/** `(USER) and not (EXCLUSIONS)`, either side optional; undefined when both are empty. */
export function combineFilters(user: string | undefined, exclusions: string | undefined): string | undefined {
  const u = user?.trim() || undefined;
  if (!exclusions) return u;
  return u ? `(${u}) and not (${exclusions})` : `not (${exclusions})`;
}

/**
 * Sessions the kernel filter holds at most: libpcap's optimiser grows faster than the expression (73 ms to
 * compile 64 sessions, 1.8 s for 260, each time one comes or goes), and the kernel takes 4,096 BPF
 * instructions. Past it, the newest sessions are counted in the traffic until older ones end.
 */
export const MAX_EXCLUDED_SESSIONS = 64;

/** The set of excluded traffic; listeners hear when it changes so the capture filter is re-applied. */
export class SelfExclusion {
  /** Entries by key, with how many holders added each (two bridges over one SSH connection: one entry). */
  private readonly entries = new Map<string, { entry: ExcludedTraffic; holders: number }>();
  private readonly listeners: Array<() => void> = [];

  constructor(private readonly maxSessions = MAX_EXCLUDED_SESSIONS) {}

  /** Adds an entry (validated at once: a bad one throws RangeError); returns a function that removes it. */
  add(entry: ExcludedTraffic): () => void {
    exclusionExpression(entry);
    const key = JSON.stringify(entry);
    const held = this.entries.get(key);
    if (held) held.holders++;
    else {
      this.entries.set(key, { entry, holders: 1 });
      this.changed();
    }
    let removed = false;
    return () => {
      const h = this.entries.get(key);
      if (removed || !h) return;
      removed = true;
      if (--h.holders > 0) return;
      this.entries.delete(key);
      this.changed();
    };
  }

  list(): ExcludedTraffic[] {
    return [...this.entries.values()].map((h) => h.entry);
  }

  /** Sessions left in the traffic because the filter holds MAX_EXCLUDED_SESSIONS already. */
  get sessionsOverflowing(): number {
    return Math.max(0, this.list().filter((e) => e.kind === 'session').length - this.maxSessions);
  }

  /** One expression for the whole set (the oldest sessions up to the cap), or undefined when it is empty. */
  expression(): string | undefined {
    let sessions = 0;
    const kept = this.list().filter((e) => e.kind !== 'session' || ++sessions <= this.maxSessions);
    if (kept.length === 0) return undefined;
    return kept.map((e) => `(${exclusionExpression(e)})`).join(' or ');
  }

  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  private changed(): void {
    for (const l of this.listeners) l();
  }
}
