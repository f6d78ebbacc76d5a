/**
 * Where a process's CPU goes, stage by stage: a V8 CPU profile (`node --cpu-prof`) of the main thread,
 * its samples summed by the source folder of the function they landed in (src/capture, src/decode,
 * analyze/flows, analyze/apps...), plus the garbage collector, Node's own code, the history store's worker
 * thread (from its own profile), the addon's capture thread (by its name, from /proc), and the other threads
 * (GC helpers, the JIT's compiler, libuv) as the rest of the process's CPU, read from /proc.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
}

export interface CpuProfile {
  nodes: ProfileNode[];
  /** Microseconds on the monotonic clock, the one process.hrtime reads in every process of the machine. */
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** A stretch of the monotonic clock in microseconds (process.hrtime.bigint() / 1000n). */
export interface Window {
  from: number;
  to: number;
}

/** Now on the clock profiles use, in microseconds. */
export function monotonicMicros(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/** Stages in the order of the pipeline, then what is not ours. */
export const STAGES = ['capture', 'decode', 'flows', 'apps', 'engine', 'stats', 'detect', 'store', 'serve', 'gc', 'node', 'store worker', 'capture thread', 'other threads'] as const;
export type Stage = (typeof STAGES)[number];

/** The stage of a function, by the file it is in (dist/<room>/... or src/<room>/...). */
export function stageOf(url: string, functionName: string): Stage | 'idle' {
  if (functionName === '(garbage collector)') return 'gc';
  if (functionName === '(idle)') return 'idle';
  const m = /\/(?:dist|src)\/(capture|decode|analyze|stats|detect|store|serve|client|cli|ui)\/(?:(flows|apps)\/)?/.exec(url);
  if (!m) return 'node';
  if (m[1] === 'analyze') return m[2] === 'flows' ? 'flows' : m[2] === 'apps' ? 'apps' : 'engine';
  if (m[1] === 'client' || m[1] === 'cli' || m[1] === 'ui') return 'serve';
  return m[1] as Stage;
}

/** Milliseconds of main-thread samples per stage (idle left out), within `window` when given. */
export function stageMillis(profile: CpuProfile, window?: Window): Map<Stage, number> {
  const stageById = new Map<number, Stage | 'idle'>();
  for (const n of profile.nodes) stageById.set(n.id, stageOf(n.callFrame.url, n.callFrame.functionName));
  const out = new Map<Stage, number>(STAGES.map((s) => [s, 0]));
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i] ?? 0;
    t += delta;
    if (window !== undefined && (t < window.from || t > window.to)) continue;
    const stage = stageById.get(profile.samples[i]);
    if (stage === undefined || stage === 'idle') continue;
    out.set(stage, out.get(stage)! + delta / 1000);
  }
  return out;
}

/**
 * The main thread's profile among those a `--cpu-prof-dir` run left in `dir` (thread id 0 in the file name,
 * CPU.date.time.pid.tid.seq.cpuprofile; the store's thread leaves one too).
 */
export function readMainProfile(dir: string): CpuProfile {
  const main = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile') && Number(f.split('.')[4]) === 0);
  if (main.length !== 1) throw new Error(`expected one main-thread CPU profile in ${dir}, found ${main.length}`);
  return JSON.parse(readFileSync(join(dir, main[0]), 'utf8')) as CpuProfile;
}
