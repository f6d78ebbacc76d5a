/**
 * Service: a real agent (child process) replaying a generated capture at real speed, with 0, 10 and 100
 * subscribed clients (stats, flows and dns topics, over its unix socket). For each: the agent's CPU % (from
 * /proc over a fixed window) and the delivery latency of the per-second statistics — from the moment the
 * agent rolled the second (the record's ts) to a client receiving it. A packet waits at most one second to be rolled into
 * its second's record, so packet → client is at most 1 s + that latency.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAgent } from '../client/connect-agent.js';
import type { AgentClient } from '../client/agent-client.js';
import { generateCapture } from '../synth/generate.js';
import { projectRoot } from './capture-cache.js';
import { cpuSeconds, peakRssBytes } from './live-veth.js';
import type { BenchOptions, BenchResult, Benchmark, ToolResult } from './types.js';

const CLIENT_COUNTS = [0, 10, 100];
const WINDOW_S = 8;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

async function waitForSocket(client: AgentClient, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await client.status().then(() => true, () => false)) return;
    await sleep(200);
  }
  throw new Error('the agent did not answer on its socket');
}

export const serviceBench: Benchmark = {
  name: 'service',
  title: 'Service: agent CPU with 0, 10 and 100 subscribed clients; stats delivery latency',
  async run(options: BenchOptions): Promise<BenchResult> {
    const dir = mkdtempSync(join(tmpdir(), 'loopy-bench-service-'));
    chmodSync(dir, 0o755);
    const file = join(dir, 'traffic.pcap');
    // Two minutes of the realistic mix at its natural rate (~2,500 packets/s), replayed in a loop.
    await generateCapture({ seed: options.seed, durationSeconds: 120 }, file);
    const socket = join(dir, 'agent.sock');
    const args = [join(projectRoot, 'dist', 'cli', 'main.js'), 'agent', '-r', file, '--loop', '--listen', `unix:${socket}`, '--data', join(dir, 'data')];
    const agent: ChildProcess = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'ignore'] });
    const results: ToolResult[] = [];
    const clients: AgentClient[] = [];
    try {
      const probe = connectAgent(`unix:${socket}`, { configDir: join(dir, 'client') });
      clients.push(probe);
      await waitForSocket(probe, 20_000);
      await sleep(2000);
      for (const n of CLIENT_COUNTS) {
        while (clients.length - 1 < n) {
          const c = connectAgent(`unix:${socket}`, { configDir: join(dir, 'client') });
          c.subscribe(['stats', 'flows', 'dns'], () => {});
          clients.push(c);
        }
        const latencies: number[] = [];
        const stop = probe.subscribe(['stats'], (event) => {
          if (event.topic === 'stats') latencies.push(Date.now() / 1000 - event.record.ts); // ts: when the second was rolled (its end)
        });
        await sleep(1500);
        latencies.length = 0;
        const cpu0 = cpuSeconds(agent.pid!);
        await sleep(WINDOW_S * 1000);
        const cpuPercent = ((cpuSeconds(agent.pid!) - cpu0) / WINDOW_S) * 100;
        stop();
        const sorted = latencies.map((s) => s * 1000).sort((a, b) => a - b);
        const median = percentile(sorted, 0.5);
        const p99 = percentile(sorted, 0.99);
        options.log(`service: ${n} clients: agent CPU ${cpuPercent.toFixed(1)} %, stats latency median ${median.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms`);
        results.push({
          tool: `${n} clients`,
          command: `agent CPU ${cpuPercent.toFixed(1)} %; stats latency median ${median.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms`,
          status: 'ok',
          wallSeconds: WINDOW_S,
          peakRssBytes: peakRssBytes(agent.pid!),
        });
      }
    } catch (err) {
      results.push({ tool: 'agent', command: args.join(' '), status: 'failed', detail: (err as Error).message });
    } finally {
      for (const c of clients) c.close();
      agent.kill('SIGTERM');
      await new Promise((r) => agent.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    }
    return { name: 'service', title: this.title, input: 'a generated 2-minute capture (~2,500 packets/s) replayed at real speed in a loop', results, ratios: [], targets: [] };
  },
};
