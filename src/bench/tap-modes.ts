/**
 * How best to tap traffic from Node.js, measured (docs/research.md, question 1). The same frames (the live
 * bench's slice of the bench capture) are sent by tcpreplay into a veth pair at the live bench's rising
 * rates. At the other end, one process per tap mode captures and only counts (tap-consumer.ts). The modes
 * cross TPACKET_V3 ring blocks with immediate mode (TPACKET_V2, a wakeup per packet), and one JS call per
 * batch with one per packet. `tcpdump -w /dev/null` is the reference. For each mode and rate the bench
 * reports: the rate actually sent, packets captured, loss %, CPU % of one core (process CPU from /proc,
 * from the send until it has caught up, over the send time) and JS calls per second.
 * Each process is started once, warmed with packets that are not counted, and read with a counter snapshot
 * (signal) before and after each step. A mode that already lost more than 20 % at a lower rate skips the
 * faster steps.
 */
import { cpus, loadavg } from 'node:os';
import { benchCapture } from './capture-cache.js';
import { RATES, SECONDS_PER_STEP, SLICE_PACKETS, WARM_PACKETS, WARM_PPS, type Slices, blocker, slicesOf } from './live-capture.js';
import { type Sent, type Veth, cpuSeconds, peakRssBytes, setUpVeth, tcpreplay, tearDownVeth, untilIdle } from './live-veth.js';
import { TAP_CONTENDERS, type Tap, type TapContender, ringOf, sleep, vethTxDropped } from './tap-contenders.js';
import type { BenchOptions, BenchResult, Benchmark, Ratio, Target, ToolResult } from './types.js';

const SKIP_AFTER_LOSS_PCT = 20;
const RATIO_PPS = 100_000;
const TARGET_PPS = 300_000;
const BASE = 'blocks+batches';

interface Step {
  tool: string;
  asked: number | 'top';
  sent: Sent;
  captured: number;
  kernelDropped: number;
  /** Frames the sending veth could not hand over (receive backlog full): lost before any tap saw them. */
  vethDropped: number;
  lossPct: number;
  cpuPct: number;
  callsPerSecond: number | null;
  peakRss: number | null;
}

async function measureStep(c: TapContender, tap: Tap, v: Veth, slice: Slices, asked: number | 'top'): Promise<Step> {
  const limit = asked === 'top' ? slice.packets : Math.min(slice.packets, asked * SECONDS_PER_STEP);
  const before = await tap.snapshot();
  const veth0 = vethTxDropped(v);
  const cpu0 = cpuSeconds(tap.pid);
  const sent = await tcpreplay(v, slice.path, asked, limit);
  await untilIdle(tap.pid);
  const cpu = cpuSeconds(tap.pid) - cpu0;
  await sleep(c.settleMs);
  const after = await tap.snapshot();
  const captured = after.packets - before.packets;
  const calls = after.calls === null || before.calls === null ? null : after.calls - before.calls;
  return {
    tool: c.tool,
    asked,
    sent,
    captured,
    kernelDropped: after.kernelDropped - before.kernelDropped,
    vethDropped: vethTxDropped(v) - veth0,
    lossPct: sent.packets > 0 ? (100 * Math.max(0, sent.packets - captured)) / sent.packets : 0,
    cpuPct: (100 * cpu) / sent.seconds,
    callsPerSecond: calls === null ? null : calls / sent.seconds,
    peakRss: peakRssBytes(tap.pid),
  };
}

const k = (n: number) => (n >= 1000 ? `${(n / 1000).toFixed(n >= 100_000 ? 0 : 1)}k` : n.toFixed(0));
const rateLabel = (asked: number | 'top') => (asked === 'top' ? 'top speed' : `${k(asked)} pps`);

function toolResult(s: Step, display: string): ToolResult {
  const calls = s.callsPerSecond === null ? 'no JS' : `${k(s.callsPerSecond)} JS calls/s`;
  return {
    tool: s.tool,
    command:
      `${rateLabel(s.asked)}: sent ${k(s.sent.pps)}/s, got ${s.captured.toLocaleString('en-US')}/${s.sent.packets.toLocaleString('en-US')}, ` +
      `loss ${s.lossPct.toFixed(2)} % (ring drops ${s.kernelDropped}, veth drops ${s.vethDropped}), CPU ${s.cpuPct.toFixed(1)} %, ${calls}  (${display})`,
    status: 'ok',
    wallSeconds: s.sent.seconds,
    packetsPerSecond: s.captured / s.sent.seconds,
    peakRssBytes: s.peakRss,
  };
}

interface Run {
  v: Veth;
  slice: Slices;
  log: BenchOptions['log'];
  steps: Step[];
  results: ToolResult[];
  /** "tool: ring" per contender, for the input line. */
  rings: string[];
}

/**
 * Runs every rate for one contender in one process, appending to `steps` and `results`. A failure ends this
 * contender's run (reported as failed); the steps measured before it are kept.
 */
