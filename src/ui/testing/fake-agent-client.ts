/**
 * An AgentClient for tests: the test sets the connection state, pushes live events, and scripts the history
 * answers; the fake records what the UI asked (queries, acknowledgements, suppressions).
 */
import type { AgentAlertRecord, AgentClient, AgentHello, ConnectionState, HistoryQuery, HostTotal, LiveEvent, Resolution, SeriesPoint, TalkersQuery, Topic } from '../../client/agent-client.js';
import type { ConnRecord, DnsRecord } from '../../analyze/records.js';
import type { AgentStatus } from '../../serve/status.js';

export const FAKE_HELLO: AgentHello = { version: 1, name: 'fake', software: 'loopy test', methods: ['names'], topics: ['stats', 'flows', 'dns', 'alerts'] };

export class FakeAgentClient implements AgentClient {
  private state: ConnectionState;
  private readonly stateListeners = new Set<(s: ConnectionState) => void>();
  private readonly subscriptions = new Set<{ topics: Topic[]; listener: (e: LiveEvent) => void }>();
  readonly calls: Array<{ method: string; args: unknown }> = [];
  history: { series: SeriesPoint[]; flows: ConnRecord[]; dns: DnsRecord[]; alerts: AgentAlertRecord[]; talkers: HostTotal[] } = { series: [], flows: [], dns: [], alerts: [], talkers: [] };
  /** The agent's passive DNS: address → name, as the `names` method answers from it. */
  knownNames: Record<string, string> = {};
  /** The address lists `names` was asked about, in order. */
  readonly namesAsked: string[][] = [];
  /** When set, every history query and action rejects with this message. */
  failWith: string | undefined;
  closed = false;

  constructor(readonly target: string, state: ConnectionState = { state: 'connected', since: 0, agent: { ...FAKE_HELLO, name: target } }) {
    this.state = state;
  }

  connectionState(): ConnectionState {
    return this.state;
  }

  setState(state: ConnectionState): void {
    this.state = state;
    for (const l of this.stateListeners) l(state);
  }

  onStateChange(listener: (state: ConnectionState) => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  /** Delivers an event to the subscribers of its topic. */
  emit(event: LiveEvent): void {
    for (const s of this.subscriptions) if (s.topics.includes(event.topic)) s.listener(event);
  }

  subscriptionCount(): number {
    return this.subscriptions.size;
  }

  subscribe(topics: Topic[], listener: (event: LiveEvent) => void): () => void {
    const s = { topics, listener };
    this.subscriptions.add(s);
    return () => this.subscriptions.delete(s);
  }

  private answer<T>(method: string, args: unknown, value: T): Promise<T> {
    this.calls.push({ method, args });
    return this.failWith ? Promise.reject(new Error(this.failWith)) : Promise.resolve(value);
  }

  status(): Promise<AgentStatus> {
    return this.answer('status', undefined, {} as AgentStatus);
  }

  series(query: HistoryQuery & { resolution: Resolution }): Promise<SeriesPoint[]> {
    return this.answer('series', query, this.history.series.filter((p) => p.ts >= query.since && p.ts < query.until));
  }

  flows(query: HistoryQuery): Promise<ConnRecord[]> {
    return this.answer('flows', query, this.history.flows.filter((r) => r.ts >= query.since && r.ts < query.until));
  }

  dns(query: HistoryQuery): Promise<DnsRecord[]> {
    return this.answer('dns', query, this.history.dns.filter((r) => r.ts >= query.since && r.ts < query.until));
  }

  alerts(query: HistoryQuery): Promise<AgentAlertRecord[]> {
    return this.answer('alerts', query, this.history.alerts);
  }

  talkers(query: TalkersQuery): Promise<HostTotal[]> {
    return this.answer('talkers', query, this.history.talkers.slice(0, query.limit ?? 10));
  }

  /** Asked of passive DNS in the background, so kept apart from `calls` (the user's actions and queries). */
  names(addresses: string[]): Promise<Record<string, string>> {
    this.namesAsked.push(addresses);
    const known = addresses.filter((a) => Object.hasOwn(this.knownNames, a));
    return Promise.resolve(Object.fromEntries(known.map((a) => [a, this.knownNames[a]])));
  }

  acknowledgeAlert(alertId: string): Promise<void> {
    return this.answer('acknowledgeAlert', alertId, undefined);
  }

  suppress(rule: { detector?: string; source?: string; destination?: string; unit?: string; expiresAt: number }): Promise<void> {
    return this.answer('suppress', rule, undefined);
  }

  close(): void {
    this.closed = true;
    this.subscriptions.clear();
    this.setState({ state: 'closed' });
  }
}
