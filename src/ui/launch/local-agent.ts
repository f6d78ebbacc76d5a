/**
 * `npm start` / `loopy ui --local`: starts the agents for the UI to watch and stops them when the UI quits.
 * Always one replaying a sample capture in a loop at real speed (by default the demo capture, made on first
 * use, as the agent named `demo`), so the first screen has alerts to show; and, when this process could capture
 * (root or CAP_NET_RAW, and the capture addon built), one before it live on every interface under this
 * machine's name. Each runs as a child process listening on a unix socket in a fresh private directory,
 * removed on quit; its log goes to a file there, not to the screen. Their evidence pcaps outlive them, in
 * $XDG_DATA_HOME/loopy/evidence (default ~/.local/share/loopy/evidence, 0700).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { basename, extname, join } from 'node:path';
import { captureAddonPath } from '../../capture/live-addon.js';
import { userDir } from '../../client/user-dirs.js';
import { ensureDemoSample } from './demo-sample.js';

const CAP_NET_RAW = 13n;

export interface LocalAgentPlan {
  mode: 'live' | 'replay';
  /** Why this mode, in one line for the user. */
  reason: string;
  args: string[];
}

export interface CaptureAbility {
  uid: number;
  /** CapEff from /proc/self/status, undefined when unknown. */
  caps: bigint | undefined;
  addonBuilt: boolean;
}

export function captureAbility(): CaptureAbility {
  let caps: bigint | undefined;
  try {
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) caps = BigInt(`0x${m[1]}`);
  } catch {
    caps = undefined;
  }
  return { uid: process.getuid?.() ?? -1, caps, addonBuilt: existsSync(captureAddonPath()) };
}

/** Why the local agent has to replay rather than capture live; undefined when it can capture. */
export function replayReason(ability: CaptureAbility, forceReplay = false): string | undefined {
  const privileged = ability.uid === 0 || (ability.caps !== undefined && ((ability.caps >> CAP_NET_RAW) & 1n) === 1n);
  if (forceReplay) return 'as asked';
  if (!ability.addonBuilt) return 'the capture addon is not built';
  if (!privileged) return 'no capture privilege (run as root or give node CAP_NET_RAW)';
  return undefined;
}

/** What a local agent captures: live, or a file in a loop (why, and the name the agent goes by). */
export type LocalAgentSource = { live: true } | { live: false; why: string; sample: string; name: string };

/** The name of the agent replaying the demo capture. */
export const DEMO_AGENT_NAME = 'demo';

/** The agents to start: the sample always (alerts on the first screen), this machine live first when it can capture. */
export function localAgentSources(why: string | undefined, sample: string, name: string): LocalAgentSource[] {
  if (why !== undefined) return [{ live: false, why, sample, name }];
  return [{ live: true }, { live: false, why: 'beside live capture, to show alerts at once', sample, name }];
}

/** The agent's own places: its socket and data directory (private, temporary) and where evidence is kept. */
export interface LocalAgentPaths {
  socket: string;
  dataDir: string;
  evidenceDir: string;
}

/** The agent's command line for that source. */
export function planLocalAgent(ability: CaptureAbility, source: LocalAgentSource, paths: LocalAgentPaths): LocalAgentPlan {
  // Started as root the agent would become "nobody" and could not reach our private directory: keep the user.
  const user = ability.uid === 0 ? ['--user', 'root'] : [];
  const common = [...user, '--listen', `unix:${paths.socket}`, '--data', paths.dataDir, '--log', join(paths.dataDir, 'agent.log'), '--evidence', paths.evidenceDir];
  if (source.live) return { mode: 'live', reason: `${hostname()}: live capture on all interfaces`, args: ['agent', '-i', 'any', ...common] };
  return { mode: 'replay', reason: `${source.name}: replaying ${source.sample} in a loop (${source.why})`, args: ['agent', '-r', source.sample, '--loop', '--name', source.name, ...common] };
}

/** Where the local agent keeps evidence pcaps: $XDG_DATA_HOME/loopy/evidence, default ~/.local/share/loopy/evidence. */
export function localEvidenceDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(userDir('data', env), 'evidence');
}

export interface LocalAgent {
  target: string;
  plan: LocalAgentPlan;
  dataDir: string;
  /** Kept after stop(). */
  evidenceDir: string;
  stop(): Promise<void>;
  /**
   * The UI is being killed (a hung-up SSH session) and cannot wait on its event loop: tells the agent to
   * stop, blocks until it has (at most STOP_NOW_WAIT_MS, then kills it), and removes its data directory.
   */
  stopNow(): void;
}

