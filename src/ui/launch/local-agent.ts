/**
 * `npm start` / `loopy ui --local`: starts an agent for the UI to watch and stops it when the UI quits.
 * Live on every interface when this process could capture (root or CAP_NET_RAW, and the capture addon
 * built); otherwise replaying a sample capture (by default the demo capture, made on first use) in a loop at
 * real speed. The agent runs as a child process listening on a unix socket in a fresh private directory,
 * removed on quit; its log goes to a file there, not to the screen. Its evidence pcaps outlive it, in
 * $XDG_DATA_HOME/loopy/evidence (default ~/.local/share/loopy/evidence, 0700).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

/** What the local agent captures: live, or a file in a loop and why. */
export type LocalAgentSource = { live: true } | { live: false; why: string; sample: string };

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
  if (source.live) return { mode: 'live', reason: 'live capture on all interfaces', args: ['agent', '-i', 'any', ...common] };
  return { mode: 'replay', reason: `replaying ${source.sample} in a loop (${source.why})`, args: ['agent', '-r', source.sample, '--loop', ...common] };
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

/** Starts the agent and resolves once its socket exists; rejects with the agent's log tail if it dies first. */
export async function startLocalAgent(options: StartLocalAgentOptions): Promise<LocalAgent> {
  const ability = options.ability ?? captureAbility();
  const why = replayReason(ability, options.forceReplay);
  const source: LocalAgentSource = why === undefined ? { live: true } : { live: false, why, sample: options.sample ?? (await ensureDemoSample(options.say ?? (() => {}))) };
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
      throw new Error(`the local agent ${exited ? `exited (${exited})` : 'did not open its socket in time'}${tail ? `:\n${tail}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { target: `unix:${socket}`, plan, dataDir, evidenceDir, stop };
}
