/**
 * The agent's own figures, once a second: its CPU % (process.cpuUsage deltas over wall time) and RSS, and
 * the status file's content, built from the second's `stats` record and the capture's counters. Drops are
 * shown as the kernel counts them, for the last second and since start: never hidden, never smoothed away.
 */
import type { InterfaceCounters, StatsSecond } from '../stats/second-stats.js';
import type { AgentStatus, InterfaceState } from './status.js';
import type { TrackedKeysReport } from '../detect/tracked-keys.js';

export interface ProcessSample {
  /** User + system CPU time of the process so far, microseconds. */
  cpuMicros: number;
  rssBytes: number;
}

export const realProcessSample = (): ProcessSample => {
  const u = process.cpuUsage();
  return { cpuMicros: u.user + u.system, rssBytes: process.memoryUsage.rss() };
};

/** CPU % of one core between two calls, from cumulative CPU time. */
export class CpuMeter {
  private lastNow: number;
  private lastCpu: number;

  constructor(
    private readonly sample: () => ProcessSample,
    now: number,
  ) {
    this.lastNow = now;
    this.lastCpu = sample().cpuMicros;
  }

  read(now: number): { cpuPercent: number; rssBytes: number } {
    const s = this.sample();
    const elapsed = now - this.lastNow;
    const cpuPercent = elapsed > 0 ? Math.max(0, (s.cpuMicros - this.lastCpu) / (elapsed * 1e4)) : 0;
    this.lastNow = now;
    this.lastCpu = s.cpuMicros;
    return { cpuPercent: Math.round(cpuPercent * 100) / 100, rssBytes: s.rssBytes };
  }
}

export interface StatusContext {
  pid: number;
  user: string;
  started: number;
  source: 'live' | 'replay';
  filter: string | null;
  state: AgentStatus['state'];
  interfaceState: InterfaceState;
  /** Connected protocol clients (0 when the agent serves none). */
  clients?: number;
  /** Since start, summed by the caller over every second. */
  packetsTotal?: number;
  bytesTotal?: number;
  /** Detection's tables (DetectionEngine.stateReport), when detection runs. */
  detectionState?: TrackedKeysReport[];
}

const pctOf = (part: number, whole: number): number => (whole > 0 ? Math.round((100_000 * part) / whole) / 1000 : 0);

/** The status file's content for the second `stats` describes. */
export function statusOf(ctx: StatusContext, stats: StatsSecond, counters: readonly InterfaceCounters[]): AgentStatus {
  const seconds = stats.duration > 0 ? stats.duration : 1;
  let received = 0;
  let dropped = 0;
  let receivedTotal = 0;
  let droppedTotal = 0;
  const interfaces = stats.interfaces.map((s, i) => {
    received += s.received;
    dropped += s.dropped;
    receivedTotal += s.received_total;
    droppedTotal += s.dropped_total;
    const c = counters[i];
    return {
      name: s.name,
      state: ctx.interfaceState,
      received: s.received_total,
      dropped: c?.dropped ?? s.dropped_total,
      if_dropped: c?.ifDropped ?? 0,
      addon_dropped: c?.addonDropped ?? 0,
      packets_per_s: s.received / seconds,
      drop_pct: s.drop_pct,
    };
  });
  let weirds = 0;
  for (const n of Object.values(stats.weirds)) weirds += n;
  return {
    type: 'agent_status',
    pid: ctx.pid,
    user: ctx.user,
    started: ctx.started,
    updated: stats.ts,
    state: ctx.state,
    source: ctx.source,
    filter: ctx.filter,
    interfaces,
    packets_per_s: stats.packets / seconds,
    bytes_per_s: stats.bytes / seconds,
    drop_pct: pctOf(dropped, Math.max(received, dropped)),
    drop_pct_total: pctOf(droppedTotal, Math.max(receivedTotal, droppedTotal)),
    weirds_per_s: weirds / seconds,
    cpu_percent: stats.cpu_percent,
    rss_bytes: stats.rss_bytes,
    flows_active: stats.flows_active,
    packets_total: ctx.packetsTotal ?? 0,
    bytes_total: ctx.bytesTotal ?? 0,
    clients: ctx.clients ?? 0,
    uptime_s: Math.max(0, stats.ts - ctx.started),
    ...(ctx.detectionState ? { detection_state: ctx.detectionState } : {}),
  };
}

/** Seconds between two trims of the C heap (each walks its free lists: cheap, but not every second). */
const TRIM_INTERVAL = 10;

/** After a burst: `ended()` is true once when one has ended (the flow table gave its pages back), and `collect` compacts the heap. */
export interface BurstCollection {
  ended: () => boolean;
  collect: () => void;
}

/**
 * Seconds after a burst's end (the flow table gave its pages back) for a second compacting collection. The
 * table is compacted as soon as fewer than one slot in eight is live, while the burst's short-lived flows
 * (DNS's 10 s, TCP's closing 5 s) are still ending and their records are on their way to the store: what
 * they leave is garbage only afterwards, and without a second collection V8 kept those pages for another
 * 30-50 s (until a collection of its own), close to a minute after the burst.
 */
const BURST_FOLLOW_UP_S = 20;

/**
 * Gives memory back: the C heap's free pages once every TRIM_INTERVAL seconds, and as soon as a burst has
 * ended (asked every second: a number compared), a compacting collection of the heap
 * (capture/heap-collector.ts) and a trim at once, then both again BURST_FOLLOW_UP_S later. Waiting for the
 * next ten-second trim held what the burst left in the heap up to ten seconds longer. `trim` is
 * trimProcessMemory; tests pass fakes.
 */
export function memoryTrimmer(start: number, trim: () => boolean, burst?: BurstCollection): (now: number) => void {
  let last = start;
  let followUpAt = Number.NaN;
  return (now) => {
    const ended = burst?.ended() === true;
    if (ended || now >= followUpAt) {
      burst!.collect();
      followUpAt = ended ? now + BURST_FOLLOW_UP_S : Number.NaN;
      last = now;
      trim();
      return;
    }
    if (now - last < TRIM_INTERVAL) return;
    last = now;
    trim();
  };
}
