/**
 * Live capture: the bench capture's first packets are sent by tcpreplay into a veth pair at rising rates,
 * up to the fastest this machine can send, and captured at the other end by the agent (as deployed: full
 * engine, detection, history store, its socket served; no NDJSON to stdout, which no deployment writes) and
 * by `tcpdump -w /dev/null`, one after the other on the same frames; then both once more at 300 kpps on the
 * few-flows mix (small packets over a few dozen long connections: the engine's cost per packet with almost no
 * work per flow); then the agent once more at 300 kpps while a client reads 100,000 rows of its history
 * (nothing may be lost: queries run on the store's thread, not the capture's); then the agent at rest and a
 * minute after a burst (live-idle.ts). The agent runs three times at 300 kpps on each mix, and the 25 %
 * targets are judged on the median run (this shared machine moves a single run by ±15 %). For each:
 * the rate actually sent, packets captured, loss %, CPU % of one core (the process's CPU time from /proc,
 * from the first frame until it has caught up, over the sending time) and peak RSS. Each contender first
 * gets 100,000 other packets of the same mix ten times over (10 s at 100 kpps), unmeasured: an agent runs all
 * day, warm. (With one pass, a second, the JIT was still compiling in the measured window — 208 functions,
 * the store's thread among them, since it had written only once — and the step cost 20–30 % more CPU.)
 * Needs root (namespaces), tcpreplay (Debian package) and the capture addon; says so when one is missing.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCaptureFile } from '../capture/capture-file.js';
import { captureAddonProblem } from '../capture/live-addon.js';
import { PcapWriter } from '../capture/pcap-writer.js';
import { benchCapture, benchOutDir, copyFrame } from './capture-cache.js';
import { LIVE_CONTENDERS, LOOPY_CLI, agentContender, type LiveContender, type Running } from './live-contenders.js';
import { STORE_THREAD_NAME } from '../store/store-protocol.js';
import { type Sent, type Veth, cpuSeconds, mainThreadCpuSeconds, namedThreadsCpuSeconds, peakRssBytes, setUpVeth, tcpreplay, tearDownVeth, untilIdle } from './live-veth.js';
import { type IdleFigures, idleSummary, idleTargets, measureIdle } from './live-idle.js';
import { monotonicMicros, readMainProfile, STAGES, stageMillis, type Window } from './stage-profile.js';
import type { BenchOptions, BenchResult, Benchmark, Target, ToolResult } from './types.js';
import type { MixName } from '../synth/generate.js';

export const RATES: ReadonlyArray<number | 'top'> = [50_000, 100_000, 200_000, 300_000, 'top'];
export const SECONDS_PER_STEP = 5;
export const SLICE_PACKETS = 1_500_000;
const TARGET_PPS = 300_000;
const TARGET_CPU = 25;
/**
 * Runs of the agent at TARGET_PPS on each mix, judged on their median: one run of the few-flows mix measured
 * anywhere from 21 to 32 % on this shared machine, sessions apart, with nothing changed in between.
 */
const TARGET_RUNS = 3;
export const WARM_PACKETS = 100_000;
export const WARM_PPS = 100_000;
/** Passes over the warm-up packets: long enough for the JIT and the store's thread to settle. */
export const WARM_LOOPS = 10;

export type Slices = { path: string; warmPath: string; packets: number };

interface Step {
  /** The traffic: the office mix's rising rates, or the few-flows small-packet mix at the target rate. */
  mix: MixName;
  /** What ran beside the replay (a client's history queries), as said by it. */
  during?: string;
  asked: number | 'top';
  tool: string;
  sent: Sent;
  captured: number;
  kernelDropped: number;
  lossPct: number;
  cpuPct: number;
  /** The main thread's share of cpuPct (where JavaScript runs). */
  mainCpuPct: number;
  /** The capture addon's thread's share of cpuPct (0 for a contender without one). */
  captureCpuPct: number;
  /** The store's thread (by its name), % of one core. */
  storeCpuPct: number;
  peakRss: number | null;
}

