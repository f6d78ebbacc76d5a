/** The transports benchmark's figures per lane, and how they become result rows and ratios. */
import type { AgentClient } from '../client/agent-client.js';
import type { ConnectOptions } from '../client/connect-agent.js';
import { type CpuSpent, type Summary, summarize } from './transports-measure.js';
import type { Ratio, ToolResult } from './types.js';

export type LaneName = 'unix' | 'tls' | 'ssh';

export interface Lane {
  name: LaneName;
  target: string;
  /** What a client needs to be let in. */
  needs: string;
  options: ConnectOptions;
  /** The agent first, then (SSH) sshd: the far side, for CPU accounting. */
  serverPids: number[];
}

/** What one lane gathered; the interleaved rounds append to it. */
export interface LaneRun {
  lane: Lane;
  client: AgentClient;
  setup: Summary;
  setupSeconds: number;
  /** SSH only: `ssh HOST true`, the login without the bridge. */
  sshLogin?: Summary;
  latency: number[];
  latencySeconds: number;
  burstRequests: number;
  burstInFlight: number;
  burstSeconds: number;
  burstCpu: CpuSpent;
  replyTimes: number[];
  replyCpu: CpuSpent;
  replyRows: number;
  replyBytes: number;
  stats?: Summary;
  statsSeconds: number;
}

const ms = (v: number) => (v < 10 ? v.toFixed(2) : v.toFixed(1));
const us = (seconds: number) => `${Math.round(seconds * 1e6)} µs`;
const count = (n: number) => Math.round(n).toLocaleString('en-US');
/** "p99 X ms", or "max X ms" when there are too few samples for a 99th percentile to mean anything. */
const tail = (s: Summary) => `${s.n >= 100 ? 'p99' : 'max'} ${ms(s.p99)} ms`;
/** The far side's CPU per unit: the agent, and for SSH what sshd and the bridge spent relaying. */
function farSide(c: CpuSpent, per: number, unit: (seconds: number) => string): string {
  return c.relay > 0 ? `agent ${unit(c.agent / per)} + sshd/bridge ${unit(c.relay / per)}` : `agent ${unit(c.agent / per)}`;
}

/** The rows of one measured lane: setup, requests, large reply, stats delivery. */
export function laneRows(r: LaneRun): ToolResult[] {
  const latency = summarize(r.latency);
  const reply = summarize(r.replyTimes);
  const mb = r.replyBytes / 1e6;
  const replyS = reply.median / 1000;
  const replies = r.replyTimes.length;
  const login = r.sshLogin ? ` (\`ssh HOST true\` alone: median ${ms(r.sshLogin.median)} ms)` : '';
  const rows: Array<[string, string, number]> = [
    ['setup', `connectAgent() to hello answered: median ${ms(r.setup.median)} ms, ${tail(r.setup)} over ${r.setup.n} fresh connections${login}; needs ${r.lane.needs}`, r.setupSeconds],
    [
      'requests',
      `status round trip median ${ms(latency.median)} ms, ${tail(latency)} (${latency.n} sequential); ` +
        `${count(r.burstRequests)} with ${r.burstInFlight} in flight: ${count(r.burstRequests / r.burstSeconds)} requests/s, ` +
        `CPU per request: client ${us(r.burstCpu.client / r.burstRequests)}, ${farSide(r.burstCpu, r.burstRequests, us)}`,
      r.latencySeconds + r.burstSeconds,
    ],
    [
      'large reply',
      `history.flows ${count(r.replyRows)} rows (${mb.toFixed(2)} MB of JSON), request to parsed rows: median ${ms(reply.median)} ms, ${tail(reply)} over ${replies} → ` +
        `${(mb / replyS).toFixed(1)} MB/s, ${count(r.replyRows / replyS)} rows/s; ` +
        `CPU per reply: client ${ms((r.replyCpu.client / replies) * 1000)} ms, ${farSide(r.replyCpu, replies, (s) => `${ms(s * 1000)} ms`)}`,
      r.replyCpu.seconds,
    ],
  ];
  if (r.stats && r.stats.n > 0) {
    rows.push(['stats delivery', `second rolled (record ts) → received: median ${ms(r.stats.median)} ms, ${tail(r.stats)} over ${r.stats.n} records (all lanes in the same seconds)`, r.statsSeconds]);
  }
  const out: ToolResult[] = rows.map(([what, text, seconds]) => ({ tool: `${r.lane.name}: ${what}`, command: text, status: 'ok', wallSeconds: seconds, detail: `${r.lane.target}: ${text}` }));
  if (r.stats && r.stats.n === 0) {
    out.push({ tool: `${r.lane.name}: stats delivery`, command: r.lane.target, status: 'failed', detail: `no stats record arrived in ${r.statsSeconds} s` });
  }
  return out;
}

/** TLS and SSH against the unix socket, medians (times: above 1× is slower). */
export function laneRatios(runs: ReadonlyMap<LaneName, LaneRun>): Ratio[] {
  const pick: Array<[string, (r: LaneRun) => number | undefined]> = [
    ['setup', (r) => r.setup.median],
    ['request latency', (r) => summarize(r.latency).median],
    ['large reply time', (r) => summarize(r.replyTimes).median],
    ['stats delay', (r) => r.stats?.median],
  ];
  const base = runs.get('unix');
  const out: Ratio[] = [];
  for (const other of ['tls', 'ssh'] as const) {
    const run = runs.get(other);
    for (const [label, get] of pick) {
      const a = run && get(run);
      const b = base && get(base);
      out.push({ label: `${other.toUpperCase()}/unix ${label}`, value: a !== undefined && b !== undefined && b > 0 ? a / b : null });
    }
  }
  return out;
}
