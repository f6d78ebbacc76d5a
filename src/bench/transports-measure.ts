/**
 * The measurements of the transports benchmark, each against an AgentClient so that the three transports
 * are timed by the same code: connection setup, sequential and concurrent request round trips, one large
 * reply, per-second stats delivery, and CPU split into our side and the agent's side from /proc.
 */
import { readFileSync, readdirSync } from 'node:fs';
import type { AgentClient, ConnectionState } from '../client/agent-client.js';

export interface Summary {
  median: number;
  p99: number;
  n: number;
}

export function summarize(values: readonly number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => (sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]);
  return { median: at(0.5), p99: at(0.99), n: sorted.length };
}

/** Resolves once the client is connected (its hello answered); rejects when it gives up or times out. */
export function whenConnected(client: AgentClient, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = (s: ConnectionState): boolean => {
      if (s.state === 'connected') return finish();
      if (s.state === 'disconnected' && s.retryInMs === -1) return finish(new Error(s.error));
      if (s.state === 'closed') return finish(new Error(`${client.target}: closed before connecting`));
      return false;
    };
    const timer = setTimeout(() => finish(new Error(`${client.target}: not connected within ${timeoutMs} ms`)), timeoutMs);
    const off = client.onStateChange(check);
    function finish(err?: Error): true {
      clearTimeout(timer);
      off();
      if (err) reject(err);
      else resolve();
      return true;
    }
    check(client.connectionState());
  });
}

/**
 * Setup: `runs` fresh connections one after another, each timed from connectAgent() to the hello answered.
 * `open` must return a client that does not reconnect, so a failure is reported rather than retried.
 */
export async function measureSetup(open: () => AgentClient, runs: number, timeoutMs: number): Promise<Summary> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const client = open();
    try {
      await whenConnected(client, timeoutMs);
      times.push(performance.now() - t0);
    } finally {
      client.close();
    }
  }
  return summarize(times);
}

/** Sequential round trips of `status` (the cheapest request that crosses the agent's loop), in ms each. */
export async function measureLatency(client: AgentClient, runs: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await client.status();
    times.push(performance.now() - t0);
  }
  return times;
}

/** `total` status requests with `inFlight` outstanding at any moment: requests per second. */
export async function measureBurst(client: AgentClient, total: number, inFlight: number): Promise<{ seconds: number; perSecond: number }> {
  let sent = 0;
  const worker = async () => {
    while (sent < total) {
      sent++;
      await client.status();
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: inFlight }, worker));
  const seconds = (performance.now() - t0) / 1000;
  return { seconds, perSecond: total / seconds };
}

export interface LargeReply {
  /** Each reply's time, from the request to the parsed rows, in ms. */
  times: number[];
  /** The last reply, so the caller can size it once its CPU window is closed. */
  last: unknown[];
}

/** The newest `limit` closed flows, `runs` times. */
export async function measureLargeReply(client: AgentClient, limit: number, runs: number): Promise<LargeReply> {
  const times: number[] = [];
  let last: unknown[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    last = await client.flows({ since: 0, until: Date.now() / 1000 + 86_400, limit });
    times.push(performance.now() - t0);
  }
  return { times, last };
}

/** Bytes of rows as JSON: what the agent serialised, less the JSON-RPC envelope (~40 bytes). */
export function jsonBytes(rows: unknown[]): number {
  return Buffer.byteLength(JSON.stringify(rows));
}

/**
 * Stats delivery delay in ms: from the second's roll on the agent (the record's ts, its wall clock) to this
 * process receiving it. Both clocks are this machine's.
 */
export function collectStatsDelay(client: AgentClient): { reset(): void; stop(): number[] } {
  let delays: number[] = [];
  const off = client.subscribe(['stats'], (event) => {
    if (event.topic === 'stats') delays.push(Date.now() - event.record.ts * 1000);
  });
  return {
    reset() {
      delays = [];
    },
    stop() {
      off();
      return delays;
    },
  };
}