/**
 * The first `count` packets of the bench capture (what is measured) and the `warm` packets after them (sent
 * first, unmeasured, so the JIT and the flow table are warm as in an agent that runs all day), as classic
 * pcap files tcpreplay can preload.
 */
export async function slicesOf(source: string, count: number, warm: number, seed: number, mix: MixName = 'office'): Promise<{ path: string; warmPath: string; packets: number }> {
  const tag = mix === 'office' ? '' : `-${mix}`;
  const path = join(benchOutDir, `live-slice-s${seed}-p${count}${tag}.pcap`);
  const warmPath = join(benchOutDir, `live-warm-s${seed}-p${count}-w${warm}${tag}.pcap`);
  if (existsSync(path) && existsSync(warmPath)) return { path, warmPath, packets: count };
  const writers = [new PcapWriter(`${path}.partial`, { linkType: 1 }), new PcapWriter(`${warmPath}.partial`, { linkType: 1 })];
  let n = 0;
  for await (const b of openCaptureFile(source)) {
    for (let i = 0; i < b.count && n < count + warm; i++, n++) copyFrame(writers[n < count ? 0 : 1], b, i, b.ts[i]);
    for (const w of writers) await w.drain();
    if (n >= count + warm) break;
  }
  for (const w of writers) await w.close();
  renameSync(`${path}.partial`, path);
  renameSync(`${warmPath}.partial`, warmPath);
  return { path, warmPath, packets: Math.min(n, count) };
}

/** Why the benchmark cannot run here, or null. */
export function blocker(): { status: ToolResult['status']; detail: string } | null {
  if (process.getuid?.() !== 0) return { status: 'skipped', detail: 'needs root (network namespaces and a veth pair)' };
  if (spawnSync('sh', ['-c', 'command -v tcpreplay']).status !== 0) return { status: 'not installed', detail: 'tcpreplay is not installed (apt-get install tcpreplay)' };
  if (spawnSync('sh', ['-c', 'command -v tcpdump']).status !== 0) return { status: 'not installed', detail: 'tcpdump is not installed' };
  if (spawnSync('ip', ['-V']).status !== 0) return { status: 'not installed', detail: 'the ip command (iproute2) is not installed' };
  const addon = captureAddonProblem();
  return addon ? { status: 'skipped', detail: addon } : null;
}

/** The name the capture addon gives its thread (native/src/capture-thread.c). */
const CAPTURE_THREAD = 'loopy-capture';

/** Work done beside the measured replay (a client's queries), started with it and awaited after it. */
type During = (running: Running) => Promise<string>;

async function measureStep(c: LiveContender, v: Veth, workDir: string, files: Slices, asked: number | 'top', limit: number, nodeArgs: string[] = [], mix: MixName = 'office', during?: During): Promise<Step & { window: Window }> {
  const running = await c.start(v, workDir, nodeArgs);
  try {
    const warm = await tcpreplay(v, files.warmPath, WARM_PPS, WARM_PACKETS * WARM_LOOPS, WARM_LOOPS);
    await untilIdle(running.pid);
    const cpu0 = cpuSeconds(running.pid);
    const main0 = mainThreadCpuSeconds(running.pid);
    const capture0 = namedThreadsCpuSeconds(running.pid, CAPTURE_THREAD);
    const store0 = namedThreadsCpuSeconds(running.pid, STORE_THREAD_NAME);
    const from = monotonicMicros();
    const beside = during?.(running);
    const sent = await tcpreplay(v, files.path, asked, limit);
    const besideNote = await beside;
    await untilIdle(running.pid);
    const window = { from, to: monotonicMicros() };
    const cpu = cpuSeconds(running.pid) - cpu0;
    const mainCpu = mainThreadCpuSeconds(running.pid) - main0;
    const captureCpu = namedThreadsCpuSeconds(running.pid, CAPTURE_THREAD) - capture0;
    const storeCpu = namedThreadsCpuSeconds(running.pid, STORE_THREAD_NAME) - store0;
    const peakRss = peakRssBytes(running.pid);
    // Past every contender's block timeout (tcpdump's is 1 s), so the last partly filled block is handed over.
    await new Promise((r) => setTimeout(r, 1200));
    const got = await running.stop();
    // Counted over warm-up and measure together: a packet lost while warming up counts against the step.
    const captured = got.captured - warm.packets;
    const kernelDropped = got.kernelDropped;
    const lossPct = sent.packets > 0 ? (100 * Math.max(0, sent.packets - captured)) / sent.packets : 0;
    return { mix, during: besideNote, asked, tool: c.tool, sent, captured, kernelDropped, lossPct, cpuPct: (100 * cpu) / sent.seconds, mainCpuPct: (100 * mainCpu) / sent.seconds, captureCpuPct: (100 * captureCpu) / sent.seconds, storeCpuPct: (100 * storeCpu) / sent.seconds, peakRss, window };
  } catch (err) {
    await running.stop().catch(() => undefined);
    throw err;
  }
}

