/**
 * The agent protocol on a NATS hub (docs/protocol.md, "On a NATS hub"; decision 12): the subjects agents and
 * clients use, the announcement an agent makes of itself, and the timing of presence. The agent answers
 * exactly the methods of messages.ts by request/reply; hello and subscribe are the hub's own business
 * (presence, NATS subscriptions and interest leases). Every subject an agent publishes on carries its name,
 * so the hub's permissions can let an agent speak under its own name only (contrib/nats/).
 */
import { z } from 'zod';
import { TOPICS, type Topic } from './results.js';

export const SUBJECT_ROOT = 'loopy';
/** Every agent answers a request here with its announcement (scatter-gather: who is on the hub now). */
export const DISCOVER_SUBJECT = `${SUBJECT_ROOT}.discover`;
/**
 * A fleet-wide question: one request on `loopy.fleet.METHOD` reaches every agent at once (scatter-gather),
 * each replying with its name in AGENT_HEADER. Only the read-only methods: an acknowledgement or a
 * suppression names one agent's alert, and goes to that agent (`loopy.rpc.AGENT.METHOD`).
 */
export const FLEET_METHODS = ['status', 'history.series', 'history.flows', 'history.dns', 'history.alerts', 'history.talkers'] as const;
export type FleetMethod = (typeof FLEET_METHODS)[number];
export const fleetSubject = (method: FleetMethod) => `${SUBJECT_ROOT}.fleet.${method}`;
/** The header naming the agent on each of its replies (a fleet question's replies share one inbox). */
export const AGENT_HEADER = 'Loopy-Agent';
/** The JetStream stream that keeps every agent's alert records (live alerts are its subjects). */
export const ALERT_STREAM = 'LOOPY_ALERTS';
/** An agent announces itself this often; a client marks it down after DOWN_AFTER_S without a word. */
export const HEARTBEAT_S = 1;
export const DOWN_AFTER_S = 3;
/** Flows and DNS are published only while a client's interest lasts; clients renew well before it ends. */
export const INTEREST_LEASE_S = 30;
export const INTEREST_RENEW_S = 10;
/** The header naming the client on a request (its hello name, as the unix socket and TLS hello give it). */
export const CLIENT_HEADER = 'Loopy-Client';
/** Topics published only while someone has asked for them (the others always, while the link is up). */
export const ON_INTEREST: readonly Topic[] = ['flows', 'dns'];

/**
 * An agent's name as one subject token: NATS subjects split on '.', and '*', '>' and whitespace are special.
 * Those (and '%') are percent-encoded, so `web1.example.com` is `web1%2Eexample%2Ecom` and names stay distinct.
 */
