/**
 * The protocol's methods as AgentClient methods, for every kind of client: each one names its method and
 * params, and `call` (the transport's: JSON-RPC on a stream, or request/reply on a hub) asks and checks.
 */
import type { ConnRecord, DnsRecord } from '../analyze/records.js';
import type { MethodResults } from '../serve/protocol/messages.js';
import type { AgentStatus } from '../serve/status.js';
import type { AgentAlertRecord, HistoryQuery, HostTotal, Resolution, SeriesPoint, TalkersQuery } from './agent-client.js';

export abstract class AgentMethods {
  /** Asks the agent one method; resolves with the reply checked against the method's result schema. */
  protected abstract call<M extends keyof MethodResults>(method: M, params: object): Promise<MethodResults[M]>;

  status(): Promise<AgentStatus> {
    return this.call('status', {});
  }
  series(query: HistoryQuery & { resolution: Resolution }): Promise<SeriesPoint[]> {
    return this.call('history.series', query);
  }
  flows(query: HistoryQuery): Promise<ConnRecord[]> {
    return this.call('history.flows', query);
  }
  dns(query: HistoryQuery): Promise<DnsRecord[]> {
    return this.call('history.dns', query);
  }
  alerts(query: HistoryQuery): Promise<AgentAlertRecord[]> {
    return this.call('history.alerts', query);
  }
  talkers(query: TalkersQuery): Promise<HostTotal[]> {
    return this.call('history.talkers', query);
  }
  async names(addresses: string[]): Promise<Record<string, string>> {
    return (await this.call('names', { addresses })).names;
  }
  async acknowledgeAlert(alertId: string): Promise<void> {
    await this.call('alerts.ack', { alert_id: alertId });
  }
  async suppress(rule: { detector?: string; source?: string; destination?: string; unit?: string; expiresAt: number }): Promise<void> {
    const { expiresAt, ...who } = rule;
    await this.call('alerts.suppress', { ...who, expires_at: expiresAt });
  }
}
