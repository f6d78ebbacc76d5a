#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { UsageError } from './errors.js';

type Register = (program: Command) => void;

/**
 * Each command's module is loaded only when that command runs: `loopy bridge` (started by sshd for every
 * ssh:// connection) and `loopy query` then skip the engine, detection, SQLite and zod they never use.
 * Help, and anything that is not a command name, loads them all.
 */
const COMMANDS: Record<string, () => Promise<Register>> = {
  read: async () => (await import('./read.js')).registerRead,
  agent: async () => (await import('./agent.js')).registerAgent,
  bridge: async () => (await import('./bridge.js')).registerBridge,
  query: async () => (await import('./query.js')).registerQuery,
  watch: async () => (await import('./watch.js')).registerWatch,
  ui: async () => (await import('./ui.js')).registerUi,
};

// The reader went away (`loopy read x.pcap | head`): stop quietly, as Unix tools do.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
  process.exit(process.exitCode ?? 0);
});

const program = new Command();
program
  .name('loopy')
  .description('Loopy: network traffic monitor — capture, flows, DNS, alerts, terminal UI')
  .version('0.1.0')
  .showHelpAfterError('(run loopy --help for usage)');

const named = process.argv[2];
const wanted = named !== undefined && Object.hasOwn(COMMANDS, named) ? [named] : Object.keys(COMMANDS);
for (const name of wanted) (await COMMANDS[name]())(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof UsageError || err instanceof CommanderError) {
    process.stderr.write(`loopy: ${(err as Error).message}\n`);
    process.exitCode = 2;
    return;
  }
  process.stderr.write(`loopy: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exitCode = 70;
});
