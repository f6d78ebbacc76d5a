/**
 * The user's own directories for Loopy, after the XDG base directory spec: `$XDG_CONFIG_HOME/loopy` (the client
 * config), `$XDG_CACHE_HOME/loopy` (what can be made again, e.g. the demo capture) and `$XDG_DATA_HOME/loopy`
 * (what is kept, e.g. the local agent's evidence pcaps). An unset or relative variable means the spec's default
 * under the home directory. Names only: nothing here creates a directory.
 */
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';

const BASES = {
  config: { variable: 'XDG_CONFIG_HOME', fallback: '.config' },
  cache: { variable: 'XDG_CACHE_HOME', fallback: '.cache' },
  data: { variable: 'XDG_DATA_HOME', fallback: join('.local', 'share') },
} as const;

export type UserDirKind = keyof typeof BASES;

/** e.g. userDir('data') is ~/.local/share/loopy unless XDG_DATA_HOME says otherwise. */
export function userDir(kind: UserDirKind, env: NodeJS.ProcessEnv = process.env, home: () => string = homedir): string {
  const { variable, fallback } = BASES[kind];
  const set = env[variable];
  return join(set && isAbsolute(set) ? set : join(home(), fallback), 'loopy');
}
