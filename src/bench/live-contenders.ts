/**
 * The capturing processes the live benchmark compares: the agent with the full engine (records to
 * /dev/null) and `tcpdump -w /dev/null`. Each is started in the capturing namespace, measured from /proc,
 * and stopped the way its user would stop it; each says how many packets it got.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, closeSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from './capture-cache.js';
import type { Veth } from './live-veth.js';

export const LOOPY_CLI = join(projectRoot, 'dist', 'cli', 'main.js');

export interface Running {
  pid: number;
  /** The agent's client socket (unix:PATH), for contenders that serve clients. */
  socket?: string;
  /** Stops the process and returns the packets it captured (delivered to it, not dropped). */
  stop(): Promise<{ captured: number; kernelDropped: number }>;
}

export interface LiveContender {
  tool: string;
  display: string;
  /** Why it cannot run, or null. */
  missing(): string | null;
  /** `nodeArgs`: options for node itself (a CPU profile), for contenders that run on node. */
  start(v: Veth, workDir: string, nodeArgs?: readonly string[]): Promise<Running>;
}

/** Spawns with stdout to /dev/null, collecting stderr; resolves once `ready` matches it (bounded). */
async function launch(args: string[], ready: RegExp, timeoutMs = 20_000): Promise<{ child: ChildProcess; stderr: () => string; exited: Promise<number | null> }> {
  const devNull = openSync('/dev/null', 'w');
  const child = spawn('ip', args, { stdio: ['ignore', devNull, 'pipe'] });
  closeSync(devNull);
  let err = '';
  child.stderr!.setEncoding('utf8');
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  const ok = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.stderr!.on('data', (d: string) => {
      err += d;
      if (ready.test(err)) {
        clearTimeout(timer);
        resolve(true);
      }
    });
    void exited.then(() => (clearTimeout(timer), resolve(false)));
  });
  if (!ok) {
    child.kill('SIGKILL');
    throw new Error(`${args.slice(3).join(' ')} did not start: ${err.trim().split('\n').slice(-2).join(' | ')}`);
  }
  return { child, stderr: () => err, exited };
}

async function stopWith(child: ChildProcess, exited: Promise<number | null>, signal: NodeJS.Signals): Promise<number | null> {
  child.kill(signal);
  let timer: NodeJS.Timeout | undefined;
  // Cleared once it has exited: a pending 60-s timer kept the bench's process up a minute after its report.
  const code = await Promise.race([exited, new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), 60_000)))]);
  clearTimeout(timer);
  if (code !== 'late') return code;
  child.kill('SIGKILL');
  await exited;
  return null;
}

export const agentContender: LiveContender = {
  tool: 'agent',
  display: 'loopy agent -i VETH',
  missing: () => (existsSync(LOOPY_CLI) ? null : `${LOOPY_CLI} not found: build it with npm run build`),
  async start(v, workDir, nodeArgs = []) {
    const data = join(workDir, 'agent-data');
    // Its own socket in its data directory: not /run/loopy/agent.sock, which a real agent may hold.
    const socket = `unix:${join(data, 'agent.sock')}`;
    mkdirSync(workDir, { recursive: true, mode: 0o755 });
    const { child, stderr, exited } = await launch(
      ['netns', 'exec', v.nsCapture, process.execPath, ...nodeArgs, LOOPY_CLI, 'agent', '-i', v.ifCapture, '--data', data, '--listen', socket],
      /"msg":"capturing on /,
    );
    return {
      pid: child.pid!,
      socket,
      async stop() {
        const code = await stopWith(child, exited, 'SIGTERM');
        // The log's last line has the engine's packet count; status.json the kernel's drop counters.
        const stopped = stderr().split('\n').filter((l) => l.includes('"msg":"stopped"')).pop();
        if (code !== 0 || !stopped) throw new Error(`the agent exited with ${code}: ${stderr().trim().split('\n').slice(-2).join(' | ')}`);
        const status = JSON.parse(readFileSync(join(data, 'status.json'), 'utf8')) as { interfaces: Array<{ dropped: number; addon_dropped: number }> };
        const dropped = status.interfaces.reduce((n, i) => n + i.dropped + i.addon_dropped, 0);
        return { captured: (JSON.parse(stopped) as { packets: number }).packets, kernelDropped: dropped };
      },
    };
  },
};

export const tcpdumpContender: LiveContender = {
  tool: 'tcpdump',
  display: 'tcpdump -i VETH -w /dev/null',
  missing: () => null,
  async start(v) {
    const { child, stderr, exited } = await launch(['netns', 'exec', v.nsCapture, 'tcpdump', '-i', v.ifCapture, '-w', '/dev/null'], /listening on /);
    return {
      pid: child.pid!,
      async stop() {
        await stopWith(child, exited, 'SIGINT');
        // "N packets captured / M packets received by filter / K packets dropped by kernel"
        const captured = /(\d+) packets? captured/.exec(stderr());
        const dropped = /(\d+) packets? dropped by kernel/.exec(stderr());
        if (!captured) throw new Error(`tcpdump gave no counts: ${stderr().trim().split('\n').slice(-3).join(' | ')}`);
        return { captured: Number(captured[1]), kernelDropped: Number(dropped?.[1] ?? 0) };
      },
    };
  },
};

export const LIVE_CONTENDERS: readonly LiveContender[] = [agentContender, tcpdumpContender];