const k = (n: number) => (n >= 1000 ? `${(n / 1000).toFixed(n >= 100_000 ? 0 : 1)}k` : n.toFixed(0));

function toolResult(s: Step, display: string): ToolResult {
  const label = `${s.asked === 'top' ? 'top speed' : `${k(s.asked)} pps`}${s.mix === 'office' ? '' : ` (${s.mix} mix)`}${s.during ? ` while ${s.during}` : ''}`;
  return {
    tool: s.tool,
    command: `${label}: sent ${k(s.sent.pps)}/s, got ${s.captured.toLocaleString('en-US')}/${s.sent.packets.toLocaleString('en-US')}, ` +
      `loss ${s.lossPct.toFixed(2)} % (kernel drops ${s.kernelDropped}), CPU ${s.cpuPct.toFixed(1)} %  (${display})`,
    status: 'ok',
    wallSeconds: s.sent.seconds,
    packetsPerSecond: s.captured / s.sent.seconds,
    peakRssBytes: s.peakRss,
  };
}

/** A client reading history while the agent captures: QUERY_PAGES queries of QUERY_ROWS flows (the most a query returns). */
const QUERY_PAGES = 10;
const QUERY_ROWS = 10_000;

async function readHistory(running: Running): Promise<string> {
  let rows = 0;
  let failures = 0;
  const started = monotonicMicros();
  for (let i = 0; i < QUERY_PAGES; i++) {
    const lines = await countOutputLines(process.execPath, [LOOPY_CLI, 'query', running.socket!, 'flows', '--since', '1h', '--limit', String(QUERY_ROWS), '--json']);
    if (lines < 0) failures++;
    else rows += lines;
  }
  const seconds = (monotonicMicros() - started) / 1e6;
  return `a client read ${rows.toLocaleString('en-US')} history rows in ${QUERY_PAGES} queries (${seconds.toFixed(1)} s${failures ? `, ${failures} failed` : ''})`;
}

/** Lines a command wrote to stdout, or -1 when it failed. */
function countOutputLines(command: string, args: string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'ignore'] });
    let lines = 0;
    child.stdout.on('data', (chunk: Buffer) => {
      for (let i = 0; i < chunk.length; i++) if (chunk[i] === 0x0a) lines++;
    });
    child.on('error', () => resolve(-1));
    child.on('close', (code) => resolve(code === 0 ? lines : -1));
  });
}

/** How many times a contender runs a step: the agent TARGET_RUNS times at the target rate, anything else once. */
function runsOf(c: LiveContender, asked: number | 'top'): number {
  return c === agentContender && asked === TARGET_PPS ? TARGET_RUNS : 1;
}

/** The tool's runs at TARGET_PPS on the mix (no client beside them), and the median of them by CPU. */
function atTargetRate(steps: readonly Step[], tool: string, mix: MixName): { runs: Step[]; median: Step | undefined } {
  const runs = steps.filter((s) => s.tool === tool && s.asked === TARGET_PPS && s.mix === mix && s.during === undefined).sort((a, b) => a.cpuPct - b.cpuPct);
  return { runs, median: runs[(runs.length - 1) >> 1] };
}

