/**
 * Transports: the same agent reached over its unix socket, over TLS (token + pinned certificate) and over
 * SSH (`ssh HOST loopy bridge` through a throwaway sshd), measured side by side (docs/research.md question 3):
 * connection setup (connectAgent() to hello answered), the round trip of a cheap request (status), a burst
 * of concurrent requests, one large reply (10,000 closed flows), and the delivery delay of the per-second
 * stats. CPU per request is split into this process (plus its ssh child) and the far side (the agent, plus
 * sshd and the bridge), with the agent's idle cost (the replay itself) taken off.
 *
 * The machine may be shared, so after the setups the lanes take turns in rounds (unix, tls, ssh, unix, ...)
 * and all of them receive stats in the same seconds: a change of load falls on every lane alike.
 */
import { loadavg } from 'node:os';
import { connectAgent } from '../client/connect-agent.js';
import { TransportsEnv } from './transports-env.js';
import { addCpu, collectStatsDelay, cpuBetween, jsonBytes, measureBurst, measureLargeReply, measureLatency, measureSetup, NO_CPU, readCpu, summarize, whenConnected } from './transports-measure.js';
import { type Lane, type LaneName, type LaneRun, laneRatios, laneRows } from './transports-report.js';
import type { BenchOptions, BenchResult, Benchmark, ToolResult } from './types.js';

const SETUP_RUNS = 10;
const ROUNDS = 5;
/** Per round and lane: 5 × 100 = 500 sequential requests, 5 × 2,000 in the burst, 5 × 2 large replies. */
const LATENCY_PER_ROUND = 100;
const BURST_PER_ROUND = 2000;
const BURST_IN_FLIGHT = 32;
const REPLIES_PER_ROUND = 2;
const REPLY_ROWS = 10_000;
const STATS_WINDOW_S = 8;
const BASELINE_S = 2;
const CONNECT_TIMEOUT_MS = 20_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The agent's CPU seconds per second with no client doing anything: the replay, rolling, flushing. */
async function agentIdleRate(agentPid: number): Promise<number> {
  const a = readCpu([agentPid]);
  await sleep(BASELINE_S * 1000);
  const b = readCpu([agentPid]);
  return Math.max(0, (b.server - a.server) / ((b.at - a.at) / 1000));
}

/** Fresh connections timed, then the lane's long-lived client, warmed up. */
async function openLane(lane: Lane, env: TransportsEnv, log: (line: string) => void): Promise<LaneRun> {
  const open = () => connectAgent(lane.target, { ...lane.options, reconnect: false, requestTimeoutMs: CONNECT_TIMEOUT_MS });
  // One untimed connection first: TLS pins the certificate, ssh learns the host key, the agent's code is warm.
  await measureSetup(open, 1, CONNECT_TIMEOUT_MS);
  const t0 = performance.now();
  const setup = await measureSetup(open, SETUP_RUNS, CONNECT_TIMEOUT_MS);
  const setupSeconds = (performance.now() - t0) / 1000;
  log(`transports: ${lane.name}: setup median ${setup.median.toFixed(2)} ms`);
  // The bare login, for how much of the SSH setup is ssh's and how much the bridge's: a side figure only.
  const logins = lane.name === 'ssh' ? await env.sshLoginTimes(5).catch(() => []) : [];

  // No reconnecting: a connection lost in the middle is a failure of the run, reported at once.
  const client = connectAgent(lane.target, { ...lane.options, reconnect: false, requestTimeoutMs: 30_000 });
  try {
    await whenConnected(client, CONNECT_TIMEOUT_MS);
    await measureLatency(client, 20);
    await measureLargeReply(client, REPLY_ROWS, 1); // SQLite's pages in cache, the reply path warm
  } catch (err) {
    client.close();
    throw err;
  }
  return {
    lane, client, setup, setupSeconds, sshLogin: logins.length > 0 ? summarize(logins) : undefined,
    latency: [], latencySeconds: 0, burstRequests: 0, burstInFlight: BURST_IN_FLIGHT, burstSeconds: 0, burstCpu: NO_CPU,
    replyTimes: [], replyCpu: NO_CPU, replyRows: 0, replyBytes: 0, statsSeconds: 0,
  };
}

/** One round on one lane: sequential requests, a burst, large replies (CPU read around the last two). */
async function round(r: LaneRun, baseline: number): Promise<void> {
  const t0 = performance.now();
  r.latency.push(...(await measureLatency(r.client, LATENCY_PER_ROUND)));
  r.latencySeconds += (performance.now() - t0) / 1000;

  let c0 = readCpu(r.lane.serverPids);
  const burst = await measureBurst(r.client, BURST_PER_ROUND, BURST_IN_FLIGHT);
  r.burstCpu = addCpu(r.burstCpu, cpuBetween(c0, readCpu(r.lane.serverPids), baseline));
  r.burstRequests += BURST_PER_ROUND;
  r.burstSeconds += burst.seconds;

  c0 = readCpu(r.lane.serverPids);
  const reply = await measureLargeReply(r.client, REPLY_ROWS, REPLIES_PER_ROUND);
  r.replyCpu = addCpu(r.replyCpu, cpuBetween(c0, readCpu(r.lane.serverPids), baseline));
  r.replyTimes.push(...reply.times);
  r.replyRows = reply.last.length;
  r.replyBytes = jsonBytes(reply.last);
}

