/**
 * The agent's settings: a JSON config file (default /etc/loopy/agent.json) and the command-line flags, both
 * validated by one zod schema. Every flag can be set in the file; a flag given on the command line wins.
 * JSON because every config-management tool writes it (with // and block comments and trailing commas allowed,
 * as in tsconfig: an example file can explain itself); a mistake is one line naming the file (or the flag), the
 * key and what is expected. `loopy config-schema agent` prints the schema as JSON Schema.
 */
import { readFileSync } from 'node:fs';
import stripJsonComments from 'strip-json-comments';
import { z } from 'zod';
import { join } from 'node:path';
import { FLOW_SLOTS } from '../analyze/flows/flow-table.js';
import { MAX_WORKERS } from './engine-workers.js';
import { LocalNets } from '../stats/local-nets.js';
import { DEFAULT_ROOT_SOCKET, type ListenSpec, parseListenSpec } from './transports.js';
import { parseHubAddress } from './protocol/hub-subjects.js';
import type { RecordFormat } from '../analyze/ndjson-writer.js';
import type { ZeekLogFormat } from '../store/zeek-logs.js';

export const DEFAULT_CONFIG_PATH = '/etc/loopy/agent.json';
export const DEFAULT_DATA_DIR = '/var/lib/loopy';
export const MAX_SNAPLEN = 262144;
/** --stats-out is bounded by default: 1 GiB, then moved aside once (2 GiB on disk at most). */
export const DEFAULT_STATS_OUT_MAX_MIB = 1024;

const word = (what: string) => z.string({ error: `expected ${what}` }).min(1, { error: `expected ${what}, not an empty string` });
const whole = (min: number, max: number) =>
  z
    .number({ error: `expected a whole number from ${min} to ${max}` })
    .int({ error: `expected a whole number from ${min} to ${max}` })
    .min(min, { error: `expected a whole number from ${min} to ${max}` })
    .max(max, { error: `expected a whole number from ${min} to ${max}` });
const flag = z.boolean({ error: 'expected true or false' });

