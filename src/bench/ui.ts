/**
 * The terminal UI, as a user sees it: `loopy ui` in tmux (200×50), the screen read with capture-pane.
 *  (a) Packet → screen. An agent replays a generated capture at real speed; a parallel client subscribed
 *      to its per-second statistics learns each second's record (ts = the moment the agent rolled the
 *      second, its end) and so what the Overview's "pps in X out Y" must turn into. capture-pane every
 *      20 ms notes when it does. roll → screen is measured; a packet also waits for its second to end
 *      (half a second on average, a full one at worst), so packet → screen = that wait + roll → screen.
 *  (b) The UI's own CPU (utime + stime from /proc/PID/stat of its node process) over 30 s while it shows
 *      two busy agents (replaying at --speed 20), and its resident memory each second of that window: it
 *      must stay flat (React's development build once made it grow ~50 MB/s here).
 * Skipped ("not installed") without tmux.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAgent } from '../client/connect-agent.js';
import type { StatsSecond } from '../stats/stats-record.js';
import { generateCapture } from '../synth/generate.js';
import { cliCommand } from '../test-support/cli.js';
import { formatSi } from '../ui/format.js';
import { TmuxServer, haveTmux } from '../ui/testing/tmux.js';
import { cpuSeconds, peakRssBytes } from './live-veth.js';
import type { BenchOptions, BenchResult, Benchmark, ToolResult } from './types.js';

const LATENCY_WINDOW_S = 12;
const CPU_WINDOW_S = 30;
const RSS_LIMIT_BYTES = 300 * 1024 * 1024;
const BUSY_SPEED = 20;
const POLL_MS = 20;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function startAgent(capture: string, dir: string, name: string, speed: number): { child: ChildProcess; sock: string } {
  const [cmd, ...pre] = cliCommand();
  const sock = join(dir, `${name}.sock`);
  const args = [...pre, 'agent', '-r', capture, '--loop', '--speed', String(speed), '--listen', `unix:${sock}`, '--data', join(dir, name), '--log', join(dir, `${name}.log`)];
  return { child: spawn(cmd, args, { stdio: 'ignore' }), sock };
}

async function stopAgent(agent: { child: ChildProcess }): Promise<void> {
  if (agent.child.exitCode !== null || agent.child.signalCode !== null) return;
  agent.child.kill('SIGTERM');
  await once(agent.child, 'exit');
}

async function waitForFile(path: string, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!existsSync(path)) {
    if (Date.now() > until) throw new Error(`${path} did not appear (the agent did not start)`);
    await sleep(100);
  }
}

/** What the Overview prints for a stats record (OverviewView's rate(): per second of the record's duration). */
function ppsText(s: StatsSecond): string {
  const per = s.duration > 0 ? s.duration : 1;
  return `pps in ${formatSi(s.packets_in / per)} out ${formatSi(s.packets_out / per)}`;
}

const median = (sorted: number[]) => (sorted.length === 0 ? Number.NaN : sorted[Math.floor(sorted.length / 2)]);

/**
 * (a): one agent at real speed, UIS UIs started a fraction of a second apart, one probe client; returns
 * roll → screen delays in ms. The UI redraws on its own once-a-second ticker, so its delay depends on
 * where that ticker falls against the agent's roll: staggered UIs sample that phase instead of one draw.
 */
