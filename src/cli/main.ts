#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { registerRead } from './read.js';
import { registerAgent } from './agent.js';
import { registerBridge } from './bridge.js';
import { registerQuery } from './query.js';
import { registerWatch } from './watch.js';
import { registerUi } from './ui.js';
import { UsageError } from './errors.js';

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

registerRead(program);
registerAgent(program);
registerBridge(program);
registerQuery(program);
registerWatch(program);
registerUi(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof UsageError || err instanceof CommanderError) {
    process.stderr.write(`loopy: ${(err as Error).message}\n`);
    process.exitCode = 2;
    return;
  }
  process.stderr.write(`loopy: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exitCode = 70;
});