/** The config file's keys. Each has a flag of the same meaning (FLAG_OF). */
export const agentConfigSchema = z.strictObject({
  $schema: z.string().optional().describe('The JSON Schema this file follows, for editors (loopy config-schema agent); not read.'),
  interfaces: z.array(word('an interface name'), { error: 'expected a list of interface names, e.g. ["eth0"]' }).optional().describe('Interfaces to capture on (-i; "any" for all of them, with Linux cooked headers).'),
  filter: z.string({ error: 'expected a tcpdump-syntax filter expression (a string)' }).optional().describe('A tcpdump-syntax filter, compiled by libpcap and run in the kernel (-f).'),
  snaplen: whole(1, MAX_SNAPLEN).optional().describe('Bytes kept of each packet, as tcpdump -s (default 262144).'),
  buffer: z.number({ error: 'expected the kernel ring size in MiB (a number from 1 to 4096)' })
    .min(1, { error: 'expected the kernel ring size in MiB (a number from 1 to 4096)' })
    .max(4096, { error: 'expected the kernel ring size in MiB (a number from 1 to 4096)' })
    .optional().describe('Kernel ring per interface in MiB (default 32): what absorbs bursts.'),
  promisc: flag.optional().describe('Put the interfaces in promiscuous mode.'),
  user: word('a user name').optional().describe('Started as root: the user to become once capture is open (default loopy, else nobody).'),
  data: word('a directory path').optional().describe('State directory: status.json, history, token, TLS pair, evidence (default /var/lib/loopy).'),
  log: word('a file path').optional().describe('Write JSON log lines to this file (default stderr); reopened on SIGHUP.'),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace'], { error: 'expected one of fatal, error, warn, info, debug, trace' }).optional().describe('Least level logged (default info).'),
  statsOut: word('a file path').optional().describe('Append NDJSON records and per-second stats to this file (0600); reopened on SIGHUP.'),
  statsOutMaxMiB: z.number({ error: 'expected a size in MiB (a number from 0.01 to 1048576)' })
    .min(0.01, { error: 'expected a size in MiB (a number from 0.01 to 1048576)' })
    .max(1_048_576, { error: 'expected a size in MiB (a number from 0.01 to 1048576)' })
    .optional()
    .describe('Past this size (MiB, default 1024) statsOut is moved to FILE.1 (replacing it) and a new file begun: at most twice this on disk.'),
  detect: flag.optional().describe('Run detection (default true).'),
  detectConfig: word('a file path').optional().describe('The detection config file (JSON): thresholds, allow-lists, suppressions, delivery; reloaded on SIGHUP.'),
  evidence: word('a directory path').optional().describe('Where the pcaps around alerts go (default DATA/evidence).'),
  stdout: flag.optional().describe('Also write NDJSON records and per-second stats to standard output.'),
  format: z.enum(['ndjson', 'ecs'], { error: 'expected ndjson or ecs' }).optional().describe('Record format of --stdout and --stats-out: ndjson (default) or ecs (Elastic Common Schema).'),
  zeekLogs: word('a directory path').optional().describe('Write Zeek-style logs (conn, dns, ssl, http, weird, notice) into this directory, rotated hourly.'),
  zeekFormat: z.enum(['tsv', 'json'], { error: 'expected tsv or json' }).optional().describe('Zeek log format: tsv (default, with Zeek\'s headers) or json.'),
  read: word('a capture file path').optional().describe('Replay this pcap/pcapng file as if it were live (-r), instead of interfaces.'),
  speed: z.number({ error: 'expected a replay speed factor above 0 (1 = real time)' })
    .positive({ error: 'expected a replay speed factor above 0 (1 = real time)' })
    .optional().describe('Replay speed factor (1 = real time).'),
  max: flag.optional().describe('Replay as fast as possible.'),
  loop: flag.optional().describe('Replay the file again and again.'),
  stay: flag.optional().describe('After a replay ends, keep serving its history until stopped.'),
  maxFlows: whole(1, FLOW_SLOTS).optional().describe('Flow table size; the least recently active flow is evicted past it.'),
  workers: whole(1, MAX_WORKERS).optional().describe('Engines sharing the live capture by address pair, one thread each (PACKET_FANOUT; default 1).'),
  localNets: z.array(word('a network in CIDR form, e.g. "10.0.0.0/8"'), { error: 'expected a list of networks, e.g. ["10.0.0.0/8"]' }).optional().describe('Networks that count as local for in/out (default the private ranges).'),
  topN: whole(1, 1000).optional().describe('Top talkers per stats record (default 10).'),
  listen: z.array(word('unix:PATH or tls://HOST:PORT'), { error: 'expected a list of listeners, e.g. ["unix:/run/loopy/agent.sock", "tls://0.0.0.0:7441"]' }).optional().describe('Serve clients on unix:PATH or tls://HOST:PORT (default unix:/run/loopy/agent.sock as root, else DATA/agent.sock).'),
  metrics: word('HOST:PORT for the Prometheus listener, e.g. "127.0.0.1:9464"').optional().describe('Prometheus metrics over HTTP on HOST:PORT (a bare port: 127.0.0.1).'),
  tlsCert: word('a PEM certificate file path').optional().describe('PEM certificate for tls:// listeners (default: self-signed, generated in DATA).'),
  tlsKey: word('a PEM private key file path').optional().describe('PEM private key of tlsCert.'),
  token: z.string({ error: 'expected the bearer token TLS clients must give (a string of 16 characters or more)' })
    .min(16, { error: 'expected the bearer token TLS clients must give (a string of 16 characters or more)' })
    .optional().describe('Bearer token that makes a TLS client an operator (default: generated in DATA/token).'),
  viewerToken: z.string({ error: 'expected a second bearer token, for TLS clients that only view (a string of 16 characters or more)' })
    .min(16, { error: 'expected a second bearer token, for TLS clients that only view (a string of 16 characters or more)' })
    .optional().describe('Bearer token that makes a TLS client a viewer.'),
  operatorGroup: word('the group whose members are operators on the unix socket').optional().describe('Members of this group are operators on the unix socket (default loopy-operators).'),
  name: word('the agent\'s name for its clients').optional().describe("The agent's name for its clients (default the host name)."),
  hub: word('a NATS hub address, nats://HOST[:PORT]').optional().describe('Dial out to this NATS hub, nats://HOST[:PORT].'),
  hubCreds: word('a NATS credentials file path (.creds)').optional().describe('NATS credentials file (.creds) for the hub.'),
  hubUser: word('the NATS user name the agent logs in with').optional().describe('NATS user for the hub (with hubPassword or $LOOPY_HUB_PASSWORD).'),
  hubPassword: word('the NATS password of hubUser').optional().describe('NATS password of hubUser.'),
  hubCa: word('a PEM file of the CA that signed the hub\'s TLS certificate').optional().describe("PEM CA of the hub's TLS certificate (the hub link then uses TLS)."),
  hubCert: word('a PEM client certificate for the hub').optional().describe('PEM client certificate for the hub (with hubKey).'),
  hubKey: word('the PEM private key of hubCert').optional().describe('PEM private key of hubCert.'),
});