function targets(steps: Step[]): Target[] {
  const agent = steps.filter((s) => s.tool === 'agent');
  const whileReading = agent.find((s) => s.during !== undefined);
  const top = agent.find((s) => s.asked === 'top');
  const atTarget = (mix: MixName, what: string): Target => {
    const { runs, median: step } = atTargetRate(agent, 'agent', mix);
    // The 300k target is judged only where the sender really reached (nearly) 300k.
    const reached = step !== undefined && step.sent.pps >= TARGET_PPS * 0.95;
    const range = runs.length > 1 ? ` (median of ${runs.length} runs: ${runs.map((r) => `${r.cpuPct.toFixed(1)} % at ${k(r.sent.pps)}/s`).join(', ')})` : '';
    return {
      description: `agent < ${TARGET_CPU} % of one core at ${k(TARGET_PPS)} packets/s (full engine, ${what})`,
      met: reached ? step.cpuPct < TARGET_CPU : null,
      actual: step ? `${step.cpuPct.toFixed(1)} % at ${k(step.sent.pps)}/s sent${range}` : 'not run',
    };
  };
  return [
    {
      description: 'agent: no loss at the fastest rate this machine sends',
      met: top ? top.captured >= top.sent.packets : null,
      actual: top ? `${top.lossPct.toFixed(2)} % lost at ${k(top.sent.pps)}/s` : 'not run',
    },
    atTarget('office', 'office mix'),
    atTarget('few', 'small packets over few flows'),
    {
      description: `agent: no loss at ${k(TARGET_PPS)} pps while a client reads ${(QUERY_PAGES * QUERY_ROWS).toLocaleString('en-US')} history rows`,
      met: whileReading ? whileReading.captured >= whileReading.sent.packets : null,
      actual: whileReading ? `${whileReading.lossPct.toFixed(2)} % lost at ${k(whileReading.sent.pps)}/s; ${whileReading.during}` : 'not run',
    },
  ];
}

