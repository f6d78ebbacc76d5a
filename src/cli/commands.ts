import type { Command } from 'commander';

export type Register = (program: Command) => void;

/**
 * Every command, by name. Each command's module is loaded only when that command runs: `loopy bridge`
 * (started by sshd for every ssh:// connection) and `loopy query` then skip the engine, detection, SQLite and
 * zod they never use. Help, the completion scripts and the man page load them all.
 */
export const COMMANDS: Record<string, () => Promise<Register>> = {
  read: async () => (await import('./read.js')).registerRead,
  agent: async () => (await import('./agent.js')).registerAgent,
  bridge: async () => (await import('./bridge.js')).registerBridge,
  query: async () => (await import('./query.js')).registerQuery,
  watch: async () => (await import('./watch.js')).registerWatch,
  ui: async () => (await import('./ui.js')).registerUi,
  'hub-sites': async () => (await import('./hub-sites.js')).registerHubSites,
  'list-interfaces': async () => (await import('./list-interfaces.js')).registerListInterfaces,
  'config-schema': async () => (await import('./config-schema.js')).registerConfigSchema,
  completion: async () => (await import('./completion.js')).registerCompletion,
};