export type AgentConfig = z.infer<typeof agentConfigSchema>;

/** The command-line flag of each config key, for error messages. */
export const FLAG_OF: Record<keyof AgentConfig, string> = {
  $schema: '$schema',
  interfaces: '-i',
  filter: '-f',
  snaplen: '-s/--snaplen',
  buffer: '--buffer',
  promisc: '--promisc',
  user: '--user',
  data: '--data',
  log: '--log',
  logLevel: '--log-level',
  statsOut: '--stats-out',
  statsOutMaxMiB: '--stats-out-max',
  detect: '--no-detect',
  detectConfig: '--detect-config',
  evidence: '--evidence',
  stdout: '--stdout',
  format: '--format',
  zeekLogs: '--zeek-logs',
  zeekFormat: '--zeek-format',
  read: '-r',
  speed: '--speed',
  max: '--max',
  loop: '--loop',
  stay: '--stay',
  maxFlows: '--max-flows',
  workers: '--workers',
  localNets: '--local-net',
  topN: '--top-n',
  listen: '--listen',
  metrics: '--metrics',
  tlsCert: '--tls-cert',
  tlsKey: '--tls-key',
  token: 'token',
  viewerToken: 'viewerToken',
  operatorGroup: 'operatorGroup',
  name: '--name',
  hub: '--hub',
  hubCreds: '--hub-creds',
  hubUser: '--hub-user',
  hubPassword: 'hubPassword',
  hubCa: '--hub-ca',
  hubCert: '--hub-cert',
  hubKey: '--hub-key',
};

/** The settings the agent runs with, after the file, the flags and the defaults are merged. */
export interface AgentSettings {
  source: { kind: 'live'; interfaces: string[] } | { kind: 'replay'; file: string; speed?: number; max: boolean; loop: boolean; stay?: boolean };
  filter?: string;
  snaplen?: number;
  bufferMiB?: number;
  promisc: boolean;
  /** The user a root agent becomes; undefined: loopy, else nobody (privileges.ts). */
  user?: string;
  dataDir: string;
  logFile?: string;
  logLevel: string;
  statsOut?: string;
  /** Past this many bytes statsOut is moved to statsOut.1 and begun again (default DEFAULT_STATS_OUT_MAX_MIB). */
  statsOutMaxBytes?: number;
  /** Detection (default on) and its settings file (thresholds, allow-lists, delivery). */
  detect?: boolean;
  detectConfig?: string;
  /** Where evidence pcaps go; undefined: DATA/evidence. */
  evidenceDir?: string;
  stdout: boolean;
  /** How --stdout and --stats-out write records: Loopy's NDJSON (the default), or ECS documents. */
  format?: RecordFormat;
  /** Zeek logs on disk, rotated hourly; absent: none. */
  zeekLogs?: { dir: string; format: ZeekLogFormat };
  maxFlows?: number;
  /** Engines sharing a live capture by address pair (PACKET_FANOUT); default 1. */
  workers?: number;
  localNets?: string[];
  topN?: number;
  /** The protocol server; absent: the agent serves no clients (tests, and library use). */
  serve?: ServeSettings;
  /** A NATS hub the agent dials out to (decision 12); absent: none. */
  hub?: HubSettings;
}

