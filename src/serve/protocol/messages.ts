/**
 * The agent protocol's messages (docs/protocol.md): a zod schema for everything that comes IN (validated at
 * the edge, before any handler sees it) and a TypeScript type for everything that goes OUT. The shapes are
 * the ones src/client/agent-client.ts exposes, so the client library is a thin layer over the wire.
 */
import { z } from 'zod';
import type { AlertRecord, ConnRecord, DnsRecord } from '../../analyze/records.js';
import type { StatsSecond } from '../../stats/stats-record.js';
import type { AgentStatus } from '../status.js';
import type { AlertAck, HostTotal, SeriesPoint } from '../../store/types.js';

export const PROTOCOL_VERSIONS = [1] as const;
/** Longest inbound line, newline excluded. Longer: FRAME_TOO_LARGE and the connection is closed. */
export const MAX_FRAME_BYTES = 1024 * 1024;
/** Rows a history query returns at most (and by default). */
export const MAX_LIMIT = 10_000;
export const DEFAULT_LIMIT = 1000;
/** history.talkers without a limit: the hosts a person looks at first. */
export const DEFAULT_TALKERS_LIMIT = 10;

export const TOPICS = ['stats', 'flows', 'dns', 'alerts'] as const;
export type Topic = (typeof TOPICS)[number];
export const RESOLUTIONS = ['1s', '1m', '1h'] as const;
export type Resolution = (typeof RESOLUTIONS)[number];

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
} as const;
export type Method = keyof typeof METHOD_PARAMS;
export const METHODS = Object.keys(METHOD_PARAMS) as Method[];

// ---- outbound ----

export interface HelloResult {
  version: number;
  name: string;
  software: string;
  methods: string[];
  topics: Topic[];
  /** The agent's clock (seconds since the epoch) and when it started. */
  time: number;
  started: number;
  /** This session's id (appears in the agent's log). */
  session: number;
  /** How this connection was admitted. */
  auth: 'unix' | 'token';
  /** What this client may do: viewers read and subscribe; operators also acknowledge and suppress. */
  role: 'viewer' | 'operator';
  limits: { max_frame_bytes: number; max_limit: number; queue: number };
}

/** A point of a stored series and a host's total: the history store's own shapes, sent as they are. */
export type { AlertAck, HostTotal, SeriesPoint };

/** An alert record as the agent sends it: with its acknowledgement once a client has acknowledged it. */
export type AgentAlertRecord = AlertRecord & Partial<AlertAck>;

/** The reply of each method. */
export interface MethodResults {
  hello: HelloResult;
  status: AgentStatus;
  'history.series': SeriesPoint[];
  'history.flows': ConnRecord[];
  'history.dns': DnsRecord[];
  'history.alerts': AgentAlertRecord[];
  'history.talkers': HostTotal[];
  subscribe: { topics: Topic[] };
  unsubscribe: { topics: Topic[] };
  'alerts.ack': { alert_id: string } & AlertAck;
  'alerts.suppress': { suppression_id: number };
}

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
