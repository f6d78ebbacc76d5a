/** Runs the `loopy` CLI as a user would: a child process, real files, real pipes. */
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { once } from 'node:events';
import { nodeScript } from '../ui/launch/node-script.js';

/** The command that starts the CLI: dist/cli/main.js after `npm run build`, or the .ts source under tsx. */
export function cliCommand(): string[] {
  return [process.execPath, ...nodeScript(new URL('../cli/main.js', import.meta.url))];
}

/** `env` is added to this process's environment (e.g. LOOPY_CAPTURE_ADDON to play a machine without the addon). */
export function runCli(args: string[], options: { input?: Buffer; timeoutMs?: number; env?: NodeJS.ProcessEnv; cwd?: string } = {}): SpawnSyncReturns<string> {
  const [cmd, ...pre] = cliCommand();
  return spawnSync(cmd, [...pre, ...args], {
    input: options.input,
    cwd: options.cwd,
    env: options.env && { ...process.env, ...options.env },
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 60_000,
    maxBuffer: 256 * 1024 * 1024,
  });
}

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The CLI as a child process, without blocking this one (servers in the test process keep answering). */
export async function runCliAsync(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  const [cmd, ...pre] = cliCommand();
  const child = spawn(cmd!, [...pre, ...args], { env: { ...process.env, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, stdout, stderr };
}
