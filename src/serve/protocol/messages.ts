/**
 * The agent protocol's messages (docs/protocol.md): a zod schema for everything that comes IN (validated at
 * the edge, before any handler sees it), and, in results.ts, a schema for every reply that clients check.
 * Every transport (unix, TLS, SSH, NATS) carries exactly these methods; src/serve answers them and
 * src/client asks them, both from here (serve sits below client, so both may import it).
 */
import { z } from 'zod';
import type { ConnRecord, DnsRecord } from '../../analyze/records.js';
import type { StatsSecond } from '../../stats/stats-record.js';
import { QUERY_LIMITS } from '../../store/types.js';
import { type AgentAlertRecord, RESOLUTIONS, TOPICS, type Topic } from './results.js';
import { ErrorCode, ProtocolError } from './errors.js';

export const PROTOCOL_VERSIONS = [1] as const;
/** Longest inbound line, newline excluded. Longer: FRAME_TOO_LARGE and the connection is closed. */
export const MAX_FRAME_BYTES = 1024 * 1024;
/** Rows a history query returns at most and by default, and talkers by default (the store enforces them). */
export const MAX_LIMIT = QUERY_LIMITS.max;
export const DEFAULT_LIMIT = QUERY_LIMITS.default;
export const DEFAULT_TALKERS_LIMIT = QUERY_LIMITS.talkersDefault;

// ---- inbound: the envelope ----

const rpcId = z.union([z.string().max(128), z.number().int().safe()]);

/** A JSON-RPC 2.0 request (with id) or notification (without). params: an object, or absent. */
export const requestSchema = z.strictObject({
  jsonrpc: z.literal('2.0'),
  id: rpcId.optional(),
  method: z.string().min(1).max(64),
  params: z.record(z.string(), z.unknown()).optional(),
});
export type RpcRequest = z.infer<typeof requestSchema>;
export type RpcId = z.infer<typeof rpcId>;

// ---- inbound: each method's params ----

const name = z.string().min(1).max(128);

export const helloParams = z.strictObject({
  /** The protocol versions the client speaks; the agent picks the highest it also speaks. */
  versions: z.array(z.number().int().positive()).min(1).max(16),
  client: z.strictObject({ name, version: z.string().min(1).max(64) }),
  /** Bearer token: required on TLS, ignored on the unix socket. */
  token: z.string().min(1).max(512).optional(),
  /** How the client reached the agent. Only believed on the unix socket (it is `loopy bridge` telling). */
  via: z
    .strictObject({
      /** $SSH_CONNECTION of the bridge: "client_ip client_port server_ip server_port". */
      ssh_connection: z.string().max(200).optional(),
    })
    .optional(),
});
export type HelloParams = z.infer<typeof helloParams>;

const epochSeconds = z.number().finite().nonnegative();
const filters = {
  since: epochSeconds,
  until: epochSeconds,
  /** An address: rows where either end is this host. */
  host: z.string().min(1).max(64).optional(),
  /** Rows where either end uses this port. */
  port: z.number().int().min(0).max(65535).optional(),
  proto: z.enum(['tcp', 'udp', 'icmp']).optional(),
  limit: z.number().int().min(1).max(MAX_LIMIT).optional(),
};
const sinceBeforeUntil = (q: { since: number; until: number }) => q.since <= q.until;
const rangeError = { error: 'since must not be after until', path: ['until'] };

export const historyQueryParams = z.strictObject(filters).refine(sinceBeforeUntil, rangeError);
export type HistoryQueryParams = z.infer<typeof historyQueryParams>;

/**
 * The series are rolled up for all traffic only (src/store): a host, port or proto filter cannot be honoured,
 * so it is INVALID_PARAMS naming the filter and what there is instead, never silently ignored.
 */
export function seriesFilterError(filter: 'host' | 'port' | 'proto'): string {
  const perHost = filter === 'host' ? ', or history.talkers for bytes per host per minute' : '';
  const per = filter === 'proto' ? 'protocol' : filter;
  return `the agent keeps its series for all traffic only, not per ${per} (history.series takes since, until, resolution and limit); ` +
    `ask history.flows with ${filter} for the matching flows${perHost}`;
}
export const seriesParams = z
  .strictObject({ since: filters.since, until: filters.until, resolution: z.enum(RESOLUTIONS), limit: filters.limit, host: z.unknown().optional(), port: z.unknown().optional(), proto: z.unknown().optional() })
  .refine(sinceBeforeUntil, rangeError)
  .superRefine((q, ctx) => {
    for (const filter of ['host', 'port', 'proto'] as const) {
      if (q[filter] !== undefined) ctx.addIssue({ code: 'custom', path: [filter], message: seriesFilterError(filter) });
    }
  })
  .transform(({ since, until, resolution, limit }) => ({ since, until, resolution, limit }));
export type SeriesParams = z.infer<typeof seriesParams>;

