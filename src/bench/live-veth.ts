/**
 * The live benchmark's plumbing: a veth pair between two network namespaces (frames sent into one end by
 * tcpreplay arrive at the other, where the contender captures), the sender, and a process's CPU time and
 * peak RSS read from /proc (the kernel's own counters, whole process: every thread).
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { NamespacePair } from '../test-support/netns.js';

export interface Veth {
  nsCapture: string;
  nsSend: string;
  ifCapture: string;
  ifSend: string;
}

/** The sending side replays raw frames: no addresses or neighbours; a large MTU, so no generated frame is refused. */
export function setUpVeth(): Veth {
  const pair = new NamespacePair('lpb', { addresses: false, mtu: 9000 });
  pair.setUp();
  return { nsCapture: pair.nsA, nsSend: pair.nsB, ifCapture: pair.ifA, ifSend: pair.ifB };
}

export function tearDownVeth(v: Veth): void {
  for (const ns of [v.nsCapture, v.nsSend]) spawnSync('ip', ['netns', 'del', ns], { timeout: 10_000, stdio: 'ignore' });
}

export interface Sent {
  packets: number;
  seconds: number;
  pps: number;
}

/** Sends `limit` frames of `file` at `pps` (or as fast as it can) with tcpreplay, from the sending namespace. */
export async function tcpreplay(v: Veth, file: string, pps: number | 'top', limit: number, loops = 1): Promise<Sent> {
  const rate = pps === 'top' ? ['--topspeed'] : [`--pps=${pps}`];
  const args = ['netns', 'exec', v.nsSend, 'tcpreplay', '-q', '-i', v.ifSend, ...rate, `--limit=${limit}`, `--loop=${loops}`, '--preload-pcap', file];
  const child = spawn('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  // "Actual: 600000 packets (310 bytes) sent in 2.00 seconds" / "Rated: ... 299999.2 pps"
  const actual = /Actual: (\d+) packets .* sent in ([\d.]+) seconds/.exec(out);
  const rated = /Rated: .*?([\d.]+) pps/.exec(out);
  if (code !== 0 || !actual || !rated) throw new Error(`tcpreplay failed (${code}): ${out.trim().split('\n').slice(-3).join(' | ')}`);
  const packets = Number(actual[1]);
  const ratedPps = Number(rated[1]);
  return { packets, pps: ratedPps, seconds: ratedPps > 0 ? packets / ratedPps : Number(actual[2]) };
}

const CLOCK_TICKS = 100; // USER_HZ: the unit of /proc/PID/stat times on Linux (getconf CLK_TCK)

/** User + system CPU seconds of a process so far (all its threads), or NaN when it is gone. */
export function cpuSeconds(pid: number): number {
  return statCpuSeconds(`/proc/${pid}/stat`);
}

/** The same for the process's main thread alone (where JavaScript runs). */
export function mainThreadCpuSeconds(pid: number): number {
  return statCpuSeconds(`/proc/${pid}/task/${pid}/stat`);
}

/**
 * The same summed over the process's threads named `name` (the addon names its capture and store threads);
 * NaN when none has the name, so a thread that lost it shows as unknown rather than as 0 % of a core.
 */
export function namedThreadsCpuSeconds(pid: number, name: string): number {
  let seconds = 0;
  let found = 0;
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return Number.NaN;
  }
  for (const tid of tids) {
    try {
      if (readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim() !== name) continue;
      seconds += statCpuSeconds(`/proc/${pid}/task/${tid}/stat`);
      found++;
    } catch {
      // The thread ended between the listing and the read: what it used is gone with it.
    }
  }
  return found > 0 ? seconds : Number.NaN;
}

function statCpuSeconds(path: string): number {
  try {
    const stat = readFileSync(path, 'utf8');
    // Fields after the command name, which sits in parentheses and may hold spaces: utime is the 14th
    // field of the line, stime the 15th, i.e. the 12th and 13th after ") ".
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / CLOCK_TICKS;
  } catch {
    return Number.NaN;
  }
}

/** Resident set now (VmRSS) in bytes, or null. */
export function rssBytes(pid: number): number | null {
  return statusKilobytes(pid, 'VmRSS');
}

/** Peak resident set (VmHWM) in bytes, or null. */
export function peakRssBytes(pid: number): number | null {
  return statusKilobytes(pid, 'VmHWM');
}

function statusKilobytes(pid: number, field: string): number | null {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Waits until the process has caught up: its CPU time grows by at most one tick in 200 ms, twice in a row
 * (bounded by `maxMs`). The capture's block timeout is 200 ms, so a busy process cannot look idle this way.
 */
export async function untilIdle(pid: number, maxMs = 20_000): Promise<void> {
  const start = Date.now();
  let calm = 0;
  let last = cpuSeconds(pid);
  while (calm < 2 && Date.now() - start < maxMs) {
    await sleep(200);
    const now = cpuSeconds(pid);
    calm = now - last <= 1 / CLOCK_TICKS ? calm + 1 : 0;
    last = now;
  }
}
