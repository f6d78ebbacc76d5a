/**
 * The client config file (~/.config/loopy/config.json): named targets, so `loopy query web1 status` works.
 *   { "agents": { "web1": { "target": "tls://10.0.0.5:7070", "token": "...", "fingerprint": "AB:CD:..." } } }
 * Validated with zod; every error names the key (agents.web1.target) and the file.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { AGENT_NAME, type ParsedTarget, TargetError, parseTarget } from './target.js';
import { userDir } from './user-dirs.js';

/** ~/.config/loopy, or $XDG_CONFIG_HOME/loopy; LOOPY_CONFIG_DIR overrides both (tests, several setups). */
export function defaultConfigDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.LOOPY_CONFIG_DIR) return env.LOOPY_CONFIG_DIR;
  return userDir('config', env);
}

const agentEntry = z
  .object({
    target: z.string().min(1),
    token: z.string().min(1).optional(),
    fingerprint: z.string().min(1).optional(),
    /** nats:// targets: a NATS credentials file, and the PEM CA of the hub's TLS certificate. */
    creds: z.string().min(1).optional(),
    ca: z.string().min(1).optional(),
  })
  .strict();

const clientConfig = z
  .object({
    agents: z.record(z.string().regex(AGENT_NAME, 'agent names are letters, digits, . - _'), agentEntry).default({}),
  })
  .strict();

export type ClientConfig = z.infer<typeof clientConfig>;

export class ClientConfigError extends Error {
  readonly code = 'LOOPY_CLIENT_CONFIG';
}

/** Reads and validates the config; a missing file is an empty config. */
export function loadClientConfig(path: string): ClientConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { agents: {} };
    throw new ClientConfigError(`cannot read ${path}: ${(err as Error).message}`);
  }
  return parseClientConfig(text, path);
}

export function parseClientConfig(text: string, path: string): ClientConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ClientConfigError(`${path} is not valid JSON (${(err as Error).message}): fix or remove it`);
  }
  const result = clientConfig.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const key = issue.path.length > 0 ? issue.path.join('.') : '(top level)';
    throw new ClientConfigError(`${path}: ${key}: ${issue.message}`);
  }
  for (const [name, entry] of Object.entries(result.data.agents)) {
    let parsed: ParsedTarget | null;
    try {
      parsed = parseTarget(entry.target);
    } catch (err) {
      throw new ClientConfigError(`${path}: agents.${name}.target: ${(err as Error).message}`);
    }
    if (parsed === null) throw new ClientConfigError(`${path}: agents.${name}.target: '${entry.target}' is a name, not a target (unix:, tls://, ssh:// or nats://)`);
  }
  return result.data;
}

export interface ResolvedTarget {
  /** What the user typed (a TARGET or a config name). */
  name: string;
  target: ParsedTarget;
  token?: string;
  fingerprint?: string;
  creds?: string;
  ca?: string;
}

/** A TARGET as given, or the config entry of that name. */
export function resolveTarget(text: string, configPath: string): ResolvedTarget {
  const parsed = parseTarget(text);
  if (parsed !== null) return { name: text, target: parsed };
  const config = loadClientConfig(configPath);
  const entry = config.agents[text];
  if (!entry) {
    const known = Object.keys(config.agents);
    throw new TargetError(
      `no agent named '${text}' in ${configPath}` +
        (known.length ? ` (known: ${known.join(', ')})` : '; add it under "agents", or give unix:PATH, tls://HOST:PORT or ssh://HOST'),
    );
  }
  const hubFiles = { ...(entry.creds === undefined ? {} : { creds: entry.creds }), ...(entry.ca === undefined ? {} : { ca: entry.ca }) };
  return { name: text, target: parseTarget(entry.target)!, token: entry.token, fingerprint: entry.fingerprint, ...hubFiles };
}
