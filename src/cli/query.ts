/**
 * `loopy query TARGET status|series|flows|dns|alerts|talkers`: one question to an agent, the answer on stdout
 * as a table, NDJSON (--json) or CSV (--csv). Connects once (no reconnect): a script wants an answer or an error.
 */
import type { Command } from 'commander';
import { connectAgent, hubOf } from '../client/connect-agent.js';
import type { AgentClient, HistoryQuery, HostTotal, Resolution } from '../client/agent-client.js';
import { RpcError } from '../client/rpc-connection.js';
import { ErrorCode } from '../serve/protocol/errors.js';
import { parseTimeRange } from '../client/time-spec.js';
import { formatAgentStatus } from '../serve/status.js';
import { RESOLUTIONS } from '../serve/protocol/messages.js';
import { type AgentTargetOptions, addAgentTargetOptions, asUsage, connectOptionsFrom, exitOnEpipe } from './agent-target-options.js';
import { UsageError, parsePositiveInt } from './errors.js';
import { CSV_DEFAULTS, CSV_FIELDS, type QueryKind, formatCsv, formatNdjson, formatTable } from './query-output.js';
import { runFleetQuery } from './query-fleet.js';

const WHATS = ['status', 'series', 'flows', 'dns', 'alerts', 'talkers'] as const;
export type QueryWhat = (typeof WHATS)[number];
/** Kinds the agent keeps for all traffic (series) or per host already (talkers): no host/port/proto filter. */
const UNFILTERED: readonly string[] = ['series', 'talkers'];
const PROTOS = ['tcp', 'udp', 'icmp'] as const;

export interface QueryCliOptions extends AgentTargetOptions {
  since: string;
  until: string;
  resolution: string;
  host?: string;
  port?: string;
  proto?: string;
  limit?: string;
  json?: boolean;
  csv?: boolean;
  perAgent?: boolean;
}

export function registerQuery(program: Command): void {
  const command = program
    .command('query')
    .description('ask an agent for its status or its history; a table, NDJSON (--json) or CSV (--csv) on stdout')
    .argument('<target>', 'unix:PATH, tls://HOST:PORT, ssh://[USER@]HOST[:PORT] or a name from ~/.config/loopy/config.json')
    .argument('<what>', WHATS.join('|'))
    .option('--since <time>', 'start: a duration back from now (15m, 1h, 7d), an ISO 8601 time or epoch seconds', '1h')
    .option('--until <time>', 'end: now, a duration back from now, an ISO 8601 time or epoch seconds', 'now')
    .option('--resolution <r>', 'series step: 1s, 1m or 1h', '1m')
    .option('--host <addr>', 'only rows where either end is this address')
    .option('--port <n>', 'only rows where either end uses this port')
    .option('--proto <p>', 'only tcp, udp or icmp')
    .option('--limit <n>', 'at most this many rows (agent default 1000, talkers 10; at most 10000)')
    .option('--json', 'NDJSON: one row per line, as the agent sent it')
    .option('--csv', 'CSV with a header line')
    .option('--per-agent', 'nats://HUB (every agent): series and talkers per agent, not summed over the fleet');
  addAgentTargetOptions(command).action(async (target: string, what: string, options: QueryCliOptions) => {
    process.exitCode = await runQuery(target, what, options);
  });
}

function buildQuery(what: string, o: QueryCliOptions, now: number): HistoryQuery {
  const range = asUsage(() => parseTimeRange(o.since, o.until, now));
  const q: HistoryQuery = { ...range };
  if (UNFILTERED.includes(what)) {
    const given = (['host', 'port', 'proto'] as const).filter((f) => o[f] !== undefined);
    if (given.length > 0) {
      const instead = what === 'series' ? 'the agent keeps its series for all traffic only; use flows or talkers for a host' : 'talkers are per host already';
      throw new UsageError(`--${given[0]} does not apply to ${what}: ${instead}`);
    }
  }
  if (o.host !== undefined) q.host = o.host;
  if (o.port !== undefined) {
    const port = Number(o.port);
    if (!/^\d+$/.test(o.port) || port > 65535) throw new UsageError(`--port takes 0 to 65535, not '${o.port}'`);
    q.port = port;
  }
  if (o.proto !== undefined) {
    if (!(PROTOS as readonly string[]).includes(o.proto)) throw new UsageError(`--proto takes ${PROTOS.join(', ')}, not '${o.proto}'`);
    q.proto = o.proto as HistoryQuery['proto'];
  }
  if (o.limit !== undefined) q.limit = parsePositiveInt(o.limit, '--limit');
  return q;
}

export async function runQuery(target: string, what: string, o: QueryCliOptions): Promise<number> {
  if (!(WHATS as readonly string[]).includes(what)) throw new UsageError(`query: '${what}' is not one of ${WHATS.join(', ')}`);
  if (o.json && o.csv) throw new UsageError('give --json or --csv, not both');
  if (!(RESOLUTIONS as readonly string[]).includes(o.resolution)) throw new UsageError(`--resolution takes 1s, 1m or 1h, not '${o.resolution}'`);
  const now = Date.now() / 1000;
  const query = what === 'status' ? undefined : buildQuery(what, o, now);
  const options = { ...connectOptionsFrom(o, 'loopy-query'), reconnect: false };
  const hub = asUsage(() => hubOf(target, options));
  const fleet = hub?.agent === undefined ? hub : undefined;
  if (o.perAgent && fleet === undefined) throw new UsageError('--per-agent applies to a nats://HOST:PORT target (every agent on a hub)');
  if (fleet) return runFleetQuery(target, fleet, what as QueryWhat, query, o, now);
  const client = asUsage(() => connectAgent(target, options));
  exitOnEpipe(() => process.exit(0));
  try {
    let text: string;
    if (what === 'status') {
      const status = await client.status();
      text = o.json ? formatNdjson([status]) : o.csv ? formatCsv(Object.keys(status), [status as unknown as Record<string, unknown>]) : formatAgentStatus(status, now);
    } else {
      const kind = what as QueryKind;
      const rows = (await (kind === 'series'
        ? client.series({ ...query!, resolution: o.resolution as Resolution })
        : kind === 'talkers'
          ? withNames(client, await client.talkers(query!))
          : client[kind](query!))) as unknown as Array<Record<string, unknown>>;
      text = o.json ? formatNdjson(rows) : o.csv ? formatCsv(CSV_FIELDS[kind], rows, CSV_DEFAULTS[kind]) : formatTable(kind, rows);
    }
    await writeOut(text);
    return 0;
  } catch (err) {
    process.stderr.write(`loopy: ${(err as Error).message}\n`);
    return 1;
  } finally {
    client.close();
  }
}

/** Talkers with the name the agent's passive DNS has for each host (`name`, when it has one). */
async function withNames(client: AgentClient, talkers: HostTotal[]): Promise<Array<HostTotal & { name?: string }>> {
  if (talkers.length === 0) return talkers;
  let names: Record<string, string>;
  try {
    names = await client.names(talkers.map((t) => t.host));
  } catch (err) {
    // An agent older than passive DNS: its talkers, unnamed.
    if (err instanceof RpcError && err.rpcCode === ErrorCode.METHOD_NOT_FOUND) return talkers;
    throw err;
  }
  return talkers.map((t) => (Object.hasOwn(names, t.host) ? { ...t, name: names[t.host] } : t));
}

export function writeOut(text: string): Promise<void> {
  return new Promise<void>((resolve) => process.stdout.write(text, () => resolve()));
}
