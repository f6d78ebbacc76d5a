/**
 * Starts a real `loopy agent` (the CLI, as a child process) replaying a capture file at full speed in a
 * loop, listening where the test says. The temp dir is world-traversable: an agent started as root drops
 * to `nobody` and must still reach its data directory.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync } from 'node:fs';
import { createServer } from 'node:net';
import { cliCommand } from '../../test-support/cli.js';
import { testDir } from '../../test-support/temp-dir.js';

export function agentDir(): string {
  const dir = testDir('loopy-agent-');
  chmodSync(dir, 0o755);
  return dir;
}

export async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  return port;
}

export class RealAgent {
  stderr = '';
  private constructor(readonly child: ChildProcess) {
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (this.stderr = (this.stderr + d).slice(-20_000)));
  }

  /** `replay`: '--loop' (the default) replays forever; '--stay' replays once, then keeps serving its history. */
  static start(file: string, dataDir: string, listen: string[], replay: '--loop' | '--stay' = '--loop', extra: string[] = []): RealAgent {
    const [cmd, ...pre] = cliCommand();
    const args = [...pre, 'agent', '-r', file, '--max', replay, '--data', dataDir, ...listen.flatMap((l) => ['--listen', l]), ...extra];
    return new RealAgent(spawn(cmd!, args, { stdio: ['ignore', 'ignore', 'pipe'] }));
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    await once(this.child, 'exit');
  }
}