export function agentToken(name: string): string {
  return name.replace(/[%.*>\s]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

export function agentOfToken(token: string): string {
  return token.replace(/%([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** The subjects of one agent (`*` as the agent: every agent's, for a client's subscription). */
export function agentSubjects(token: string) {
  const base = `${SUBJECT_ROOT}`;
  return {
    /** Its announcement, every HEARTBEAT_S, and a last one with `leaving` when it stops. */
    presence: `${base}.presence.${token}`,
    /** Requests: `loopy.rpc.AGENT.METHOD` (METHOD as in messages.ts, e.g. history.flows); body: the params. */
    rpc: (method: string) => `${base}.rpc.${token}.${method}`,
    rpcAll: `${base}.rpc.${token}.>`,
    /** Live events: `loopy.live.AGENT.TOPIC`; body: the record. */
    live: (topic: Topic) => `${base}.live.${token}.${topic}`,
    /** Interest in topics published on interest only: body {topics}. `loopy.interest.all` reaches every agent. */
    interest: `${base}.interest.${token}`,
  };
}
/** An agent's inboxes (the replies to its own requests, JetStream's): `_INBOX_AGENT.…`, readable by it alone. */
export const agentInboxPrefix = (token: string) => `_INBOX_${token}`;
export const INTEREST_ALL = `${SUBJECT_ROOT}.interest.all`;
/** What the alert stream captures: every agent's alerts. */
export const ALERT_SUBJECTS = agentSubjects('*').live('alerts');
/** How long the stream keeps alerts: as long as an agent's store keeps them (store/types.ts DEFAULT_RETENTION). */
const ALERT_STREAM_MAX_AGE_S = 90 * 86_400;
/**
 * Within this window a second message with an alert state's Nats-Msg-Id is dropped: an alert re-sent after a
 * cut link, or one that reached the hub both live and through a site's stream (docs/decisions/0016, "Sites").
 */
const ALERT_DUPLICATE_WINDOW_S = 600;
/** A site is its leaf node's JetStream domain: one subject token (`$JS.DOMAIN.API`). */
export const SITE_DOMAIN = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * The alert stream, the same wherever it is made (by an agent on a hub or a site's leaf, or `loopy hub-sites`).
 * `sites`: the leaf nodes' JetStream domains whose streams the hub's stream sources, so alerts raised at a
 * site while its uplink was cut reach the hub when it returns.
 */
export function alertStreamConfig(sites: readonly string[] = []) {
  return {
    name: ALERT_STREAM,
    subjects: [ALERT_SUBJECTS],
    max_age: ALERT_STREAM_MAX_AGE_S * 1e9,
    duplicate_window: ALERT_DUPLICATE_WINDOW_S * 1e9,
    sources: sites.map((domain) => ({ name: ALERT_STREAM, external: { api: `$JS.${domain}.API`, deliver: '' } })),
  };
}

/** The site domains an alert stream's sources name (those alertStreamConfig made). */
export function sourcedSites(sources: ReadonlyArray<{ external?: { api: string } }> | undefined): string[] {
  return (sources ?? []).map((s) => /^\$JS\.([^.]+)\.API$/.exec(s.external?.api ?? '')?.[1]).filter((d): d is string => d !== undefined);
}

/** The agent and topic of a live subject, or undefined for another subject. */
export function parseLiveSubject(subject: string): { agent: string; topic: Topic } | undefined {
  const parts = subject.split('.');
  if (parts.length !== 4 || parts[0] !== SUBJECT_ROOT || parts[1] !== 'live') return undefined;
  const topic = parts[3] as Topic;
  return (TOPICS as readonly string[]).includes(topic) ? { agent: agentOfToken(parts[2]!), topic } : undefined;
}

/** What an agent says of itself on the hub (presence and discovery). */
export const announcementSchema = z.looseObject({
  name: z.string().min(1).max(128),
  host: z.string(),
  software: z.string(),
  version: z.string(),
  interfaces: z.array(z.string()),
  started: z.number(),
  methods: z.array(z.string()),
  topics: z.array(z.enum(TOPICS)),
  heartbeat_s: z.number().positive(),
  /** The agent is stopping: mark it down now, not after DOWN_AFTER_S. */
  leaving: z.boolean().optional(),
});
export type Announcement = z.infer<typeof announcementSchema>;

/** A reply on the hub: the method's result, or a protocol error (errors.ts codes), as JSON-RPC's. */
export type HubReply = { result: unknown } | { error: { code: number; message: string; data?: unknown } };

/** Body of an interest message. */
export const interestSchema = z.object({ topics: z.array(z.enum(TOPICS)).max(TOPICS.length) });

/**
 * The Nats-Msg-Id of an alert record: one per state an alert goes through (and per acknowledgement), so the
 * stream keeps each once even when a link that came back re-sends it.
 */
export function alertMessageId(agent: string, record: { alert_id: string; state: string; state_ts?: number; acknowledged_at?: number }): string {
  return `${agentToken(agent)}/${record.alert_id}/${record.state}/${record.state_ts ?? ''}/${record.acknowledged_at ?? ''}`;
}

/** Where a hub is, as `nats://[USER[:PASSWORD]@]HOST[:PORT][/AGENT]` says it (agents give no /AGENT). */
export interface HubAddress {
  host: string;
  port: number;
  /** One agent on the hub; absent: every agent. */
  agent?: string;
  user?: string;
  password?: string;
}

export const DEFAULT_HUB_PORT = 4222;

/** Parses a hub address; throws an Error whose message says what is wrong and what form to use. */
export function parseHubAddress(text: string): HubAddress {
  const form = 'expected nats://HOST[:PORT] (every agent on the hub) or nats://HOST[:PORT]/AGENT (one)';
  if (!text.startsWith('nats://')) throw new Error(`'${text}': ${form}`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`'${text}' is not a valid address: ${form}`);
  }
  if (url.hostname === '' || url.search !== '' || url.hash !== '') throw new Error(`'${text}': ${form}`);
  const path = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (path.includes('/')) throw new Error(`'${text}': an agent name has no '/': ${form}`);
  const address: HubAddress = { host: url.hostname.replace(/^\[|\]$/g, ''), port: url.port === '' ? DEFAULT_HUB_PORT : Number(url.port) };
  if (path !== '') address.agent = path;
  if (url.username !== '') address.user = decodeURIComponent(url.username);
  if (url.password !== '') address.password = decodeURIComponent(url.password);
  return address;
}

/** The address as a NATS server URL (no agent, no credentials: those go to the client's options). */
export function hubServerUrl(a: Pick<HubAddress, 'host' | 'port'>): string {
  return `nats://${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`;
}
