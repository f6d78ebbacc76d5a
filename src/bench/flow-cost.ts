/**
 * The engine's cost per packet and per flow, offline with detection off: `loopy read FILE --no-detect` (the
 * summary, no NDJSON) and the same with `--json`, on the three generated mixes, CPU seconds (user + system of
 * the whole process) of the best of three interleaved runs. The few mix (59 flows) gives the floor, a cost per
 * packet and a start-up; the small and office mixes' CPU above that floor, divided by their flows, is the
 * cost per flow as docs/research.md counts it (issue 11). That figure also holds what does not grow with the
 * flows: the JIT compiling the code a mix exercises (the application analyzers) and the kernel copying a larger
 * file. So each mix is read again to its first quarter (-c): the whole minus the quarter, over the flows of the
 * last three quarters, is the steady state, what a running agent pays for each new flow.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { benchCapture, projectRoot } from './capture-cache.js';
import { haveGnuTime, measureCpu } from './measure.js';
import type { MixName } from '../synth/generate.js';
import type { BenchOptions, BenchResult, Benchmark, ToolResult } from './types.js';

const LOOPY_CLI = join(projectRoot, 'dist', 'cli', 'main.js');
const RUNS = 3;
const MIXES = ['few', 'small', 'office'] as const satisfies readonly MixName[];
const MODES = [
  { name: 'summary', args: [] as string[] },
  { name: 'json', args: ['--json'] },
] as const;

/** One mix read whole and to its first quarter, best CPU seconds per mode. */
interface MixCost {
  mix: MixName;
  packets: number;
  flows: number;
  quarterPackets: number;
  quarterFlows: number;
  /** By mode name: [whole, quarter] CPU seconds. */
  cpu: Map<string, [number, number]>;
}

/** Flows the engine made of the file's first `count` packets: the summary record's count. */
function flowsOf(file: string, count: number): number {
  const dir = mkdtempSync(join(tmpdir(), 'loopy-bench-flows-'));
  try {
    const out = join(dir, 'records.ndjson');
    spawnSync('sh', ['-c', `"$0" "$1" read "$2" --no-detect --json -c "$3" > "$4"`, process.execPath, LOOPY_CLI, file, String(count), out], { stdio: 'ignore' });
    const last = readFileSync(out, 'utf8').trimEnd().split('\n').pop() ?? '{}';
    return (JSON.parse(last) as { flows?: number }).flows ?? Number.NaN;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function costOf(mix: MixName, options: BenchOptions, results: ToolResult[]): Promise<MixCost> {
  const capture = await benchCapture(options.seed, options.packets, options.log, mix);
  const packets = capture.truth.packets;
  const quarterPackets = Math.floor(packets / 4);
  const cost: MixCost = { mix, packets, flows: flowsOf(capture.path, packets), quarterPackets, quarterFlows: flowsOf(capture.path, quarterPackets), cpu: new Map() };
  for (let run = 0; run < RUNS; run++) {
    for (const mode of MODES) {
      const spent: number[] = [];
      for (const count of [packets, quarterPackets]) {
        options.log(`${mix} ${mode.name} -c ${count} (${run + 1}/${RUNS})`);
        const m = await measureCpu([LOOPY_CLI, 'read', capture.path, '--no-detect', ...mode.args, '-c', String(count)], projectRoot);
        if (!m.ok) throw new Error(`loopy read failed on ${capture.path}: ${m.detail}`);
        spent.push(m.cpuSeconds ?? m.wallSeconds);
        if (count === packets && run === RUNS - 1) {
          results.push({ tool: `${mix} ${mode.name}`, command: `loopy read FILE --no-detect${mode.args.map((a) => ` ${a}`).join('')}`, status: 'ok', wallSeconds: m.wallSeconds, packetsPerSecond: packets / m.wallSeconds, peakRssBytes: m.peakRssBytes });
        }
      }
      const best = cost.cpu.get(mode.name);
      cost.cpu.set(mode.name, best === undefined ? [spent[0], spent[1]] : [Math.min(best[0], spent[0]), Math.min(best[1], spent[1])]);
    }
  }
  return cost;
}

/** The few mix's floor in one mode: seconds a packet (steady) and the start-up left over. */
function floorOf(few: MixCost, mode: string): { perPacket: number; startUp: number } {
  const [whole, quarter] = few.cpu.get(mode)!;
  const perPacket = (whole - quarter) / (few.packets - few.quarterPackets);
  return { perPacket, startUp: whole - perPacket * few.packets };
}

const micros = (seconds: number): string => `${(seconds * 1e6).toFixed(2)} µs`;

/** Per flow over the whole run (as the research counts it) and in the steady state (the last three quarters). */
function perFlowRows(c: MixCost, few: MixCost): Array<[string, string]> {
  return MODES.map(({ name }) => {
    const floor = floorOf(few, name);
    const [whole, quarter] = c.cpu.get(name)!;
    const wholeRun = (whole - floor.startUp - floor.perPacket * c.packets) / c.flows;
    const steady = (whole - quarter - floor.perPacket * (c.packets - c.quarterPackets)) / (c.flows - c.quarterFlows);
    return [`${c.mix}, ${name}: a flow, whole run / steady state`, `${micros(wholeRun)} / ${micros(steady)} (${c.flows.toLocaleString('en-US')} flows; CPU ${whole.toFixed(2)} s, first quarter ${quarter.toFixed(2)} s)`];
  });
}

export const flowCost: Benchmark = {
  name: 'flow-cost',
  title: "The engine's cost per packet and per flow (offline read, detection off)",
  async run(options: BenchOptions): Promise<BenchResult> {
    const results: ToolResult[] = [];
    const costs = new Map<MixName, MixCost>();
    for (const mix of MIXES) costs.set(mix, await costOf(mix, options, results));
    const few = costs.get('few')!;
    const rows: Array<[string, string]> = MODES.map(({ name }) => {
      const floor = floorOf(few, name);
      return [`floor, ${name} (few mix): a packet / start-up`, `${micros(floor.perPacket)} / ${floor.startUp.toFixed(2)} s`];
    });
    for (const mix of MIXES) if (mix !== 'few') rows.push(...perFlowRows(costs.get(mix)!, few));
    const basis = haveGnuTime() ? 'CPU seconds (user + system)' : 'wall seconds (no GNU time)';
    return {
      name: this.name,
      title: this.title,
      input: `${MIXES.map((m) => `${m}: ${costs.get(m)!.packets.toLocaleString('en-US')} packets`).join(', ')}; best of ${RUNS} runs each, whole and first quarter; ${basis}`,
      results,
      ratios: [],
      targets: [],
      breakdown: { title: 'Cost per packet and per flow', rows },
    };
  },
};
