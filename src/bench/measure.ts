/**
 * Runs one command the way a user would and measures it: wall time from our own clock around the whole
 * process, peak RSS from GNU time (`/usr/bin/time -f %M`, the child's ru_maxrss from wait4). We chose GNU
 * time over polling /proc/PID/status VmHWM because polling can miss the peak of a short run and the
 * kernel's own figure cannot. Without GNU time (Debian package `time`) RSS is reported as unknown.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const GNU_TIME = '/usr/bin/time';

export interface Measurement {
  ok: boolean;
  /** Wall-clock seconds from spawn to exit. */
  wallSeconds: number;
  /** Peak resident set size in bytes, or null when GNU time is not installed. */
  peakRssBytes: number | null;
  exitCode: number | null;
  /** Last lines of stderr, for a failure line. */
  stderrTail: string;
}

/** Whether `command` can be run: an absolute/relative path that exists, or a name found on PATH. */
export function isInstalled(command: string): boolean {
  if (command.includes('/')) return existsSync(command);
  return spawnSync('sh', ['-c', `command -v "${command}"`], { stdio: 'ignore' }).status === 0;
}

export function haveGnuTime(): boolean {
  if (!existsSync(GNU_TIME)) return false;
  const probe = spawnSync(GNU_TIME, ['-f', '%M', process.execPath, '-e', ''], { encoding: 'utf8' });
  return probe.status === 0 && /^\d+\s*$/m.test(probe.stderr);
}

/** Runs `command args` with stdout discarded (to /dev/null, as the benchmark commands specify). */
export async function measure(command: string, args: readonly string[], options: { cwd?: string } = {}): Promise<Measurement> {
  const useTime = haveGnuTime();
  const dir = mkdtempSync(join(tmpdir(), 'loopy-bench-'));
  const timeFile = join(dir, 'time.txt');
  const devNull = openSync('/dev/null', 'w');
  try {
    const argv = useTime ? ['-f', '%e %M', '-o', timeFile, command, ...args] : [...args];
    const started = process.hrtime.bigint();
    const child = spawn(useTime ? GNU_TIME : command, argv, { cwd: options.cwd, stdio: ['ignore', devNull, 'pipe'] });
    let stderr = '';
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (s: string) => {
      stderr = (stderr + s).slice(-4000);
    });
    const exitCode = await new Promise<number | null>((resolve) => {
      child.on('error', (err) => {
        stderr += String(err.message);
        resolve(null);
      });
      child.on('close', (code) => resolve(code));
    });
    const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    let peakRssBytes: number | null = null;
    if (useTime && existsSync(timeFile)) {
      // GNU time writes "Command exited with non-zero status N" before the format line on failure.
      const last = readFileSync(timeFile, 'utf8').trim().split('\n').pop() ?? '';
      const kb = Number(last.split(/\s+/)[1]);
      if (Number.isFinite(kb)) peakRssBytes = kb * 1024;
    }
    const tail = stderr.trim().split('\n').slice(-3).join(' | ');
    return { ok: exitCode === 0, wallSeconds, peakRssBytes, exitCode, stderrTail: tail };
  } finally {
    closeSync(devNull);
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface CpuMeasurement {
  ok: boolean;
  wallSeconds: number;
  /** User + system seconds of the child, or null without GNU time. */
  cpuSeconds: number | null;
  peakRssBytes: number | null;
  detail: string;
}

/** Runs the command with stdout to /dev/null; CPU seconds and peak RSS from GNU time when installed. */
export async function measureCpu(args: readonly string[], cwd: string): Promise<CpuMeasurement> {
  const useTime = haveGnuTime();
  const dir = mkdtempSync(join(tmpdir(), 'loopy-bench-cpu-'));
  const timeFile = join(dir, 'time.txt');
  const devNull = openSync('/dev/null', 'w');
  try {
    const argv = useTime ? ['-f', '%e %U %S %M', '-o', timeFile, process.execPath, ...args] : [...args];
    const started = process.hrtime.bigint();
    const child = spawn(useTime ? GNU_TIME : process.execPath, argv, { cwd, stdio: ['ignore', devNull, 'pipe'] });
    let stderr = '';
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (t: string) => (stderr = (stderr + t).slice(-2000)));
    const code = await new Promise<number | null>((resolve) => {
      child.on('error', () => resolve(null));
      child.on('close', resolve);
    });
    const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    let cpuSeconds: number | null = null;
    let peakRssBytes: number | null = null;
    if (useTime && existsSync(timeFile)) {
      const [, user, sys, kb] = (readFileSync(timeFile, 'utf8').trim().split('\n').pop() ?? '').split(/\s+/).map(Number);
      if (Number.isFinite(user) && Number.isFinite(sys)) cpuSeconds = user + sys;
      if (Number.isFinite(kb)) peakRssBytes = kb * 1024;
    }
    return { ok: code === 0, wallSeconds, cpuSeconds, peakRssBytes, detail: `exit ${code}: ${stderr.trim().split('\n').slice(-2).join(' | ')}` };
  } finally {
    closeSync(devNull);
    rmSync(dir, { recursive: true, force: true });
  }
}
