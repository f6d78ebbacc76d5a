/**
 * What a client (the UI, `loopy query`, `loopy watch`) sees of one agent, whatever the transport (unix socket,
 * TLS, SSH bridge). The UI is written against this interface only, so its tests pass a fake.
 * The wire protocol behind it is docs/protocol.md (JSON-RPC 2.0 over newline-delimited JSON).
 */
import type { AgentStatus } from '../serve/status.js';
import type { StatsSecond } from '../stats/stats-record.js';
import type { ConnRecord, DnsRecord } from '../analyze/records.js';
import type { AgentAlertRecord, Topic } from '../serve/protocol/messages.js';
import type { HistoryQuery, HostTotal, Resolution, SeriesPoint, TalkersQuery } from '../store/types.js';

export type ConnectionState =
  | { state: 'connecting'; attempt: number }
  | { state: 'connected'; since: number; agent: AgentHello }
  /** retryInMs is -1 when the client gives up: a failure retrying cannot cure (changed certificate, wrong
   *  token, no common protocol version) or a client made with `reconnect: false`. */
  | { state: 'disconnected'; since: number; error: string; retryInMs: number }
  | { state: 'closed' };

/** What the agent says about itself in the hello exchange. */
export interface AgentHello {
  /** Protocol version agreed. */
  version: number;
  /** The agent's name (host name unless configured) and software version. */
  name: string;
  software: string;
  /** Methods and topics the agent offers. */
  methods: string[];
  topics: Topic[];
}

/** Live streams a client can subscribe to (the protocol's topics). */
export { TOPICS, type Topic } from '../serve/protocol/messages.js';
export type { AgentAlertRecord };

/** One live event. `missed` counts events dropped for this client since the last one it got (slow client). */
export type LiveEvent =
  | { topic: 'stats'; record: StatsSecond; missed: number }
  | { topic: 'flows'; record: ConnRecord; missed: number }
  | { topic: 'dns'; record: DnsRecord; missed: number }
  | { topic: 'alerts'; record: AgentAlertRecord; missed: number };

/** The history shapes are the store's (src/store/types.ts); re-exported so the UI needs only this module. */
export type { AlertAck, HistoryQuery, HostTotal, Resolution, SeriesPoint, TalkersQuery } from '../store/types.js';

export interface AgentClient {
  /** The name this client was given (TARGET or its config name). */
  readonly target: string;
  connectionState(): ConnectionState;
  onStateChange(listener: (state: ConnectionState) => void): () => void;
  status(): Promise<AgentStatus>;
  series(query: HistoryQuery & { resolution: Resolution }): Promise<SeriesPoint[]>;
  flows(query: HistoryQuery): Promise<ConnRecord[]>;
  dns(query: HistoryQuery): Promise<DnsRecord[]>;
  /** Alerts, newest first; an acknowledged one carries `acknowledged`, `acknowledged_at`, `acknowledged_by`. */
  alerts(query: HistoryQuery): Promise<AgentAlertRecord[]>;
  /** Bytes and packets per host over the range (per-minute top talkers), biggest first; default 10 rows. */
  talkers(query: TalkersQuery): Promise<HostTotal[]>;
  /**
   * The names the agent's passive DNS has for these addresses (from the DNS answers it saw; no lookup is
   * sent), address → name; addresses without one are left out. At most MAX_NAMES_ASKED addresses a call.
   */
  names(addresses: string[]): Promise<Record<string, string>>;
  /** Live events of the given topics until the returned function is called. Survives reconnects. */
  subscribe(topics: Topic[], listener: (event: LiveEvent) => void): () => void;
  /**
   * Acknowledges or suppresses an alert (detection's alert_id; suppression by detector/source with expiry).
   * An acknowledgement reaches every client subscribed to `alerts`: the alert's record comes again with it.
   */
  acknowledgeAlert(alertId: string): Promise<void>;
  suppress(rule: { detector?: string; source?: string; destination?: string; unit?: string; expiresAt: number }): Promise<void>;
  close(): void;
}
