/**
 * What the agent answers, as zod schemas: every client (unix, TLS, SSH, NATS) checks a reply against its
 * method's schema before handing it on, so a broken or foreign peer is one error naming the method and the
 * field, never a record of the wrong shape deep in the UI. The schemas check the fields clients read and let
 * the others through (records gain fields over time; docs/records.md lists them all).
 */
import { z } from 'zod';
import type { AlertRecord, ConnRecord, DnsRecord } from '../../analyze/records.js';
import type { StatsSecond } from '../../stats/stats-record.js';
import { type AlertAck, type HostTotal, RESOLUTIONS, SERIES_COLUMNS, type SeriesPoint } from '../../store/types.js';
import type { AgentStatus } from '../status.js';

export const TOPICS = ['stats', 'flows', 'dns', 'alerts'] as const;
export type Topic = (typeof TOPICS)[number];
export { RESOLUTIONS };
export type { Resolution } from '../../store/types.js';

const count = z.number().finite().nonnegative();
const epoch = z.number().finite().nonnegative();
const connId = { 'id.orig_h': z.string(), 'id.orig_p': z.number(), 'id.resp_h': z.string(), 'id.resp_p': z.number(), proto: z.string() };

const statsRecord = z.looseObject({
  type: z.literal('stats'), ts: epoch, packets: count, bytes: count, bytes_in: count, bytes_out: count,
  flows_active: count, cpu_percent: z.number(), rss_bytes: count, interfaces: z.array(z.looseObject({ name: z.string() })),
  top_talkers: z.array(z.looseObject({ host: z.string(), bytes: count, packets: count })),
});
const connRecord = z.looseObject({ type: z.literal('conn'), ts: epoch, uid: z.string(), ...connId, conn_state: z.string() });
const dnsRecord = z.looseObject({ type: z.literal('dns'), ts: epoch, uid: z.string(), ...connId, query: z.string().optional() });
const ackFields = { acknowledged: z.literal(true), acknowledged_at: epoch, acknowledged_by: z.string() };
const alertRecord = z.looseObject({
  type: z.literal('alert'), ts: epoch, alert_id: z.string(), detector: z.string(), severity: z.string(), message: z.string(),
  state: z.string(), acknowledged: z.literal(true).optional(), acknowledged_at: epoch.optional(), acknowledged_by: z.string().optional(),
});
const statusRecord = z.looseObject({
  type: z.literal('agent_status'), pid: z.number().int(), state: z.string(), source: z.string(), started: epoch, updated: epoch,
  interfaces: z.array(z.looseObject({ name: z.string() })), packets_per_s: count, cpu_percent: z.number(), rss_bytes: count,
});
const seriesPoint = z.object({ ts: epoch, ...Object.fromEntries(SERIES_COLUMNS.map((c) => [c, count])) } as Record<keyof SeriesPoint, typeof count>);
const hostTotal = z.object({ host: z.string(), bytes: count, packets: count });
const topicList = z.object({ topics: z.array(z.enum(TOPICS)) });

export const helloResult = z.looseObject({
  version: z.number().int(),
  name: z.string(),
  software: z.string(),
  methods: z.array(z.string()),
  topics: z.array(z.enum(TOPICS)),
});

/** An alert record as the agent sends it: with its acknowledgement once a client has acknowledged it. */
export type AgentAlertRecord = AlertRecord & Partial<AlertAck>;

/** Each method's reply: the schema clients check, typed as the agent makes it. */
export const RESULT_SCHEMAS = {
  hello: helloResult,
  status: statusRecord,
  'history.series': z.array(seriesPoint),
  'history.flows': z.array(connRecord),
  'history.dns': z.array(dnsRecord),
  'history.alerts': z.array(alertRecord),
  'history.talkers': z.array(hostTotal),
  subscribe: topicList,
  unsubscribe: topicList,
  'alerts.ack': z.object({ alert_id: z.string(), ...ackFields }),
  'alerts.suppress': z.object({ suppression_id: z.number().int() }),
  names: z.object({ names: z.record(z.string(), z.string()) }),
} as const;

/** The record of each live topic, checked as a reply is. */
export const EVENT_RECORD_SCHEMAS = { stats: statsRecord, flows: connRecord, dns: dnsRecord, alerts: alertRecord } as const satisfies Record<Topic, z.ZodType>;

/** The shapes the agent sends (the schemas above check a subset of their fields). */
export interface TopicRecords {
  stats: StatsSecond;
  flows: ConnRecord;
  dns: DnsRecord;
  alerts: AgentAlertRecord;
}

/** A reply that does not match its method's schema: the peer is broken or is not a loopy agent. */
export class ResultShapeError extends Error {
  readonly code = 'LOOPY_PROTOCOL';
}

function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  const path = issue?.path.map(String).join('.') ?? '';
  return `${path === '' ? '' : `${path}: `}${issue?.message ?? 'invalid'}`;
}

/** Checks an event's record against its topic's schema; throws ResultShapeError naming the field. */
export function checkEventRecord<T extends Topic>(topic: T, record: unknown): TopicRecords[T] {
  const parsed = EVENT_RECORD_SCHEMAS[topic].safeParse(record);
  if (!parsed.success) throw new ResultShapeError(`a ${topic} event is not a loopy record (${firstIssue(parsed.error)})`);
  return record as TopicRecords[T];
}

/** Checks a reply against its method's schema and returns it as the agent made it; throws ResultShapeError. */
export function checkResult<M extends keyof typeof RESULT_SCHEMAS>(method: M, value: unknown): ResultOf<M> {
  const parsed = RESULT_SCHEMAS[method].safeParse(value);
  if (!parsed.success) throw new ResultShapeError(`the reply to ${method} is not a loopy agent's (${firstIssue(parsed.error)})`);
  // The value itself, not zod's copy: the fields the schema let through unchecked keep their identity and order.
  return value as ResultOf<M>;
}

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

/** The reply of each method, as the agent makes it. */
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
  /** address → the name the agent's passive DNS has for it; addresses without one are left out. */
  names: { names: Record<string, string> };
}
export type ResultOf<M extends keyof MethodResults> = MethodResults[M];