/** history.talkers: per-host totals over a range; host/port/proto do not apply. */
export const talkersParams = z
  .strictObject({ since: filters.since, until: filters.until, limit: filters.limit })
  .refine(sinceBeforeUntil, rangeError);
export type TalkersParams = z.infer<typeof talkersParams>;

export const topicsParams = z.strictObject({ topics: z.array(z.enum(TOPICS)).min(1).max(TOPICS.length) });
/** unsubscribe without topics: all of them. */
export const unsubscribeParams = z.strictObject({ topics: z.array(z.enum(TOPICS)).max(TOPICS.length).optional() });

export const ackParams = z.strictObject({ alert_id: z.string().min(1).max(128) });

export const suppressParams = z
  .strictObject({
    detector: z.string().min(1).max(64).optional(),
    /** An address or CIDR. */
    source: z.string().min(1).max(64).optional(),
    destination: z.string().min(1).max(64).optional(),
    /** The unit or container of the process behind the alert (process detectors), exact. */
    unit: z.string().min(1).max(200).optional(),
    expires_at: epochSeconds,
    reason: z.string().max(200).optional(),
  })
  .refine((r) => r.detector !== undefined || r.source !== undefined || r.destination !== undefined || r.unit !== undefined, {
    error: 'give at least one of detector, source, destination, unit',
  });
export type SuppressParams = z.infer<typeof suppressParams>;

/** Addresses a `names` request may ask about at once (a screenful of hosts is a few dozen). */
export const MAX_NAMES_ASKED = 1000;

/** names: the addresses to name, as records write them. */
export const namesParams = z.strictObject({ addresses: z.array(z.string().min(1).max(64)).min(1).max(MAX_NAMES_ASKED) });
export type NamesParams = z.infer<typeof namesParams>;

export const emptyParams = z.strictObject({});

/** Every method and its params schema. A method not here is METHOD_NOT_FOUND. */
export const METHOD_PARAMS = {
  hello: helloParams,
  status: emptyParams,
  'history.series': seriesParams,
  'history.flows': historyQueryParams,
  'history.dns': historyQueryParams,
  'history.alerts': historyQueryParams,
  'history.talkers': talkersParams,
  subscribe: topicsParams,
  unsubscribe: unsubscribeParams,
  'alerts.ack': ackParams,
  'alerts.suppress': suppressParams,
  names: namesParams,
} as const;
export type Method = keyof typeof METHOD_PARAMS;
export const METHODS = Object.keys(METHOD_PARAMS) as Method[];

/**
 * A method's name and params checked against METHOD_PARAMS, on every transport: the validated params, or a
 * ProtocolError (METHOD_NOT_FOUND, INVALID_PARAMS naming the first bad field).
 */
export function validateParams(method: string, params: unknown): { method: Method; params: unknown } {
  if (!Object.hasOwn(METHOD_PARAMS, method)) throw new ProtocolError(ErrorCode.METHOD_NOT_FOUND, `no method ${JSON.stringify(method)}`);
  const parsed = METHOD_PARAMS[method as Method].safeParse(params ?? {});
  if (!parsed.success) {
    const issues = issuesOf(parsed.error.issues);
    const first = issues[0];
    throw new ProtocolError(ErrorCode.INVALID_PARAMS, `bad params for ${method}: ${first.path ? `${first.path}: ` : ''}${first.message}`, { issues });
  }
  return { method: method as Method, params: parsed.data };
}

/** Zod's issues as the protocol reports them in `data.issues`: at most ten, each a dotted path and a message. */
export function issuesOf(issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>): Array<{ path: string; message: string }> {
  return issues.slice(0, 10).map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
}

// ---- outbound ----

export { RESOLUTIONS, TOPICS, type Topic };
export { checkEventRecord, checkResult, ResultShapeError } from './results.js';
export type { AgentAlertRecord, HelloResult, MethodResults, Resolution } from './results.js';
export type { AlertAck, HostTotal, SeriesPoint } from '../../store/types.js';

export type EventParams =
  | { topic: 'stats'; record: StatsSecond; missed: number }
  | { topic: 'flows'; record: ConnRecord; missed: number }
  | { topic: 'dns'; record: DnsRecord; missed: number }
  | { topic: 'alerts'; record: AgentAlertRecord; missed: number };

export interface RpcSuccess<R = unknown> {
  jsonrpc: '2.0';
  id: RpcId;
  result: R;
}

export interface RpcFailure {
  jsonrpc: '2.0';
  /** null when the request's id could not be read (parse error, invalid request). */
  id: RpcId | null;
  error: { code: number; message: string; data?: unknown };
}

/** Notifications the agent sends: live events, and a last word before it closes a connection on purpose. */
export type AgentNotification =
  | { jsonrpc: '2.0'; method: 'event'; params: EventParams }
  | { jsonrpc: '2.0'; method: 'closing'; params: { reason: string } };
