/**
 * What the offline read costs at the least in JavaScript: the engine's own first steps, timed in this process
 * on the small and office mixes, each step with the ones before it — reading the file into batches, decoding
 * every frame (the dissector, its sink doing nothing), looking every packet's flow up in the flow table — and
 * the JSON text of the records the file makes (V8's JSON.stringify, its native serialiser, on the records
 * `loopy read --json --no-detect` writes). No TCP state, analyzer, record making or detection is in it: every
 * whole engine pays at least this. Set against issue 11's 3 M packets/s, it says how much of that budget is
 * left for the rest (docs/decisions/0020-engine-in-typescript.md).
 * Best of RUNS passes each (the first pays the JIT).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { openCaptureFile } from '../capture/capture-file.js';
import { META_CAPLEN, META_IFACE, META_OFFSET, META_STRIDE, META_WIRELEN } from '../capture/batch.js';
import { Dissector } from '../decode/dissector.js';
import { Packet } from '../decode/packet.js';
import { defaultProtocols } from '../decode/protocols/index.js';
import { WeirdCounter } from '../decode/weirds.js';
import { FlowTable } from '../analyze/flows/flow-table.js';
import { benchCapture, projectRoot } from './capture-cache.js';
import type { MixName } from '../synth/generate.js';
import type { BenchOptions, BenchResult, Benchmark, Ratio, Target, ToolResult } from './types.js';

const LOOPY_CLI = join(projectRoot, 'dist', 'cli', 'main.js');
const RUNS = 3;
const MIXES = ['small', 'office'] as const satisfies readonly MixName[];
/** Issue 11's offline target on the small mix, as a cost a packet. */
const TARGET_PPS = 3_000_000;
/** Room for every flow of a 2 M-packet mix: the floor never ends a flow. */
const FLOOR_MAX_FLOWS = 1 << 20;

type Step = 'read' | 'decode' | 'lookup';
const STEPS: readonly Step[] = ['read', 'decode', 'lookup'];
const STEP_LABELS: Record<Step, string> = {
  read: 'read into batches',
  decode: '+ decode every frame',
  lookup: '+ flow-table lookup',
};

/** CPU seconds of one pass over the file through `step`, and the packets it saw. */
async function pass(file: string, step: Step): Promise<{ seconds: number; packets: number }> {
  const table = new FlowTable(FLOOR_MAX_FLOWS);
  let found = 0;
  const sink =
    step === 'lookup'
      ? (p: Packet): void => {
          if (p.ipVersion !== 0) found += table.lookup(p, p.transport, p.srcPort, p.dstPort, true) & 1;
        }
      : (p: Packet): void => {
          found += p.srcPort & 1;
        };
  const dissector = new Dissector(defaultProtocols, new WeirdCounter(), sink);
  const pkt = new Packet();
  let packets = 0;
  const started = process.cpuUsage();
  for await (const batch of openCaptureFile(file)) {
    const { data, meta, ts, linkTypes } = batch;
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    for (let i = 0; i < batch.count; i++) {
      packets++;
      if (step === 'read') continue;
      const m = i * META_STRIDE;
      const iface = meta[m + META_IFACE];
      pkt.reset(data, view, meta[m + META_OFFSET], meta[m + META_CAPLEN], meta[m + META_WIRELEN], ts[i], linkTypes[iface] ?? -1, iface);
      dissector.dissect(pkt);
    }
  }
  const spent = process.cpuUsage(started);
  // `found` keeps the sink's work from being optimised away.
  if (found < 0) throw new Error('unreachable');
  return { seconds: (spent.user + spent.system) / 1e6, packets };
}

