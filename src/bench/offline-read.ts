/**
 * Offline read: Loopy's `read --json` against tcpdump's bare read and tshark's TCP conversation table, on two
 * generated captures of at least 2 M packets: the small-packet mix (chatty TCP of tiny messages, a tenth DNS;
 * the hard case) and the office mix (~500 B a packet). Each runs as its own process, one after another, on a
 * file already in the page cache.
 */
import { createReadStream, existsSync } from 'node:fs';
import { join } from 'node:path';
import { benchCapture, projectRoot } from './capture-cache.js';
import { isInstalled, measure } from './measure.js';
import type { MixName } from '../synth/generate.js';
import type { BenchOptions, BenchResult, Benchmark, Ratio, Target, ToolResult } from './types.js';

const LOOPY_CLI = join(projectRoot, 'dist', 'cli', 'main.js');
const TARGET_PPS = 3_000_000;
const TARGET_RSS = 300e6;

interface Contender {
  tool: string;
  display: string;
  command: string;
  args(file: string): string[];
  /** A reason it cannot run, checked before spawning. */
  missing(): string | null;
}

const CONTENDERS: readonly Contender[] = [
  {
    tool: 'loopy',
    display: 'node dist/cli/main.js read FILE --json',
    command: process.execPath,
    args: (file) => [LOOPY_CLI, 'read', file, '--json'],
    missing: () => (existsSync(LOOPY_CLI) ? null : `${LOOPY_CLI} not found: build it with npm run build`),
  },
  {
    // Both cores (decision 17): the speed-up over one engine is the figure issue 11 asks for.
    tool: 'loopy-workers-2',
    display: 'node dist/cli/main.js read FILE --json --workers 2',
    command: process.execPath,
    args: (file) => [LOOPY_CLI, 'read', file, '--json', '--workers', '2'],
    missing: () => (existsSync(LOOPY_CLI) ? null : `${LOOPY_CLI} not found: build it with npm run build`),
  },
  {
    tool: 'tcpdump',
    display: 'tcpdump -r FILE -w /dev/null',
    command: 'tcpdump',
    args: (file) => ['-r', file, '-w', '/dev/null'],
    missing: () => (isInstalled('tcpdump') ? null : 'not installed'),
  },
  {
    tool: 'tshark',
    display: 'tshark -r FILE -q -z conv,tcp',
    command: 'tshark',
    args: (file) => ['-r', file, '-q', '-z', 'conv,tcp'],
    missing: () => (isInstalled('tshark') ? null : 'not installed'),
  },
];

/** Reads the file once so every contender starts with it in the page cache. */
async function warmPageCache(path: string): Promise<void> {
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 22 })) void chunk;
}

async function runContender(c: Contender, file: string, packets: number, log: (line: string) => void): Promise<ToolResult> {
  const base = { tool: c.tool, command: c.display };
  const missing = c.missing();
  if (missing) return { ...base, status: missing === 'not installed' ? 'not installed' : 'failed', detail: missing };
  log(`running ${c.tool}: ${c.display}`);
  const m = await measure(c.command, c.args(file), { cwd: projectRoot });
  if (!m.ok) {
    const why = m.exitCode === null ? 'did not start' : `exit ${m.exitCode}`;
    return { ...base, status: 'failed', wallSeconds: m.wallSeconds, peakRssBytes: m.peakRssBytes, detail: `${why}${m.stderrTail ? `: ${m.stderrTail}` : ''}` };
  }
  return { ...base, status: 'ok', wallSeconds: m.wallSeconds, packetsPerSecond: packets / m.wallSeconds, peakRssBytes: m.peakRssBytes };
}

function ratio(label: string, a: ToolResult | undefined, b: ToolResult | undefined): Ratio {
  const ok = a?.packetsPerSecond !== undefined && b?.packetsPerSecond !== undefined;
  return { label, value: ok ? a!.packetsPerSecond! / b!.packetsPerSecond! : null };
}

/** The issue's targets: Mpps on the small-packet mix, and ratios to tcpdump's bare read on each mix. */
const MIX_TARGETS = {
  small: { pps: TARGET_PPS, vsTcpdump: 1 / 5 },
  office: { pps: undefined, vsTcpdump: 1 / 4 },
} as const satisfies Partial<Record<MixName, { pps: number | undefined; vsTcpdump: number }>>;

export const offlineRead: Benchmark = {
  name: 'offline-read',
  title: 'Offline read of generated captures (small-packet mix, office mix)',
  async run(options: BenchOptions): Promise<BenchResult> {
    const results: ToolResult[] = [];
    const ratios: Ratio[] = [];
    const targets: Target[] = [];
    const inputs: string[] = [];
    for (const mix of ['small', 'office'] as const) {
      const capture = await benchCapture(options.seed, options.packets, options.log, mix);
      const packets = capture.truth.packets;
      await warmPageCache(capture.path);
      const mixResults: ToolResult[] = [];
      for (const c of CONTENDERS) {
        if (options.only && !options.only.includes(c.tool)) {
          mixResults.push({ tool: c.tool, command: c.display, status: 'skipped', detail: 'not in --only' });
          continue;
        }
        mixResults.push(await runContender(c, capture.path, packets, options.log));
      }
      for (const r of mixResults) results.push({ ...r, tool: `${r.tool} (${mix})` });
      const by = (tool: string): ToolResult | undefined => mixResults.find((r) => r.tool === tool && r.status === 'ok');
      const loopy = by('loopy');
      const vsTshark = ratio(`${mix}: loopy ÷ tshark`, loopy, by('tshark'));
      const vsTcpdump = ratio(`${mix}: loopy ÷ tcpdump`, loopy, by('tcpdump'));
      ratios.push(vsTshark, vsTcpdump, ratio(`${mix}: loopy --workers 2 ÷ loopy (speed-up on this machine's cores)`, by('loopy-workers-2'), loopy));
      const want = MIX_TARGETS[mix];
      if (want.pps !== undefined) {
        targets.push({ description: `${mix}: loopy ≥ ${want.pps / 1e6} M packets/s (whole process)`, met: loopy ? loopy.packetsPerSecond! >= want.pps : null, actual: loopy ? `${(loopy.packetsPerSecond! / 1e6).toFixed(2)} M/s` : 'not run' });
      }
      targets.push({
        description: `${mix}: loopy within ${1 / want.vsTcpdump}× of tcpdump's bare read`,
        met: vsTcpdump.value === null ? null : vsTcpdump.value >= want.vsTcpdump,
        actual: vsTcpdump.value === null ? 'not run' : `${(1 / vsTcpdump.value).toFixed(1)}× slower`,
      });
      targets.push({
        description: `${mix}: loopy peak RSS ≤ ${(TARGET_RSS / 1e6).toFixed(0)} MB`,
        met: loopy?.peakRssBytes != null ? loopy.peakRssBytes <= TARGET_RSS : null,
        actual: loopy?.peakRssBytes != null ? `${(loopy.peakRssBytes / 1e6).toFixed(0)} MB` : loopy ? 'unknown (no GNU time)' : 'not run',
      });
      const size = `${(capture.fileBytes / 1e9).toFixed(2)} GB`;
      const origin = capture.cached ? 'cached' : `generated in ${capture.generateSeconds!.toFixed(1)} s`;
      inputs.push(`${mix}: ${capture.path} (${packets.toLocaleString('en-US')} packets, ${size}, ${(capture.fileBytes / packets).toFixed(0)} B a packet with its record header; ${origin})`);
    }
    return { name: this.name, title: this.title, input: inputs.join('\n       '), results, ratios, targets };
  },
};
