/**
 * Every command and option as data, read from the commander definitions themselves: what the shell
 * completion scripts and the man page are generated from, so neither can drift from the CLI.
 */
import { Command } from 'commander';
import { COMMANDS } from './commands.js';

export interface OptionSpec {
  /** The spellings: `-i`, `--interface`. */
  names: string[];
  /** `<file>`, `<n>`...; undefined for a flag. */
  value?: string;
  description: string;
}

export interface CommandSpec {
  name: string;
  /** `[options] [file] [expression...]` */
  usage: string;
  description: string;
  options: OptionSpec[];
}

/** Options every command takes, beside its own. */
const HELP: OptionSpec = { names: ['-h', '--help'], description: 'print the usage of the command and exit' };

export async function commandSpecs(): Promise<CommandSpec[]> {
  const program = new Command('loopy');
  for (const register of Object.values(COMMANDS)) (await register())(program);
  return program.commands.map((c) => ({
    name: c.name(),
    usage: c.usage(),
    description: c.description(),
    options: [
      ...c.options.map((o) => ({
        names: [o.short, o.long].filter((n): n is string => n !== undefined),
        value: /<[^>]+>|\[[^\]]+\]/.exec(o.flags)?.[0],
        description: o.description,
      })),
      HELP,
    ],
  }));
}

/** What an option takes, for completion: nothing, a file, a directory, an interface, or something to type. */
export function valueKind(option: OptionSpec): 'flag' | 'file' | 'dir' | 'interface' | 'other' {
  if (option.value === undefined) return 'flag';
  if (/file|path/.test(option.value)) return 'file';
  if (/dir/.test(option.value)) return 'dir';
  return option.names.includes('--interface') ? 'interface' : 'other';
}