async function runContender(c: TapContender, run: Run): Promise<void> {
  const { v, slice, log, steps, results } = run;
  let tap: Tap | undefined;
  try {
    tap = await c.start(v);
    run.rings.push(`${c.tool}: ${ringOf(v, tap.pid)}`);
    // Warm, unmeasured: JIT, ring pages and allocator, as in a capture that runs all day.
    await tcpreplay(v, slice.warmPath, WARM_PPS, WARM_PACKETS);
    await untilIdle(tap.pid);
    await sleep(c.settleMs); // so no warm-up packet is counted in the first step
    let worst: Step | undefined;
    for (const asked of RATES) {
      if (worst && worst.lossPct > SKIP_AFTER_LOSS_PCT) {
        const detail = `${rateLabel(asked)}: not run, already lost ${worst.lossPct.toFixed(1)} % at ${rateLabel(worst.asked)}`;
        results.push({ tool: c.tool, command: detail, status: 'skipped', detail });
        continue;
      }
      log(`tap-modes: ${c.tool} at ${rateLabel(asked)}`);
      const step = await measureStep(c, tap, v, slice, asked);
      steps.push(step);
      results.push(toolResult(step, c.display));
      if (!worst || step.lossPct > worst.lossPct) worst = step;
    }
  } catch (err) {
    results.push({ tool: c.tool, command: c.display, status: 'failed', detail: (err as Error).message });
  } finally {
    await tap?.stop();
  }
}

function ratios(steps: Step[]): Ratio[] {
  const at = (tool: string, pps: number) => steps.find((s) => s.tool === tool && s.asked === pps);
  const cpuRatio = (tool: string, pps: number, base = BASE): Ratio => {
    const a = at(tool, pps);
    const b = at(base, pps);
    return { label: `CPU ${tool} ÷ ${base} at ${k(pps)} pps`, value: a && b && b.cpuPct > 0 ? a.cpuPct / b.cpuPct : null };
  };
  const pp = at('blocks+per-packet', RATIO_PPS);
  const bb = at(BASE, RATIO_PPS);
  return [
    cpuRatio('blocks+per-packet', RATIO_PPS),
    cpuRatio('immediate+batches', RATIO_PPS),
    cpuRatio('immediate+per-packet', RATIO_PPS),
    cpuRatio(BASE, RATIO_PPS, 'tcpdump'),
    {
      label: `JS calls/s blocks+per-packet ÷ ${BASE} at ${k(RATIO_PPS)} pps`,
      value: pp?.callsPerSecond && bb?.callsPerSecond ? pp.callsPerSecond / bb.callsPerSecond : null,
    },
  ];
}

function targets(steps: Step[]): Target[] {
  const base = steps.filter((s) => s.tool === BASE);
  const at300 = base.find((s) => s.asked === TARGET_PPS);
  const top = base.find((s) => s.asked === 'top');
  // Judged only where the sender really reached (nearly) 300k.
  const reached = at300 !== undefined && at300.sent.pps >= TARGET_PPS * 0.95;
  return [
    {
      description: `${BASE} loses nothing at ${k(TARGET_PPS)} packets/s`,
      met: reached ? at300!.captured >= at300!.sent.packets : null,
      actual: at300 ? `${at300.lossPct.toFixed(2)} % lost at ${k(at300.sent.pps)}/s sent` : 'not run',
    },
    {
      description: `${BASE} loses nothing at the fastest rate this machine sends`,
      met: top ? top.captured >= top.sent.packets : null,
      actual: top ? `${top.lossPct.toFixed(2)} % lost at ${k(top.sent.pps)}/s` : 'not run',
    },
  ];
}

export const tapModes: Benchmark = {
  name: 'tap-modes',
  title: 'Tapping from Node.js: ring blocks vs immediate mode × a JS call per batch vs per packet (count only), tcpdump as reference',
  async run(options: BenchOptions): Promise<BenchResult> {
    const base = { name: this.name, title: this.title };
    const wanted = TAP_CONTENDERS.filter((c) => !options.only || options.only.includes(c.tool));
    const stop = blocker();
    if (stop) {
      return { ...base, input: `not run: ${stop.detail}`, results: wanted.map((c) => ({ tool: c.tool, command: c.display, ...stop })), ratios: ratios([]), targets: targets([]) };
    }
    const capture = await benchCapture(options.seed, options.packets, options.log);
    const slice = await slicesOf(capture.path, Math.min(SLICE_PACKETS, capture.truth.packets - WARM_PACKETS), WARM_PACKETS, options.seed);
    const load = () => loadavg()[0].toFixed(1);
    const loadBefore = load();
    const v = setUpVeth();
    const run: Run = { v, slice, log: options.log, steps: [], results: [], rings: [] };
    try {
      for (const c of wanted) await runContender(c, run);
    } finally {
      tearDownVeth(v);
    }
    const { steps, results } = run;
    return {
      ...base,
      input:
        `${slice.path} (first ${slice.packets.toLocaleString('en-US')} packets of the bench capture, seed ${options.seed}; ` +
        `${k(WARM_PACKETS)} warm-up packets per process, not counted), tcpreplay into a veth pair, ${SECONDS_PER_STEP} s per rate; ` +
        `${cpus().length} cores, load average ${loadBefore} before, ${load()} after; rings: ${run.rings.join('; ')}`,
      results,
      ratios: ratios(steps),
      targets: targets(steps),
    };
  },
};