/** How the agent reaches its hub: the address, and how it proves who it is (the hub's permissions decide what it may do). */
export interface HubSettings {
  host: string;
  port: number;
  credsFile?: string;
  user?: string;
  password?: string;
  tls?: { caFile?: string; certFile?: string; keyFile?: string };
}

export interface ServeSettings {
  listen: ListenSpec[];
  /** Prometheus metrics over HTTP. */
  metrics?: { host: string; port: number };
  tlsCertFile?: string;
  tlsKeyFile?: string;
  /** The operator's token on TLS (else DATA/token), and a token for clients that only view. */
  token?: string;
  viewerToken?: string;
  /** Members of this group are operators on the unix socket (default loopy-operators). */
  operatorGroup?: string;
  /** The name clients show (default: the host name). */
  name?: string;
}

/** The unix socket when none is given: /run/loopy for root, else in the data directory. */
export function defaultSocketPath(euid: number | undefined, dataDir: string): string {
  return euid === 0 ? DEFAULT_ROOT_SOCKET : join(dataDir, 'agent.sock');
}

/** `HOST:PORT`, `[V6]:PORT` or `PORT` (loopback). */
export function parseMetricsSpec(text: string): { host: string; port: number } {
  const m = /^(?:(\[[0-9a-fA-F:.]+\]|[^:[\]]+):)?(\d{1,5})$/.exec(text);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) throw new ConfigError(`--metrics ${text}: expected HOST:PORT (e.g. 127.0.0.1:9464) or a port`);
  return { host: m[1]?.replace(/^\[|\]$/g, '') ?? '127.0.0.1', port };
}

/** A settings mistake: one line (file or flag, key, what is expected). Stable code LOOPY_CONFIG. */
export class ConfigError extends Error {
  readonly code = 'LOOPY_CONFIG';
}

function describe(value: unknown): string {
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let v = raw;
  for (const key of path) v = v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[key] : undefined;
  return v;
}

function keyPath(path: readonly PropertyKey[]): string {
  return path.map((k, i) => (typeof k === 'number' ? `[${k}]` : i === 0 ? String(k) : `.${String(k)}`)).join('');
}

/** Validates `raw`; `where` says where it came from (a file path, or "command line"). */
export function validateAgentConfig(raw: unknown, where: string): AgentConfig {
  const result = agentConfigSchema.safeParse(raw);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const fromFile = where !== 'command line';
  if (issue.code === 'unrecognized_keys') {
    const known = Object.keys(agentConfigSchema.shape).filter((k) => k !== '$schema').join(', ');
    throw new ConfigError(`${where}: unknown key "${issue.keys[0]}" (known keys: ${known})`);
  }
  if (issue.path.length === 0) throw new ConfigError(`${where}: expected a JSON object of settings, got ${describe(raw)}`);
  const top = issue.path[0] as keyof AgentConfig;
  const key = fromFile ? `key "${keyPath(issue.path)}"` : `${FLAG_OF[top] ?? String(top)}`;
  throw new ConfigError(`${where}: ${key}: ${issue.message}, got ${describe(valueAt(raw, issue.path))}`);
}

/**
 * Where a JSON syntax error is, never what is there: V8's message quotes the file ("root:*:195"...), and a
 * config path pointing at a secret file (a symlink to /etc/shadow, read as root) must not print it.
 */
