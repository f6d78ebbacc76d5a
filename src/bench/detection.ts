/**
 * The cost of detection: `loopy read FILE --json` on the bench capture without detection (--no-detect),
 * with it (the default), and with it plus the evidence ring (--evidence), each its own process, three
 * times, interleaved, best run kept (contention only ever adds time). The added CPU is the difference in
 * CPU seconds (user + system, from GNU time; wall seconds without it) per packet, scaled to the 300 000
 * packets/s the issue names: the share of a core detection would take at that rate. CPU time rather than
 * wall time because a busy machine stretches wall time far more than it stretches CPU time. The capture has
 * no incidents: this is the price of watching ordinary traffic.
 *
 * Two figures: the whole run's, and the steady state's. A process pays some of detection's cost once (its
 * modules loaded, the zod config parsed, its code compiled by the JIT), which a running agent paid long ago;
 * so both builds also read only the capture's first WARM_UP packets (`-c`), and the steady state is what
 * detection adds over the packets after them: (detect − detect@warm-up) − (no-detect − no-detect@warm-up).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchCapture, projectRoot } from './capture-cache.js';
import { haveGnuTime, measureCpu } from './measure.js';
import type { BenchOptions, BenchResult, Benchmark, ToolResult } from './types.js';

const LOOPY_CLI = join(projectRoot, 'dist', 'cli', 'main.js');
const RATE = 300_000;
/** Detection may take this share of a core at RATE packets/s. */
const TARGET_CORE_SHARE = 0.1;
const RUNS = 3;
/** Packets whose cost (start-up, JIT) the steady-state figure subtracts. */
const WARM_UP = 200_000;

/**
 * The share of a core detection adds at RATE packets/s once running: its added CPU seconds over the whole
 * capture less those over the first WARM_UP packets, per packet after them. `cost` holds each variant's
 * seconds by tool name; null when one is missing or the capture is no longer than the warm-up.
 */
export function steadyShare(cost: ReadonlyMap<string, number>, packets: number): number | null {
  const [d, dw, n, nw] = ['detect', 'detect@warm-up', 'no-detect', 'no-detect@warm-up'].map((t) => cost.get(t));
  if (d === undefined || dw === undefined || n === undefined || nw === undefined || packets <= WARM_UP) return null;
  return ((d - dw - (n - nw)) / (packets - WARM_UP)) * RATE;
}

interface Variant {
  tool: string;
  display: string;
  args(file: string, evidenceDir: string): string[];
  /** Reads only the capture's first WARM_UP packets. */
  warmUpOnly?: boolean;
}

const VARIANTS: readonly Variant[] = [
  { tool: 'no-detect', display: 'loopy read FILE --json --no-detect', args: (f) => [LOOPY_CLI, 'read', f, '--json', '--no-detect'] },
  { tool: 'detect', display: 'loopy read FILE --json', args: (f) => [LOOPY_CLI, 'read', f, '--json'] },
  { tool: 'detect+ring', display: 'loopy read FILE --json --evidence DIR', args: (f, dir) => [LOOPY_CLI, 'read', f, '--json', '--evidence', dir] },
  { tool: 'no-detect@warm-up', display: `loopy read FILE --json --no-detect -c ${WARM_UP}`, args: (f) => [LOOPY_CLI, 'read', f, '--json', '--no-detect', '-c', String(WARM_UP)], warmUpOnly: true },
  { tool: 'detect@warm-up', display: `loopy read FILE --json -c ${WARM_UP}`, args: (f) => [LOOPY_CLI, 'read', f, '--json', '-c', String(WARM_UP)], warmUpOnly: true },
];