const UIS = 4;
async function measureDelay(tmux: TmuxServer, ui: string[], capture: string, dir: string): Promise<{ delays: number[]; records: number; unmatched: number }> {
  const agent = startAgent(capture, dir, 'paced', 1);
  const probe = connectAgent(`unix:${agent.sock}`, { configDir: join(dir, 'client') });
  const sessions = Array.from({ length: UIS }, (_, i) => `delay${i}`);
  try {
    await waitForFile(agent.sock);
    for (const s of sessions) {
      tmux.start(s, 200, 50, [...ui, `unix:${agent.sock}`]);
      await sleep(1000 / UIS + 37); // not a divisor of the second: phases spread, whatever start-up costs
    }
    for (const s of sessions) await tmux.waitFor(s, /● \S*paced\.sock\s+connected[\s\S]*pps in [1-9]/, 30_000);
    const records: StatsSecond[] = [];
    const off = probe.subscribe(['stats'], (e) => void (e.record.type === 'stats' && records.push(e.record as StatsSecond)));
    const changes = sessions.map(() => [] as Array<{ at: number; text: string }>);
    const last = sessions.map(() => '');
    const until = Date.now() + LATENCY_WINDOW_S * 1000;
    while (Date.now() < until) {
      sessions.forEach((s, i) => {
        const text = /pps in \S+ out \S+/.exec(tmux.screen(s))?.[0] ?? '';
        if (text !== last[i]) changes[i].push({ at: Date.now(), text });
        last[i] = text;
      });
      await sleep(POLL_MS);
    }
    off();
    // Each second whose figures differ from the previous second's must show as a change to them on every
    // UI: the first change to that text at or after the roll (a second with the same figures cannot be told apart).
    const delays: number[] = [];
    let unmatched = 0;
    let judged = 0;
    for (let i = 1; i < records.length; i++) {
      const text = ppsText(records[i]);
      if (text === ppsText(records[i - 1])) continue;
      const rolled = records[i].ts * 1000;
      if (rolled > until - 1500) continue; // too late in the window to be seen
      for (const seen of changes) {
        judged++;
        const change = seen.find((c) => c.text === text && c.at >= rolled - POLL_MS);
        if (change) delays.push(change.at - rolled);
        else unmatched++;
      }
    }
    return { delays: delays.sort((a, b) => a - b), records: judged, unmatched };
  } finally {
    probe.close();
    await stopAgent(agent);
  }
}

/** (b): two agents at --speed 20, one UI on both; returns its CPU % and peak RSS. */
export function residentBytes(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : Number.NaN;
}

interface UiCost {
  cpuPercent: number;
  peakRss: number | null;
  /** Resident memory at the start and the end of the window. */
  rssStart: number;
  rssEnd: number;
  pps: number;
}

async function measureCpu(tmux: TmuxServer, ui: string[], captures: string[], dir: string): Promise<UiCost> {
  const agents = captures.map((c, i) => startAgent(c, dir, `busy${i}`, BUSY_SPEED));
  const probe = connectAgent(`unix:${agents[0].sock}`, { configDir: join(dir, 'client') });
  try {
    for (const a of agents) await waitForFile(a.sock);
    tmux.start('cpu', 200, 50, [...ui, ...agents.map((a) => `unix:${a.sock}`)]);
    await tmux.waitFor('cpu', /● \S*busy0\.sock\s+connected[\s\S]*● \S*busy1\.sock\s+connected/, 30_000);
    await sleep(2000); // past start-up: module loading and the first subscriptions
    const pid = Number(tmux.run('display-message', '-p', '-t', 'cpu', '#{pane_pid}').trim());
    // `env` execs node: the pane's process is the UI itself.
    const comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    if (comm !== 'node') throw new Error(`the pane runs ${comm}, not node`);
    let packets = 0;
    const off = probe.subscribe(['stats'], (e) => void (e.record.type === 'stats' && (packets += (e.record as StatsSecond).packets)));
    const cpu0 = cpuSeconds(pid);
    const rssStart = residentBytes(pid);
    await sleep(CPU_WINDOW_S * 1000);
    const cpuPercent = ((cpuSeconds(pid) - cpu0) / CPU_WINDOW_S) * 100;
    const rssEnd = residentBytes(pid);
    off();
    return { cpuPercent, peakRss: peakRssBytes(pid), rssStart, rssEnd, pps: packets / CPU_WINDOW_S };
  } finally {
    probe.close();
    await Promise.all(agents.map(stopAgent));
  }
}