export const liveCapture: Benchmark = {
  name: 'live-capture',
  title: 'Live capture into a veth pair at rising rates (tcpreplay), agent vs tcpdump',
  async run(options: BenchOptions): Promise<BenchResult> {
    const base = { name: this.name, title: this.title };
    const wanted = LIVE_CONTENDERS.filter((c) => !options.only || options.only.includes(c.tool));
    const stop = blocker();
    if (stop) {
      return { ...base, input: `not run: ${stop.detail}`, results: wanted.map((c) => ({ tool: c.tool, command: c.display, ...stop })), ratios: [], targets: targets([]) };
    }
    const capture = await benchCapture(options.seed, options.packets, options.log);
    const slice = await slicesOf(capture.path, Math.min(SLICE_PACKETS, capture.truth.packets - WARM_PACKETS), WARM_PACKETS, options.seed);
    const workDir = mkdtempSync(join(tmpdir(), 'loopy-bench-live-'));
    chmodSync(workDir, 0o755); // the agent drops to nobody and must still reach its data directory
    const v = setUpVeth();
    const steps: Step[] = [];
    const results: ToolResult[] = [];
    let profiled: Profiled | undefined;
    let fewInput = 'not run';
    let idle: IdleFigures | undefined;
    try {
      for (const asked of RATES) {
        const limit = asked === 'top' ? slice.packets : Math.min(slice.packets, asked * SECONDS_PER_STEP);
        for (const c of wanted) {
          const missing = c.missing();
          if (missing) {
            results.push({ tool: c.tool, command: c.display, status: 'failed', detail: missing });
            continue;
          }
          const runs = runsOf(c, asked);
          for (let run = 1; run <= runs; run++) {
            options.log(`live: ${c.tool} at ${asked === 'top' ? 'top speed' : `${asked} pps`} (${limit} packets)${runs > 1 ? `, run ${run} of ${runs}` : ''}`);
            try {
              const step = await measureStep(c, v, join(workDir, `${c.tool}-${asked}-${run}`), slice, asked, limit);
              steps.push(step);
              results.push(toolResult(step, c.display));
            } catch (err) {
              results.push({ tool: c.tool, command: c.display, status: 'failed', detail: (err as Error).message });
            }
          }
        }
      }
      const few = await benchCapture(options.seed, options.packets, options.log, 'few');
      const fewSlice = await slicesOf(few.path, Math.min(SLICE_PACKETS, few.truth.packets - WARM_PACKETS), WARM_PACKETS, options.seed, 'few');
      const limit = Math.min(fewSlice.packets, TARGET_PPS * SECONDS_PER_STEP);
      fewInput = `${fewSlice.path} (${few.truth.tcp.connections} TCP connections in the whole capture) at ${k(TARGET_PPS)} pps`;
      for (const c of wanted) {
        if (c.missing()) continue;
        const runs = runsOf(c, TARGET_PPS);
        for (let run = 1; run <= runs; run++) {
          options.log(`live: ${c.tool} at ${TARGET_PPS} pps, few-flows mix (${limit} packets)${runs > 1 ? `, run ${run} of ${runs}` : ''}`);
          try {
            const step = await measureStep(c, v, join(workDir, `${c.tool}-few-${run}`), fewSlice, TARGET_PPS, limit, [], 'few');
            steps.push(step);
            results.push(toolResult(step, c.display));
          } catch (err) {
            results.push({ tool: c.tool, command: c.display, status: 'failed', detail: (err as Error).message });
          }
        }
      }
      if (wanted.includes(agentContender) && !agentContender.missing()) {
        options.log(`live: agent at ${TARGET_PPS} pps while a client reads ${QUERY_PAGES} × ${QUERY_ROWS} history rows`);
        try {
          const step = await measureStep(agentContender, v, join(workDir, 'agent-queries'), slice, TARGET_PPS, Math.min(slice.packets, TARGET_PPS * SECONDS_PER_STEP), [], 'office', readHistory);
          steps.push(step);
          results.push(toolResult(step, agentContender.display));
        } catch (err) {
          results.push({ tool: agentContender.tool, command: agentContender.display, status: 'failed', detail: (err as Error).message });
        }
      }
      if (wanted.includes(agentContender)) idle = await idleStep(v, join(workDir, 'agent-idle'), slice, options.log, results);
      profiled = await profiledBreakdown(v, join(workDir, 'agent-profiled'), slice, steps, options.log);
    } finally {
      tearDownVeth(v);
      rmSync(workDir, { recursive: true, force: true });
    }
    const cpuAt = (tool: string, mix: MixName) => atTargetRate(steps, tool, mix).median?.cpuPct;
    const ratioAt = (mix: MixName) => {
      const agentCpu = cpuAt('agent', mix);
      const tcpdumpCpu = cpuAt('tcpdump', mix);
      return agentCpu !== undefined && tcpdumpCpu ? agentCpu / tcpdumpCpu : null;
    };
    return {
      ...base,
      input: `${slice.path} (first ${slice.packets.toLocaleString('en-US')} packets of the bench capture, seed ${options.seed}), tcpreplay into a veth pair; then the few-flows small-packet mix, ${fewInput}`,
      results,
      ratios: [
        { label: `agent CPU ÷ tcpdump CPU at ${k(TARGET_PPS)} pps (office mix)`, value: ratioAt('office') },
        { label: `agent CPU ÷ tcpdump CPU at ${k(TARGET_PPS)} pps (few-flows mix)`, value: ratioAt('few') },
      ],
      targets: [...targets(steps), gcTarget(profiled), ...idleTargets(idle)],
      breakdown: profiled?.breakdown,
    };
  },
};

/** The agent at rest, then through a burst (the office slice at top speed) and a minute after it. */
async function idleStep(v: Veth, workDir: string, files: Slices, log: (line: string) => void, results: ToolResult[]): Promise<IdleFigures | undefined> {
  if (agentContender.missing()) return undefined;
  log('live: agent idle, then a burst and a minute after it');
  try {
    const idle = await measureIdle(agentContender, v, workDir, files.path, files.packets);
    results.push({ tool: agentContender.tool, command: `${idleSummary(idle)}  (${agentContender.display})`, status: 'ok', wallSeconds: idle.burst.seconds, peakRssBytes: idle.burstPeakRss });
    return idle;
  } catch (err) {
    results.push({ tool: agentContender.tool, command: agentContender.display, status: 'failed', detail: `idle step: ${(err as Error).message}` });
    return undefined;
  }
}

