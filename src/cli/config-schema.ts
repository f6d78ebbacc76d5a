import type { Command } from 'commander';
import { CONFIG_KINDS, type ConfigKind, configJsonSchemaText } from '../serve/config-schema.js';
import { UsageError } from './errors.js';

/** `loopy config-schema [agent|detection]`: a config file's JSON Schema, for editors and config management. */
export function registerConfigSchema(program: Command): void {
  const kinds = Object.keys(CONFIG_KINDS);
  program
    .command('config-schema')
    .description('print the JSON Schema of the agent config file (default) or of the detection config file')
    .argument('[kind]', `${kinds.join(' or ')}`, 'agent')
    .action((kind: string) => {
      if (!Object.hasOwn(CONFIG_KINDS, kind)) throw new UsageError(`config-schema ${kind}: expected ${kinds.join(' or ')}; see loopy config-schema --help`);
      process.stdout.write(configJsonSchemaText(kind as ConfigKind));
    });
}