/** The records `loopy read --json --no-detect` makes of the file, as objects (the summary line left out). */
function recordsOf(file: string): object[] {
  const dir = mkdtempSync(join(tmpdir(), 'loopy-bench-floor-'));
  try {
    const out = join(dir, 'records.ndjson');
    const run = spawnSync('sh', ['-c', `"$0" "$1" read "$2" --no-detect --json > "$3"`, process.execPath, LOOPY_CLI, file, out], { stdio: 'ignore' });
    if (run.status !== 0) throw new Error(`loopy read --json failed on ${file} (exit ${run.status})`);
    const lines = readFileSync(out, 'utf8').trimEnd().split('\n');
    return lines.map((line) => JSON.parse(line) as { type?: string }).filter((r) => r.type !== 'summary');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** CPU seconds JSON.stringify takes over every record, best of RUNS. */
function stringifySeconds(records: readonly object[]): number {
  let best = Infinity;
  for (let run = 0; run < RUNS; run++) {
    let chars = 0;
    const started = process.cpuUsage();
    for (const r of records) chars += JSON.stringify(r).length;
    const spent = process.cpuUsage(started);
    if (chars < 0) throw new Error('unreachable');
    best = Math.min(best, (spent.user + spent.system) / 1e6);
  }
  return best;
}

const nanos = (seconds: number, per: number): string => `${((seconds / per) * 1e9).toFixed(0)} ns`;
const mpps = (secondsPerPacket: number): string => `${(1 / secondsPerPacket / 1e6).toFixed(2)} M packets/s`;

/** One mix's floor: the best CPU seconds of each step over its packets, and its records' JSON. */
interface MixFloor {
  mix: MixName;
  packets: number;
  steps: Map<Step, number>;
  records: number;
  jsonSeconds: number;
}

async function measureMix(mix: MixName, options: BenchOptions): Promise<MixFloor> {
  const capture = await benchCapture(options.seed, options.packets, options.log, mix);
  const steps = new Map<Step, number>();
  let packets = 0;
  for (let run = 0; run < RUNS; run++) {
    for (const step of STEPS) {
      options.log(`${mix}: ${STEP_LABELS[step]} (${run + 1}/${RUNS})`);
      const p = await pass(capture.path, step);
      packets = p.packets;
      steps.set(step, Math.min(steps.get(step) ?? Infinity, p.seconds));
    }
  }
  options.log(`${mix}: the records of loopy read --json --no-detect`);
  const records = recordsOf(capture.path);
  return { mix, packets, steps, records: records.length, jsonSeconds: stringifySeconds(records) };
}

/** Seconds a packet at the floor: everything up to the lookup, and the records' JSON. */
const floorPerPacket = (f: MixFloor): number => (f.steps.get('lookup')! + f.jsonSeconds) / f.packets;

function floorRows(f: MixFloor): Array<[string, string]> {
  const rows: Array<[string, string]> = STEPS.map((step) => [`${f.mix}: ${STEP_LABELS[step]}, a packet`, `${nanos(f.steps.get(step)!, f.packets)} (${mpps(f.steps.get(step)! / f.packets)})`]);
  rows.push([`${f.mix}: JSON.stringify of its ${f.records.toLocaleString('en-US')} records, a record / a packet`, `${nanos(f.jsonSeconds, f.records)} / ${nanos(f.jsonSeconds, f.packets)}`]);
  rows.push([`${f.mix}: the floor, a packet (lookup + JSON)`, `${nanos(floorPerPacket(f), 1)} (${mpps(floorPerPacket(f))})`]);
  return rows;
}

function floorResult(f: MixFloor): ToolResult {
  // Its CPU seconds stand in the wall column: one thread, in this process, nothing else running.
  const perPacket = floorPerPacket(f);
  const command = 'in process: read, decode, flow lookup; JSON.stringify of the records (CPU s)';
  return { tool: `${f.mix} floor`, command, status: 'ok', wallSeconds: perPacket * f.packets, packetsPerSecond: 1 / perPacket };
}

export const jsFloor: Benchmark = {
  name: 'js-floor',
  title: "JavaScript's floor under the offline read: reading, decoding, the flow lookup and the records' JSON",
  async run(options: BenchOptions): Promise<BenchResult> {
    const floors: MixFloor[] = [];
    for (const mix of MIXES) floors.push(await measureMix(mix, options));
    const budget = 1 / TARGET_PPS;
    const ratios: Ratio[] = floors.map((f) => ({ label: `${f.mix}: floor ÷ the 3 M packets/s budget (${nanos(budget, 1)} a packet)`, value: floorPerPacket(f) / budget }));
    const small = floors.find((f) => f.mix === 'small')!;
    const targets: Target[] = [
      {
        description: `small: JavaScript's floor leaves room under 3 M packets/s`,
        met: floorPerPacket(small) < budget,
        actual: `${((floorPerPacket(small) / budget) * 100).toFixed(0)} % of the budget spent before TCP state, analyzers, records and detection`,
      },
    ];
    return {
      name: this.name,
      title: this.title,
      input: `${MIXES.join(' and ')} mixes, ${options.packets.toLocaleString('en-US')} packets each; CPU seconds in this process, best of ${RUNS} passes`,
      results: floors.map(floorResult),
      ratios,
      targets,
      breakdown: { title: 'Cost of each step, with the ones before it', rows: floors.flatMap(floorRows) },
    };
  },
};