// ---- CPU from /proc -------------------------------------------------------------------------------------

const CLOCK_TICKS = 100; // USER_HZ, the unit of /proc/PID/stat times on Linux (getconf CLK_TCK)

interface ProcEntry {
  ppid: number;
  /** utime + stime, in ticks. */
  own: number;
  /** cutime + cstime, in ticks: children already reaped (an ssh client of an earlier connection). */
  reaped: number;
}

function procTable(): Map<number, ProcEntry> {
  const table = new Map<number, ProcEntry>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // After the command name (in parentheses, may hold spaces): state ppid ... utime(11) stime(12) cutime(13) cstime(14).
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      table.set(Number(name), { ppid: Number(f[1]), own: Number(f[11]) + Number(f[12]), reaped: Number(f[13]) + Number(f[14]) });
    } catch {
      // The process exited while we listed /proc: its time is in its parent's cutime once reaped.
    }
  }
  return table;
}

/** CPU seconds of `root` and its descendants (live ones, and reaped ones through their parents), leaving out `skip` subtrees. */
function treeSeconds(table: Map<number, ProcEntry>, root: number, skip: ReadonlySet<number>): number {
  const children = new Map<number, number[]>();
  for (const [pid, e] of table) {
    const list = children.get(e.ppid);
    if (list) list.push(pid);
    else children.set(e.ppid, [pid]);
  }
  let ticks = 0;
  const stack = [root];
  while (stack.length > 0) {
    const pid = stack.pop()!;
    if (skip.has(pid)) continue;
    const e = table.get(pid);
    if (e) ticks += e.own + e.reaped;
    stack.push(...(children.get(pid) ?? []));
  }
  return ticks / CLOCK_TICKS;
}

export interface CpuReading {
  /** This process (exact, from process.cpuUsage) plus its children other than the servers: the ssh client. */
  client: number;
  /** The agent, plus sshd and what it runs (the bridge) when sshd is among the server roots. */
  server: number;
  /** `server` per root, in the order given. */
  perRoot: number[];
  at: number;
}

/**
 * A CPU reading. `serverRoots` are the agent (and sshd), children of this process; everything else under
 * this process is the client. Our own time comes from process.cpuUsage (µs rather than 10 ms ticks).
 */
export function readCpu(serverRoots: readonly number[]): CpuReading {
  const table = procTable();
  const usage = process.cpuUsage();
  const ownTicks = table.get(process.pid)?.own ?? 0;
  const children = treeSeconds(table, process.pid, new Set(serverRoots)) - ownTicks / CLOCK_TICKS;
  const perRoot = serverRoots.map((root) => treeSeconds(table, root, new Set()));
  const server = perRoot.reduce((a, b) => a + b, 0);
  return { client: (usage.user + usage.system) / 1e6 + children, server, perRoot, at: performance.now() };
}

export interface CpuSpent {
  client: number;
  /** The first server root (the agent), less its idle cost. */
  agent: number;
  /** The other server roots (sshd and its sessions, the bridge). */
  relay: number;
  seconds: number;
}

export const NO_CPU: CpuSpent = { client: 0, agent: 0, relay: 0, seconds: 0 };

export function addCpu(a: CpuSpent, b: CpuSpent): CpuSpent {
  return { client: a.client + b.client, agent: a.agent + b.agent, relay: a.relay + b.relay, seconds: a.seconds + b.seconds };
}

/** CPU seconds spent between two readings; `agentBaseline` (CPU seconds per second of the agent idle) is taken off. */
export function cpuBetween(a: CpuReading, b: CpuReading, agentBaseline: number): CpuSpent {
  const seconds = (b.at - a.at) / 1000;
  const agent = (b.perRoot[0] ?? 0) - (a.perRoot[0] ?? 0) - agentBaseline * seconds;
  const relay = b.server - a.server - ((b.perRoot[0] ?? 0) - (a.perRoot[0] ?? 0));
  return { client: b.client - a.client, agent: Math.max(0, agent), relay, seconds };
}