export const detectionCost: Benchmark = {
  name: 'detection',
  title: 'Added CPU of detection (offline read, with and without)',
  async run(options: BenchOptions): Promise<BenchResult> {
    const capture = await benchCapture(options.seed, options.packets, options.log);
    const packets = capture.truth.packets;
    const evidenceDir = mkdtempSync(join(tmpdir(), 'loopy-bench-evidence-'));
    const best = new Map<string, ToolResult>();
    /** Seconds charged to each variant: CPU seconds, or wall seconds without GNU time. */
    const cost = new Map<string, number>();
    try {
      if (!existsSync(LOOPY_CLI)) {
        const detail = `${LOOPY_CLI} not found: build it with npm run build`;
        return { name: this.name, title: this.title, input: capture.path, results: VARIANTS.map((v) => ({ tool: v.tool, command: v.display, status: 'failed', detail })), ratios: [], targets: [] };
      }
      for (let run = 0; run < RUNS; run++) {
        for (const v of VARIANTS) {
          if (options.only && !options.only.includes(v.tool)) continue;
          options.log(`running ${v.tool} (${run + 1}/${RUNS}): ${v.display}`);
          const m = await measureCpu(v.args(capture.path, evidenceDir), projectRoot);
          const result: ToolResult = m.ok
            ? { tool: v.tool, command: v.display, status: 'ok', wallSeconds: m.wallSeconds, packetsPerSecond: (v.warmUpOnly ? Math.min(WARM_UP, packets) : packets) / m.wallSeconds, peakRssBytes: m.peakRssBytes }
            : { tool: v.tool, command: v.display, status: 'failed', wallSeconds: m.wallSeconds, detail: m.detail };
          if (!m.ok) {
            if (!best.has(v.tool)) best.set(v.tool, result);
            continue;
          }
          const spent = m.cpuSeconds ?? m.wallSeconds;
          const prev = best.get(v.tool);
          if (!prev || prev.status !== 'ok' || result.wallSeconds! < prev.wallSeconds!) best.set(v.tool, result);
          if (!cost.has(v.tool) || spent < cost.get(v.tool)!) cost.set(v.tool, spent);
        }
      }
    } finally {
      rmSync(evidenceDir, { recursive: true, force: true });
    }
    const results = VARIANTS.map((v) => best.get(v.tool) ?? { tool: v.tool, command: v.display, status: 'skipped' as const, detail: 'not in --only' });
    const ok = (tool: string) => results.find((r) => r.tool === tool && r.status === 'ok');
    const base = ok('no-detect');
    /** Share of one core the variant adds over no-detect at RATE packets/s. */
    const added = (tool: string): number | null => {
      const spent = cost.get(tool);
      const baseline = cost.get('no-detect');
      return spent === undefined || baseline === undefined ? null : ((spent - baseline) / packets) * RATE;
    };
    const basis = haveGnuTime() ? 'CPU seconds' : 'wall seconds (no GNU time)';
    const detect = added('detect');
    const ring = added('detect+ring');
    const steadyDetect = steadyShare(cost, packets);
    const share = (x: number | null) => (x === null ? 'not run' : `${(x * 100).toFixed(1)} % of a core (${((x / RATE) * 1e9).toFixed(0)} ns/packet)`);
    return {
      name: this.name,
      title: this.title,
      input: `${capture.path} (${packets.toLocaleString('en-US')} packets, no incidents; best of ${RUNS} runs each; cost from ${basis}: ${VARIANTS.map((v) => `${v.tool} ${cost.get(v.tool)?.toFixed(2) ?? '-'} s`).join(', ')})`,
      results,
      ratios: [
        { label: 'detect ÷ no-detect (packets/s)', value: base && ok('detect') ? ok('detect')!.packetsPerSecond! / base.packetsPerSecond! : null },
        { label: 'detect+ring ÷ no-detect', value: base && ok('detect+ring') ? ok('detect+ring')!.packetsPerSecond! / base.packetsPerSecond! : null },
      ],
      targets: [
        {
          description: `detection adds ≤ ${TARGET_CORE_SHARE * 100} % of a core at ${RATE.toLocaleString('en-US')} packets/s at steady state (the cost of the first ${WARM_UP.toLocaleString('en-US')} packets, start-up and JIT included, subtracted)`,
          met: steadyDetect === null ? null : steadyDetect <= TARGET_CORE_SHARE,
          actual: share(steadyDetect),
        },
        { description: `detection adds ≤ ${TARGET_CORE_SHARE * 100} % of a core at ${RATE.toLocaleString('en-US')} packets/s over the whole run (start-up included)`, met: detect === null ? null : detect <= TARGET_CORE_SHARE, actual: share(detect) },
        { description: `detection + evidence ring adds ≤ ${TARGET_CORE_SHARE * 100} % of a core at ${RATE.toLocaleString('en-US')} packets/s`, met: ring === null ? null : ring <= TARGET_CORE_SHARE, actual: share(ring) },
      ],
    };
  },
};