export interface StartLocalAgentOptions {
  /** Node arguments that run the loopy CLI: [dist/cli/main.js], or ['--import', 'tsx', 'src/cli/main.ts']. */
  cli: string[];
  /** The capture to replay when it cannot capture live; default: the demo capture, made if need be. */
  sample?: string;
  /** Replay the sample even when live capture is possible. */
  forceReplay?: boolean;
  ability?: CaptureAbility;
  /** Default: localEvidenceDir(). */
  evidenceDir?: string;
  /** Progress for the user (making the demo capture). */
  say?: (line: string) => void;
  /** How long to wait for the agent's socket. */
  timeoutMs?: number;
}

/**
 * Starts the local agents (see the module comment) and resolves once every socket exists; rejects with the
 * failing agent's log tail if one dies first, having stopped the others.
 */
export async function startLocalAgents(options: StartLocalAgentOptions): Promise<LocalAgent[]> {
  const ability = options.ability ?? captureAbility();
  const why = replayReason(ability, options.forceReplay);
  const sample = options.sample ?? (await ensureDemoSample(options.say ?? (() => {})));
  // A sample of the user's own goes by its file name: `demo` would say it is the demo capture.
  const name = options.sample === undefined ? DEMO_AGENT_NAME : basename(options.sample, extname(options.sample));
  const started = await Promise.allSettled(localAgentSources(why, sample, name).map((source) => startLocalAgent(options, ability, source)));
  const agents = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await Promise.all(agents.map((a) => a.stop()));
    throw failed.reason;
  }
  return agents;
}

/** How long a UI being killed gives its agent to flush and stop before it kills it and removes its data. */
const STOP_NOW_WAIT_MS = 3000;

/**
 * Blocks until process `pid` has exited, at most `ms`; true if it has. A child that exited but is not reaped
 * yet (the event loop that would reap it is the one blocked here) counts as exited: a zombie in /proc.
 */
function waitForExitSync(pid: number, ms: number): boolean {
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (const deadline = Date.now() + ms; Date.now() < deadline; Atomics.wait(pause, 0, 0, 50)) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      return true;
    }
    if (stat.charAt(stat.lastIndexOf(')') + 2) === 'Z') return true;
  }
  return false;
}

/** Starts one agent and resolves once its socket exists; rejects with the agent's log tail if it dies first. */
async function startLocalAgent(options: StartLocalAgentOptions, ability: CaptureAbility, source: LocalAgentSource): Promise<LocalAgent> {
  // The agent makes it (0700) at start, and says so in one line if it cannot.
  const evidenceDir = options.evidenceDir ?? localEvidenceDir();
  const dataDir = mkdtempSync(join(tmpdir(), 'loopy-ui-'));
  const socket = join(dataDir, 'agent.sock');
  const plan = planLocalAgent(ability, source, { socket, dataDir, evidenceDir });
  const out = openSync(join(dataDir, 'agent.out'), 'a');
  const child: ChildProcess = spawn(process.execPath, [...options.cli, ...plan.args], { stdio: ['ignore', out, out] });
  closeSync(out);
  let exited: string | undefined;
  const exitPromise = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = signal ? `signal ${signal}` : `status ${code}`;
      resolve();
    });
  });
  const cleanup = () => rmSync(dataDir, { recursive: true, force: true });
  const stop = async () => {
    if (exited === undefined) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exitPromise;
      clearTimeout(timer);
    }
    cleanup();
  };
  const deadline = Date.now() + (options.timeoutMs ?? 15000);
  while (!existsSync(socket)) {
    if (exited !== undefined || Date.now() > deadline) {
      const log = [join(dataDir, 'agent.out'), join(dataDir, 'agent.log')].map((p) => (existsSync(p) ? readFileSync(p, 'utf8') : '')).join('').trim();
      await stop();
      const tail = log.split('\n').slice(-5).join('\n');
      throw new Error(`the local agent (${plan.reason}) ${exited ? `exited (${exited})` : 'did not open its socket in time'}${tail ? `:\n${tail}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const stopNow = () => {
    if (exited === undefined && child.pid !== undefined) {
      child.kill('SIGTERM');
      if (!waitForExitSync(child.pid, STOP_NOW_WAIT_MS)) child.kill('SIGKILL');
    }
    cleanup();
  };
  return { target: `unix:${socket}`, plan, dataDir, evidenceDir, stop, stopNow };
}