function jsonErrorWhere(text: string, message: string): string {
  const at = /position (\d+)/.exec(message);
  if (at) return ` at ${lineColumn(text, Number(at[1]))}`;
  // "Unexpected token 'r', ..." without a position: the first character that is not JSON.
  const first = text.search(/[^\s]/);
  return first >= 0 && !/[[{"\d\-tfn]/.test(text[first]) ? ` at ${lineColumn(text, first)}` : '';
}

/** Line and column of a character offset, for JSON syntax errors. */
function lineColumn(text: string, offset: number): string {
  const before = text.slice(0, offset).split('\n');
  return `line ${before.length}, column ${before[before.length - 1].length + 1}`;
}

/**
 * Reads the config file. The default path may be absent (no file, no settings); a path given with
 * --config must exist.
 */
export function loadAgentConfig(path: string | undefined, readFile: (p: string) => string = (p) => readFileSync(p, 'utf8')): AgentConfig {
  const file = path ?? DEFAULT_CONFIG_PATH;
  let text: string;
  try {
    text = readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (path === undefined && code === 'ENOENT') return {};
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : String((err as Error).message);
    throw new ConfigError(`${file}: cannot read the config file (${why}): give an existing file with --config FILE`);
  }
  let raw: unknown;
  try {
    // Comments and trailing commas, as in tsconfig and VS Code settings: blanked, so positions still hold.
    raw = JSON.parse(stripJsonComments(text, { trailingCommas: true }));
  } catch (err) {
    throw new ConfigError(`${file}: not valid JSON${jsonErrorWhere(text, String((err as Error).message))}: fix the file (it must be one JSON object of settings)`);
  }
  return validateAgentConfig(raw, file);
}

/** Merges the file and the flags (flags win) and checks the combinations; throws ConfigError. */
export function resolveAgentSettings(file: AgentConfig, flags: AgentConfig, euid = process.geteuid?.()): AgentSettings {
  const c: AgentConfig = { ...file };
  for (const [key, value] of Object.entries(flags)) if (value !== undefined) (c as Record<string, unknown>)[key] = value;
  const live = c.interfaces !== undefined && c.interfaces.length > 0;
  const interfacesFromFlags = flags.interfaces !== undefined && flags.interfaces.length > 0;
  // A file naming interfaces and a command line asking for a replay (or the reverse): the command line wins.
  if (live && c.read !== undefined) {
    if (flags.read !== undefined && !interfacesFromFlags) delete c.interfaces;
    else if (interfacesFromFlags && flags.read === undefined) delete c.read;
    else throw new ConfigError('-i and -r cannot be used together: capture live from interfaces, or replay a file');
  }
  if (c.read === undefined && !(c.interfaces && c.interfaces.length > 0)) {
    throw new ConfigError('nothing to capture: give -i IFACE (repeat for several, or -i any) or -r FILE, on the command line or in the config file');
  }
  if (c.read === undefined) {
    for (const key of ['speed', 'max', 'loop', 'stay'] as const) {
      if (c[key] !== undefined && c[key] !== false) throw new ConfigError(`${FLAG_OF[key]} only applies to a replay (-r FILE)`);
    }
  } else {
    for (const key of ['snaplen', 'buffer', 'promisc'] as const) {
      if (c[key] !== undefined && c[key] !== false) throw new ConfigError(`${FLAG_OF[key]} only applies to live capture (-i IFACE)`);
    }
  }
  if (c.localNets) {
    try {
      new LocalNets(c.localNets);
    } catch (err) {
      throw new ConfigError(`${FLAG_OF.localNets}: ${(err as Error).message}`);
    }
  }
  const dataDir = c.data ?? DEFAULT_DATA_DIR;
  let listen: ListenSpec[];
  try {
    listen = (c.listen ?? [`unix:${defaultSocketPath(euid, dataDir)}`]).map(parseListenSpec);
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  if ((c.tlsCert === undefined) !== (c.tlsKey === undefined)) throw new ConfigError('give both --tls-cert and --tls-key, or neither (a self-signed pair is then generated in --data DIR)');
  const serve: ServeSettings = { listen };
  if (c.metrics !== undefined) serve.metrics = parseMetricsSpec(c.metrics);
  if (c.tlsCert !== undefined) serve.tlsCertFile = c.tlsCert;
  if (c.tlsKey !== undefined) serve.tlsKeyFile = c.tlsKey;
  if (c.token !== undefined) serve.token = c.token;
  if (c.viewerToken !== undefined) serve.viewerToken = c.viewerToken;
  if (c.operatorGroup !== undefined) serve.operatorGroup = c.operatorGroup;
  if (c.name !== undefined) serve.name = c.name;
  const hub = hubSettings(c);
  if ((c.workers ?? 1) > 1 && c.read !== undefined) throw new ConfigError('--workers shares a live capture between engines: a replay (-r) runs in one; drop --workers');
  if (c.speed !== undefined && c.max) throw new ConfigError('--speed and --max cannot be used together: --max replays as fast as possible');
  return {
    source: c.read !== undefined
      ? { kind: 'replay', file: c.read, speed: c.speed, max: c.max ?? false, loop: c.loop ?? false, stay: c.stay ?? false }
      : { kind: 'live', interfaces: [...new Set(c.interfaces)] },
    filter: c.filter === undefined || c.filter.trim() === '' ? undefined : c.filter,
    snaplen: c.snaplen,
    bufferMiB: c.buffer,
    promisc: c.promisc ?? false,
    user: c.user,
    dataDir,
    logFile: c.log,
    logLevel: c.logLevel ?? 'info',
    statsOut: c.statsOut,
    ...(c.statsOutMaxMiB === undefined ? {} : { statsOutMaxBytes: c.statsOutMaxMiB * 1024 * 1024 }),
    detect: c.detect ?? true,
    detectConfig: c.detectConfig,
    evidenceDir: c.evidence,
    stdout: c.stdout ?? false,
    format: c.format ?? 'ndjson',
    ...(c.zeekLogs === undefined ? {} : { zeekLogs: { dir: c.zeekLogs, format: c.zeekFormat ?? 'tsv' } }),
    maxFlows: c.maxFlows,
    workers: c.workers,
    localNets: c.localNets,
    topN: c.topN,
    serve,
    ...(hub === undefined ? {} : { hub }),
  };
}

/** The hub keys checked together: an address to use them with, one way to log in, a certificate with its key. */
function hubSettings(c: AgentConfig, env = process.env): HubSettings | undefined {
  const options = (['hubCreds', 'hubUser', 'hubPassword', 'hubCa', 'hubCert', 'hubKey'] as const).filter((k) => c[k] !== undefined);
  if (c.hub === undefined) {
    if (options.length > 0) throw new ConfigError(`${FLAG_OF[options[0]!]} needs --hub nats://HOST[:PORT]`);
    return undefined;
  }
  let address;
  try {
    address = parseHubAddress(c.hub);
  } catch (err) {
    throw new ConfigError(`--hub ${(err as Error).message}`);
  }
  if (address.agent !== undefined) throw new ConfigError(`--hub ${c.hub}: an agent dials the hub itself (nats://HOST[:PORT]); its name is --name`);
  if (address.user !== undefined) throw new ConfigError(`--hub ${c.hub}: give the user with --hub-user and the password in the config file's "hubPassword" or $LOOPY_HUB_PASSWORD, not in the address`);
  if (c.hubCreds !== undefined && c.hubUser !== undefined) throw new ConfigError('give --hub-creds or --hub-user, not both');
  const password = c.hubPassword ?? (env.LOOPY_HUB_PASSWORD || undefined);
  if ((c.hubUser === undefined) !== (password === undefined)) throw new ConfigError('--hub-user needs a password (the config file\'s "hubPassword" or $LOOPY_HUB_PASSWORD), and a password needs --hub-user');
  if ((c.hubCert === undefined) !== (c.hubKey === undefined)) throw new ConfigError('give both --hub-cert and --hub-key, or neither');
  const hub: HubSettings = { host: address.host, port: address.port };
  if (c.hubCreds !== undefined) hub.credsFile = c.hubCreds;
  if (c.hubUser !== undefined) Object.assign(hub, { user: c.hubUser, password });
  if (c.hubCa !== undefined || c.hubCert !== undefined) hub.tls = { caFile: c.hubCa, certFile: c.hubCert, keyFile: c.hubKey };
  return hub;
}
