/**
 * `npm start` / `loopy ui --local`: starts an agent for the UI to watch and stops it when the UI quits.
 * Live on every interface when this process could capture (root or CAP_NET_RAW, and the capture addon
 * built); otherwise replaying a sample capture in a loop at real speed. The agent runs as a child process
 * listening on a unix socket in a fresh private directory; its log goes to a file there, not to the screen.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { captureAddonPath } from '../../capture/live-addon.js';

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

/** What to run: live when capture is possible, else the sample in a loop. */
export function planLocalAgent(ability: CaptureAbility, sample: string, socket: string, dataDir: string, forceReplay = false): LocalAgentPlan {
  const common = ['--listen', `unix:${socket}`, '--data', dataDir, '--log', join(dataDir, 'agent.log')];
  const privileged = ability.uid === 0 || (ability.caps !== undefined && ((ability.caps >> CAP_NET_RAW) & 1n) === 1n);
  if (privileged && ability.addonBuilt && !forceReplay) {
    // Started as root the agent would become "nobody" and could not reach our private directory: keep the user.
    const user = ability.uid === 0 ? ['--user', 'root'] : [];
    return { mode: 'live', reason: 'live capture on all interfaces', args: ['agent', '-i', 'any', ...user, ...common] };
  }
  const why = forceReplay ? 'as asked' : !ability.addonBuilt ? 'the capture addon is not built' : 'no capture privilege (run as root or give node CAP_NET_RAW)';
  return { mode: 'replay', reason: `replaying ${sample} in a loop (${why})`, args: ['agent', '-r', sample, '--loop', ...common] };
}

export interface LocalAgent {
  target: string;
  plan: LocalAgentPlan;
  dataDir: string;
  stop(): Promise<void>;
}

export interface StartLocalAgentOptions {
  /** Node arguments that run the loopy CLI: [dist/cli/main.js], or ['--import', 'tsx', 'src/cli/main.ts']. */
  cli: string[];
  sample: string;
  /** Replay the sample even when live capture is possible. */
  forceReplay?: boolean;
  ability?: CaptureAbility;
  /** How long to wait for the agent's socket. */
  timeoutMs?: number;
}

/** Starts the agent and resolves once its socket exists; rejects with the agent's log tail if it dies first. */
export async function startLocalAgent(options: StartLocalAgentOptions): Promise<LocalAgent> {
  const dataDir = mkdtempSync(join(tmpdir(), 'loopy-ui-'));
  const socket = join(dataDir, 'agent.sock');
  const plan = planLocalAgent(options.ability ?? captureAbility(), options.sample, socket, dataDir, options.forceReplay);
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
  return { target: `unix:${socket}`, plan, dataDir, stop };
}