/** Stats delivery on every lane in the same seconds. The first 1.5 s of records (delayed by the subscribe itself) are dropped. */
async function statsWindow(lanes: LaneRun[], log: (line: string) => void): Promise<void> {
  log('transports: rounds done; stats delivery on every lane at once');
  const timed = lanes.map((r) => ({ r, collector: collectStatsDelay(r.client) }));
  await sleep(1500);
  for (const { collector } of timed) collector.reset();
  await sleep(STATS_WINDOW_S * 1000);
  for (const { r, collector } of timed) {
    r.stats = summarize(collector.stop());
    r.statsSeconds = STATS_WINDOW_S;
  }
}

function lanesFor(env: TransportsEnv, wanted: readonly LaneName[], results: ToolResult[]): Lane[] {
  const agentPid = env.agent!.pid!;
  const configDir = env.clientDir;
  const lanes: Lane[] = [];
  if (wanted.includes('unix')) {
    lanes.push({ name: 'unix', target: `unix:${env.socket}`, needs: 'nothing but access to the socket file (mode 0660, group loopy)', options: { configDir }, serverPids: [agentPid] });
  }
  if (wanted.includes('tls')) {
    const options = { configDir, token: env.token, fingerprint: env.fingerprint };
    lanes.push({ name: 'tls', target: env.tlsTarget, needs: 'the token and the pinned certificate fingerprint', options, serverPids: [agentPid] });
  }
  if (wanted.includes('ssh')) {
    const target = env.sshd?.target ?? 'ssh://root@127.0.0.1';
    if (env.sshSkip) results.push({ tool: 'ssh', command: `${target} (skipped: ${env.sshSkip})`, status: 'skipped', detail: env.sshSkip });
    else if (env.sshError || !env.sshd) results.push({ tool: 'ssh', command: target, status: 'failed', detail: env.sshError ?? 'sshd did not start' });
    else {
      const options = { configDir, sshOptions: env.sshd.clientOptions(), sshCommand: env.bridgeCommand };
      lanes.push({ name: 'ssh', target, needs: 'an SSH key the server accepts (then the socket permissions); no port of its own', options, serverPids: env.serverPids(true) });
    }
  }
  return lanes;
}

export const transportsBench: Benchmark = {
  name: 'transports',
  title: 'Transports: unix socket vs TLS vs SSH bridge — setup, request latency, large reply, stats delivery',
  async run(options: BenchOptions): Promise<BenchResult> {
    const wanted = (['unix', 'tls', 'ssh'] as const).filter((n) => options.only === null || options.only.includes(n));
    const env = new TransportsEnv();
    const results: ToolResult[] = [];
    const failed = (tool: string, command: string, err: unknown) => {
      const gone = env.agentGone();
      results.push({ tool, command, status: 'failed', detail: `${(err as Error).message}${gone ? ` (${gone})` : ''}` });
    };
    const runs = new Map<LaneName, LaneRun>();
    const load = loadavg().map((l) => l.toFixed(2)).join(' ');
    let input = 'a generated 2-minute capture (~2,500 packets/s) replayed at real speed in a loop';
    try {
      await env.start(options.seed, wanted.includes('ssh'), options.log);
      const baseline = await agentIdleRate(env.agent!.pid!);
      input += `; ${env.prefilledFlows.toLocaleString('en-US')}+ closed flows in its history; agent idle CPU ${(baseline * 100).toFixed(1)} %; load average ${load}`;
      const notes: ToolResult[] = []; // lanes that cannot run here, listed after the measured ones
      for (const lane of lanesFor(env, wanted, notes)) {
        try {
          runs.set(lane.name, await openLane(lane, env, options.log));
        } catch (err) {
          failed(lane.name, lane.target, err);
        }
      }
      for (let i = 0; i < ROUNDS; i++) {
        for (const [name, r] of runs) {
          try {
            await round(r, baseline);
          } catch (err) {
            failed(name, r.lane.target, new Error(`round ${i + 1}: ${(err as Error).message}`));
            r.client.close();
            runs.delete(name);
          }
        }
      }
      if (runs.size > 0) await statsWindow([...runs.values()], options.log);
      for (const r of runs.values()) results.push(...laneRows(r));
      results.push(...notes);
    } catch (err) {
      failed('agent', 'loopy agent -r FILE --loop', err);
    } finally {
      for (const r of runs.values()) r.client.close();
      await env.stop();
    }
    return { name: 'transports', title: this.title, input, results, ratios: laneRatios(runs), targets: [] };
  },
};
