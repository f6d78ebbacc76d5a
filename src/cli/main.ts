#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { UsageError } from './errors.js';
import { COMMANDS } from './commands.js';
import { versionLine } from './version.js';

/** tcpdump's spellings of a command, for hands that know tcpdump: `loopy -D` is `loopy list-interfaces`. */
const TCPDUMP_SPELLINGS: Record<string, string> = { '-D': 'list-interfaces', '--list-interfaces': 'list-interfaces' };

// The reader went away (`loopy read x.pcap | head`): stop quietly, as Unix tools do.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
  process.exit(process.exitCode ?? 0);
});

const argv = [...process.argv];
if (argv[2] !== undefined && Object.hasOwn(TCPDUMP_SPELLINGS, argv[2])) argv[2] = TCPDUMP_SPELLINGS[argv[2]];
const named = argv[2];
const isCommand = named !== undefined && Object.hasOwn(COMMANDS, named);
const isVersion = named === '-V' || named === '--version';
const usageHint = isCommand ? `loopy ${named} --help` : 'loopy --help';

const program = new Command();
program
  .name('loopy')
  .description('Loopy: network traffic monitor — capture, flows, DNS, alerts, terminal UI')
  // Naming libpcap loads the capture addon, milliseconds every `loopy bridge` would pay: only when asked.
  .version(versionLine({ libpcap: isVersion }), '-V, --version', "print Loopy's version and its libpcap's")
  // Commander's mistakes (unknown option, missing argument...) become one `loopy:` line and exit status 2,
  // as ours do (UsageError); set before the commands are added, which inherit both.
  .exitOverride()
  .configureOutput({ outputError: (message, write) => write(`loopy: ${oneLine(message)}; see ${usageHint}\n`) });

// Only the command named is loaded; --version needs none, help (and a mistyped command's hint) all of them.
for (const name of isCommand ? [named] : isVersion ? [] : Object.keys(COMMANDS)) (await COMMANDS[name]())(program);

program.parseAsync(argv).catch((err: unknown) => {
  if (err instanceof CommanderError) {
    // 0 for --help and --version; the message is already written, or the help is (loopy alone: to stderr).
    process.exitCode = err.exitCode === 0 ? 0 : 2;
    return;
  }
  if (err instanceof UsageError) {
    process.stderr.write(`loopy: ${err.message}\n`);
    process.exitCode = 2;
    return;
  }
  process.stderr.write(`loopy: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exitCode = 70;
});

/** "error: unknown option '--jsn'\n(Did you mean --json?)" → "unknown option '--jsn' (Did you mean --json?)". */
function oneLine(message: string): string {
  return message.replace(/^error: /, '').trim().replace(/\s*\n\s*/g, ' ').replace(/\.$/, '');
}
