/**
 * The fleet on a NATS hub (issue 16): 200 simulated agents (fleet-sim.ts: the agent's own AgentServer and
 * HubLink, fed generated statistics and alerts, in a few processes) plus 2 real agents replaying captures at
 * real speed, all on one nats-server on loopback. Measures:
 *  (a) a fleet-wide flows query (`loopy query nats://HUB flows --since 1h --limit 100`, the whole command as
 *      a user runs it: start-up, discovery, 202 requests, the merge), five times;
 *  (b) the viewer: `loopy ui nats://HUB` in tmux over the whole fleet, its CPU over 20 s and its RSS;
 *  (c) the publisher's cost per agent: the simulators' CPU over the same 20 s, per agent they host;
 *  (d) a real agent's added CPU for publishing: two agents replay the same capture at real speed, one with
 *      --hub and one without, their CPU compared over 20 s with no viewer and over the UI's 20 s.
 * Skipped ("not installed") without nats-server; (b) without tmux.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { hubOf } from '../client/connect-agent.js';
import { NatsServer, natsSkipReason } from '../client/testing/nats-server.js';
import { agentDir } from '../client/testing/real-agent.js';
import { generateCapture } from '../synth/generate.js';
import { cliCommand, runCliAsync } from '../test-support/cli.js';
import { TmuxServer, haveTmux } from '../ui/testing/tmux.js';
import { cpuSeconds, peakRssBytes } from './live-veth.js';
import type { BenchOptions, BenchResult, Benchmark, ToolResult } from './types.js';
import { residentBytes } from './ui.js';

const SIMULATED = 200;
const PROCESSES = 4;
const QUERIES = 5;
const WINDOW_S = 20;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mb = (b: number) => `${(b / 1e6).toFixed(0)} MB`;

/** One simulator process; resolves once its agents' links are all up. */
async function startSimulator(hub: string, first: number, count: number, seed: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, [new URL('./fleet-sim.js', import.meta.url).pathname, hub, String(first), String(count), String(seed)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  for (let i = 0; i < 600 && !out.includes('ready'); i++) {
    if (child.exitCode !== null) throw new Error(`a simulator left with status ${child.exitCode}`);
    await sleep(100);
  }
  if (!out.includes('ready')) throw new Error('a simulator did not get its agents on the hub within 60 s');
  return child;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  await once(child, 'exit');
}

/** Until every agent answers a fleet-wide status (the real ones started and settled), at most 60 s. */
async function untilAllAnswer(hub: string, agents: number): Promise<void> {
  for (let i = 0; i < 60; i++) {
    const r = await runCliAsync(['query', hub, 'status', '--json']);
    if (r.stdout.trim().split('\n').length >= agents) return;
    await sleep(1000);
  }
  throw new Error(`not all ${agents} agents answered a status within 60 s`);
}

/** (a): wall times (ms) of the whole `loopy query` command, and what it said on stderr (agents that did not answer). */
async function timeQueries(hub: string): Promise<Array<{ ms: number; startMs: number; missing: string }>> {
  const runs = [];
  for (let i = 0; i < QUERIES; i++) {
    const t0 = performance.now();
    const r = await runCliAsync(['query', hub, 'flows', '--since', '1h', '--limit', '100', '--json']);
    const t1 = performance.now();
    // The floor under the same load: the command's start-up alone.
    await runCliAsync(['--version']);
    runs.push({ ms: t1 - t0, startMs: performance.now() - t1, missing: r.stderr.trim().split('\n')[0] ?? '' });
  }
  return runs;
}

/** (a), in parts, in this process: the connection, a discovery alone, and the fleet question (its own discovery beside it). */
async function timeParts(hub: string): Promise<{ connectMs: number; discoveryMs: number; statusMs: number; askMs: number; answered: number; missing: number }> {
  const t0 = performance.now();
  const fleet = await hubOf(hub, { clientName: 'loopy-bench' })!.open();
  try {
    const t1 = performance.now();
    await fleet.agents();
    const t2 = performance.now();
    await fleet.ask('status', {});
    const t3 = performance.now();
    const now = Date.now() / 1000;
    const got = await fleet.askRecords('history.flows', { since: now - 3600, until: now, limit: 100 }, 100);
    return { connectMs: t1 - t0, discoveryMs: t2 - t1, statusMs: t3 - t2, askMs: performance.now() - t3, answered: got.answers.length, missing: got.missing.length };
  } finally {
    await fleet.close();
  }
}

/** (d): CPU (% of a core) of the agent with the hub link and of its twin without, replaying the same capture, over WINDOW_S. */
async function publishingCost(withHub: ChildProcess, without: ChildProcess): Promise<{ hub: number; alone: number }> {
  const [h0, a0] = [cpuSeconds(withHub.pid!), cpuSeconds(without.pid!)];
  await sleep(WINDOW_S * 1000);
  return { hub: ((cpuSeconds(withHub.pid!) - h0) / WINDOW_S) * 100, alone: ((cpuSeconds(without.pid!) - a0) / WINDOW_S) * 100 };
}

const costLine = (when: string, c: { hub: number; alone: number; packetsPerS: number }) =>
  `real agent replaying ${c.packetsPerS.toFixed(0)} packets/s ${when}: ${c.hub.toFixed(1)} % of a core with --hub, ${c.alone.toFixed(1)} % without (the same capture, side by side): added ${(c.hub - c.alone).toFixed(1)} %`;

export const fleetBench: Benchmark = {
  name: 'fleet',
  title: `Fleet: ${SIMULATED} simulated + 2 real agents on one NATS hub: a fleet-wide flows query, the viewer's and the publisher's cost`,
  async run(options: BenchOptions): Promise<BenchResult> {
    const input = `${SIMULATED} simulated agents (stats each second, an alert a minute, 500 flows each) in ${PROCESSES} processes, 2 real agents replaying 1-minute captures at real speed`;
    const skip = natsSkipReason();
    if (skip) return { name: 'fleet', title: this.title, input, results: [{ tool: 'fleet', command: 'nats-server', status: 'not installed', detail: skip }], ratios: [], targets: [] };
    const dir = agentDir();
    const nats = await NatsServer.start();
    const sims: ChildProcess[] = [];
    const real: ChildProcess[] = [];
    const tmux = new TmuxServer(`loopy-bench-fleet-${process.pid}`);
    const results: ToolResult[] = [];
    const targets: BenchResult['targets'] = [];
    const breakdown: Array<[string, string]> = [];
    try {
      const per = SIMULATED / PROCESSES;
      sims.push(...(await Promise.all(Array.from({ length: PROCESSES }, (_, i) => startSimulator(nats.url, i * per, per, options.seed + i)))));
      const [cmd, ...pre] = cliCommand();
      const rates = new Map<string, number>();
      // real-a and real-local replay the same capture, one with the hub link and one without: (d).
      for (const [name, file, hub] of [['real-a', 'a', true], ['real-b', 'b', true], ['real-local', 'a', false]] as const) {
        const capture = join(dir, `${file}.pcap`);
        if (name !== 'real-local') rates.set(file, (await generateCapture({ seed: options.seed + real.length, durationSeconds: 60 }, capture)).packets / 60);
        const link = hub ? ['--hub', nats.url] : [];
        real.push(spawn(cmd!, [...pre, 'agent', '-r', capture, '--loop', '--name', name, ...link, '--listen', `unix:${join(dir, `${name}.sock`)}`, '--data', join(dir, name), '--log', join(dir, `${name}.log`)], { stdio: 'ignore' }));
      }
      options.log(`fleet: ${SIMULATED} simulated agents up; waiting for the real ones`);
      await untilAllAnswer(nats.url, SIMULATED + 2);

      const runs = await timeQueries(nats.url);
      const sorted = runs.map((r) => r.ms).sort((a, b) => a - b);
      const parts = await timeParts(nats.url);
      const answered = parts.answered;
      const starts = runs.map((r) => r.startMs).sort((a, b) => a - b);
      const summary = `loopy query nats://HUB flows --since 1h --limit 100: median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(0)} ms, max ${sorted[sorted.length - 1]!.toFixed(0)} ms over ${QUERIES} runs (loopy --version beside them, the start-up floor: median ${starts[Math.floor(starts.length / 2)]!.toFixed(0)} ms)`;
      breakdown.push(
        ['connecting to the hub', `${parts.connectMs.toFixed(0)} ms`],
        ['a discovery alone (loopy.discover, until replies pause)', `${parts.discoveryMs.toFixed(0)} ms`],
        ['status asked on loopy.fleet (one request, its discovery beside it; small answers)', `${parts.statusMs.toFixed(0)} ms`],
        ['history.flows asked on loopy.fleet, all answers in and checked', `${parts.askMs.toFixed(0)} ms (${parts.answered} answered, ${parts.missing} not)`],
      );
      options.log(`fleet: ${summary}${runs.some((r) => r.missing) ? ` (${runs.find((r) => r.missing)!.missing})` : ''}`);
      results.push({ tool: 'fleet-wide flows query', command: summary, status: 'ok', wallSeconds: sorted[sorted.length - 1]! / 1000 });
      targets.push({ description: `a fleet-wide flows query over ${SIMULATED} agents answers in ≤ 1 s (the whole command)`, met: sorted[sorted.length - 1]! <= 1000, actual: `max ${sorted[sorted.length - 1]!.toFixed(0)} ms; ${answered} of ${SIMULATED + 2} agents answered` });

      const packetsPerS = rates.get('a')!;
      const idleCost = { ...(await publishingCost(real[0]!, real[2]!)), packetsPerS };
      options.log(`fleet: ${costLine('(no viewer)', idleCost)}`);
      results.push({ tool: 'publishing, no viewer', command: costLine('(no viewer)', idleCost), status: 'ok', wallSeconds: WINDOW_S });

      if (!haveTmux()) {
        results.push({ tool: 'loopy ui over the hub', command: 'loopy ui nats://HUB in tmux', status: 'not installed', detail: 'tmux is not installed' });
      } else {
        tmux.start('fleet', 200, 50, [cmd!, ...pre, 'ui', nats.url]);
        await tmux.waitFor('fleet', new RegExp(`${SIMULATED + 2}/${SIMULATED + 2} up`), 60_000);
        await sleep(2000);
        const pid = Number(tmux.run('display-message', '-p', '-t', 'fleet', '#{pane_pid}').trim());
        if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() !== 'node') throw new Error('the tmux pane does not run node');
        const ui0 = cpuSeconds(pid);
        const sim0 = sims.map((s) => cpuSeconds(s.pid!));
        const watchedCost = { ...(await publishingCost(real[0]!, real[2]!)), packetsPerS };
        const uiPercent = ((cpuSeconds(pid) - ui0) / WINDOW_S) * 100;
        const simPercent = sims.reduce((sum, s, i) => sum + cpuSeconds(s.pid!) - sim0[i]!, 0) / WINDOW_S * 100;
        const perAgent = simPercent / SIMULATED;
        const peak = peakRssBytes(pid);
        const uiSummary = `loopy ui nats://HUB over ${SIMULATED + 2} agents: CPU ${uiPercent.toFixed(1)} % over ${WINDOW_S} s, RSS ${mb(residentBytes(pid))}, peak ${peak === null ? '?' : mb(peak)}`;
        const pubSummary = `simulators: ${simPercent.toFixed(1)} % of a core for ${SIMULATED} agents (generating and publishing): ${perAgent.toFixed(3)} % each`;
        options.log(`fleet: ${uiSummary}`);
        options.log(`fleet: ${pubSummary}`);
        results.push({ tool: 'loopy ui over the hub', command: uiSummary, status: 'ok', wallSeconds: WINDOW_S, peakRssBytes: peak });
        results.push({ tool: 'publisher per agent', command: pubSummary, status: 'ok', wallSeconds: WINDOW_S });
        targets.push({ description: 'the UI over the hub ≤ 15 % of a core', met: uiPercent <= 15, actual: `${uiPercent.toFixed(1)} %` });
        targets.push({ description: 'the UI over the hub ≤ 300 MB', met: peak === null ? null : peak <= 300 * 1024 * 1024, actual: peak === null ? '?' : `peak ${mb(peak)}` });
        const added = watchedCost.hub - watchedCost.alone;
        options.log(`fleet: ${costLine('(the UI watching)', watchedCost)}`);
        results.push({ tool: 'publishing, UI watching', command: costLine('(the UI watching)', watchedCost), status: 'ok', wallSeconds: WINDOW_S });
        targets.push({ description: 'an agent\'s added CPU for publishing ≤ 1 % of a core', met: added <= 1, actual: `real agent: +${added.toFixed(1)} % with the UI watching, +${(idleCost.hub - idleCost.alone).toFixed(1)} % without; simulated: ${perAgent.toFixed(3)} % each` });
      }
    } finally {
      tmux.kill();
      await Promise.all([...sims, ...real].map(stop));
      await nats.stop();
      rmSync(dir, { recursive: true, force: true });
    }
    return { name: 'fleet', title: this.title, input, results, ratios: [], targets, breakdown: { title: 'a fleet-wide query, in parts (in process, no start-up)', rows: breakdown } };
  },
};