export const uiBench: Benchmark = {
  name: 'ui',
  title: 'UI: packet → screen delay in `loopy ui` (tmux), and the UI\'s own CPU over two busy agents',
  async run(options: BenchOptions): Promise<BenchResult> {
    const input = 'two generated 1-minute captures (~2,500 packets/s), replayed in a loop by agents on unix sockets';
    if (!haveTmux()) {
      const skipped = (tool: string): ToolResult => ({ tool, command: 'loopy ui in tmux', status: 'not installed', detail: 'tmux is not installed' });
      return { name: 'ui', title: this.title, input, results: [skipped('packet → screen'), skipped('ui CPU')], ratios: [], targets: [{ description: 'packet → screen ≤ 1 s', met: null, actual: 'not run (no tmux)' }] };
    }
    const dir = mkdtempSync(join(tmpdir(), 'loopy-bench-ui-'));
    chmodSync(dir, 0o755); // agents started as root become nobody and must still reach their files
    const tmux = new TmuxServer(`loopy-bench-ui-${process.pid}`);
    const ui = [...cliCommand(), 'ui'];
    const results: ToolResult[] = [];
    const targets: BenchResult['targets'] = [];
    try {
      const captures = [join(dir, 'a.pcap'), join(dir, 'b.pcap')];
      await generateCapture({ seed: options.seed, durationSeconds: 60 }, captures[0]);
      await generateCapture({ seed: options.seed + 1, durationSeconds: 60 }, captures[1]);

      try {
        const d = await measureDelay(tmux, ui, captures[0], dir);
        const med = median(d.delays);
        const max = d.delays.length ? d.delays[d.delays.length - 1] : Number.NaN;
        const summary = `roll → screen median ${med.toFixed(0)} ms, max ${max.toFixed(0)} ms (${d.delays.length}/${d.records} seconds seen on ${UIS} staggered UIs, capture-pane every ${POLL_MS} ms)`;
        options.log(`ui: ${summary}`);
        results.push({ tool: 'packet → screen', command: summary, status: d.delays.length ? 'ok' : 'failed', wallSeconds: LATENCY_WINDOW_S, detail: d.delays.length ? undefined : 'no second showed on the screen' });
        // A packet waits for the end of its second: 0.5 s on average, up to 1 s.
        const typical = 500 + med;
        const worst = 1000 + max;
        targets.push({ description: 'packet → screen ≤ 1 s (typical packet: half a second to the roll + median roll → screen)', met: d.delays.length ? typical <= 1000 : null, actual: `typical ${(typical / 1000).toFixed(2)} s, worst ${(worst / 1000).toFixed(2)} s` });
        targets.push({ description: 'roll → screen ≤ 1 s (max)', met: d.delays.length ? max <= 1000 : null, actual: `${max.toFixed(0)} ms; ${d.unmatched} seconds not seen` });
      } catch (err) {
        results.push({ tool: 'packet → screen', command: 'loopy ui unix:SOCK (agent --speed 1)', status: 'failed', detail: (err as Error).message.split('\n')[0] });
      }
      try {
        tmux.kill();
        const c = await measureCpu(tmux, ui, captures, dir);
        const mb = (b: number) => `${(b / 1e6).toFixed(0)} MB`;
        const summary = `loopy ui CPU ${c.cpuPercent.toFixed(1)} % over ${CPU_WINDOW_S} s, two agents at --speed ${BUSY_SPEED} (~${formatSi(c.pps)} packets/s each); RSS ${mb(c.rssStart)} → ${mb(c.rssEnd)}`;
        options.log(`ui: ${summary}`);
        results.push({ tool: 'ui CPU', command: summary, status: 'ok', wallSeconds: CPU_WINDOW_S, peakRssBytes: c.peakRss });
        targets.push({ description: `UI memory bounded over ${CPU_WINDOW_S} s of two busy agents (peak RSS ≤ 300 MB)`, met: c.peakRss === null ? null : c.peakRss <= RSS_LIMIT_BYTES, actual: `peak ${c.peakRss === null ? '?' : mb(c.peakRss)}, ${mb(c.rssStart)} at the start, ${mb(c.rssEnd)} at the end` });
      } catch (err) {
        results.push({ tool: 'ui CPU', command: `loopy ui SOCK1 SOCK2 (agents --speed ${BUSY_SPEED})`, status: 'failed', detail: (err as Error).message.split('\n')[0] });
      }
    } finally {
      tmux.kill();
      rmSync(dir, { recursive: true, force: true });
    }
    return { name: 'ui', title: this.title, input, results, ratios: [], targets };
  },
};