/** The issue's bound on the collector: a share of the agent's whole CPU. */
const GC_SHARE_TARGET = 0.05;

interface Profiled {
  breakdown: NonNullable<BenchResult['breakdown']>;
  /** The main thread's collector (profile samples), as a share of the agent's CPU over every thread. */
  gcShare: number;
}

/**
 * The main thread's garbage collector against the agent's whole CPU at TARGET_PPS. The collector's helper
 * threads (parallel scavenges, concurrent marking) cannot be told from the JIT's in /proc: they stay in
 * "other threads", so this is a lower bound of what the collector costs.
 */
function gcTarget(p: Profiled | undefined): Target {
  return {
    description: `garbage collection < ${GC_SHARE_TARGET * 100} % of the agent's CPU at ${k(TARGET_PPS)} pps (main thread's collector; its helper threads are in "other threads")`,
    met: p ? p.gcShare < GC_SHARE_TARGET : null,
    actual: p ? `${(100 * p.gcShare).toFixed(1)} %` : 'not run',
  };
}

/**
 * Where the agent's CPU goes at TARGET_PPS: one more run of that step with a V8 CPU profile, whose samples
 * inside the measured window give each stage's share of the main thread; the shares are applied to the
 * main thread's CPU of the unprofiled step (profiling costs CPU of its own), and the rest of the process
 * (GC helpers, the JIT, libuv) less the capture thread (by name, from /proc) is "other threads".
 */
async function profiledBreakdown(v: Veth, workDir: string, files: Slices, steps: Step[], log: (line: string) => void): Promise<Profiled | undefined> {
  const plain = atTargetRate(steps, 'agent', 'office').median;
  if (!plain || agentContender.missing()) return undefined;
  log(`live: agent at ${TARGET_PPS} pps again, with a CPU profile (where the time goes)`);
  const profDir = join(workDir, 'profile');
  mkdirSync(profDir, { recursive: true });
  chmodSync(workDir, 0o777);
  chmodSync(profDir, 0o777); // written after the privilege drop
  const profiled = await measureStep(agentContender, v, workDir, files, TARGET_PPS, Math.min(files.packets, TARGET_PPS * SECONDS_PER_STEP), ['--cpu-prof', `--cpu-prof-dir=${profDir}`]);
  const main = readMainProfile(profDir);
  // Kept for a closer look (node's DevTools, or self time by function): bench/out/live-profile/.
  const kept = join(benchOutDir, 'live-profile');
  rmSync(kept, { recursive: true, force: true });
  cpSync(profDir, kept, { recursive: true });
  log(`live: the profiled step's CPU profiles are in ${kept}`);
  const ms = stageMillis(main, profiled.window);
  const sampled = [...ms.values()].reduce((a, b) => a + b, 0);
  // The store's thread by its name in /proc, in the unprofiled step: its own profile's busy samples overstated
  // it (9.2 % of a core in the bench of 2026-12-06, where /proc counts ~3.5 % for that thread in such a step).
  const workerPct = plain.storeCpuPct;
  const rows: Array<[string, string]> = [];
  let gcPct = 0;
  for (const stage of STAGES) {
    let pct: number;
    if (stage === 'store worker') pct = workerPct;
    else if (stage === 'capture thread') pct = plain.captureCpuPct;
    else if (stage === 'other threads') pct = Math.max(0, plain.cpuPct - plain.mainCpuPct - workerPct - plain.captureCpuPct);
    else pct = sampled > 0 ? (plain.mainCpuPct * ms.get(stage)!) / sampled : 0;
    if (stage === 'gc') gcPct = pct;
    rows.push([stage, `${pct.toFixed(1)} %`]);
  }
  rows.push(['total', `${plain.cpuPct.toFixed(1)} % of one core (main thread ${plain.mainCpuPct.toFixed(1)} %)`]);
  const breakdown = { title: `agent CPU by stage at ${k(TARGET_PPS)} pps (% of one core; main-thread shares from a profiled run of the same step)`, rows };
  return { breakdown, gcShare: plain.cpuPct > 0 ? gcPct / plain.cpuPct : 0 };
}
