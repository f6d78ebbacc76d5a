/** Runs the `loopy` CLI as a user would: a child process, real files, real pipes. */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { nodeScript } from '../ui/launch/node-script.js';

/** The command that starts the CLI: dist/cli/main.js after `npm run build`, or the .ts source under tsx. */
export function cliCommand(): string[] {
  return [process.execPath, ...nodeScript(new URL('../cli/main.js', import.meta.url))];
}

/** `env` is added to this process's environment (e.g. LOOPY_CAPTURE_ADDON to play a machine without the addon). */
export function runCli(args: string[], options: { input?: Buffer; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): SpawnSyncReturns<string> {
  const [cmd, ...pre] = cliCommand();
  return spawnSync(cmd, [...pre, ...args], {
    input: options.input,
    env: options.env && { ...process.env, ...options.env },
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 60_000,
    maxBuffer: 256 * 1024 * 1024,
  });
}
