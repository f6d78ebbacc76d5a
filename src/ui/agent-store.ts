/**
 * What the UI knows of each agent, gathered from the AgentClients' live events. Events arrive whenever the
 * agents send them; the store only collects, and `flush()` (called once a second by the app, or by a test)
 * turns what changed into new immutable snapshots. So React renders at most once a second however busy the
 * agents are (no flicker, bounded UI cost), and a paused screen simply stops taking snapshots.
 */
import { type AddressNameBook, AddressNames } from '../client/address-names.js';
import type { AgentClient, ConnectionState, LiveEvent, Topic } from '../client/agent-client.js';
import type { AlertRecord, ConnRecord, DnsRecord } from '../analyze/records.js';
import type { StatsSecond } from '../stats/stats-record.js';

/** How much live data is kept per agent (the History view asks the agent for anything older). */
export const KEEP_SECONDS = 600;
export const KEEP_FLOWS = 2000;
export const KEEP_DNS = 2000;
export const KEEP_ALERTS = 500;

/** One agent as the views see it. Arrays are newest last (seconds) or newest first (records). */
export interface AgentSnapshot {
  /** How the UI was told to reach the agent: its identity among the snapshots. */
  readonly target: string;
  /**
   * What the user reads: the agent's own name (host name or --name) from its last hello, else the target;
   * followed by the target when another agent has the same name (two agents on one host).
   */
  readonly name: string;
  readonly client: AgentClient;
  readonly state: ConnectionState;
  readonly seconds: readonly StatsSecond[];
  readonly flows: readonly ConnRecord[];
  readonly dns: readonly DnsRecord[];
  /** The latest record of each alert, newest first. */
  readonly alerts: readonly AlertRecord[];
  /** Alert ids acknowledged: from this UI, or by anyone (the agent re-sends the record with `acknowledged`). */
  readonly acknowledged: ReadonlySet<string>;
  /** Events the agent dropped for us (slow client), in all. */
  readonly missed: number;
  /** The names the agent's passive DNS gave the addresses shown (formatHost shows them beside each address). */
  readonly names: AddressNameBook;
}

export interface UiSnapshot {
  readonly version: number;
  readonly agents: readonly AgentSnapshot[];
}

class AgentCollector {
  state: ConnectionState;
  /** Kept across disconnections, so a down agent is still shown by its name. */
  name: string;
  /** Set by the store: whether another agent has the same name. */
  nameShared = false;
  seconds: StatsSecond[] = [];
  flows: ConnRecord[] = [];
  dns: DnsRecord[] = [];
  alerts = new Map<string, AlertRecord>();
  acknowledged = new Set<string>();
  missed = 0;
  dirty = true;
  snapshot: AgentSnapshot | undefined;
  readonly names: AddressNames;

  constructor(readonly client: AgentClient, private readonly now: () => number) {
    this.names = new AddressNames((addresses) => client.names(addresses));
    this.state = client.connectionState();
    this.name = client.target;
    this.learnName();
  }

  setState(state: ConnectionState): void {
    this.state = state;
    this.learnName();
    this.dirty = true;
  }

  private learnName(): void {
    if (this.state.state === 'connected' && this.state.agent.name) this.name = this.state.agent.name;
  }

  take(event: LiveEvent): void {
    this.missed += event.missed;
    switch (event.topic) {
      case 'stats':
        this.seconds.push(event.record);
        for (const t of event.record.top_talkers) this.noteAddress(t.host);
        break;
      case 'flows':
        this.flows.push(event.record);
        this.noteAddress(event.record['id.orig_h']);
        this.noteAddress(event.record['id.resp_h']);
        break;
      case 'dns':
        this.dns.push(event.record);
        break;
      case 'alerts': {
        const r = event.record as unknown as AlertRecord;
        if (r.type !== 'alert' || typeof r.alert_id !== 'string') return;
        // Re-inserting moves the alert to the end of the map's order: the newest activity first after reversal.
        this.alerts.delete(r.alert_id);
        this.alerts.set(r.alert_id, r);
        if ((r as { acknowledged?: unknown }).acknowledged === true) this.acknowledged.add(r.alert_id);
        for (const host of [r.src, r.dst, ...(r.evidence?.hosts ?? [])]) if (host !== undefined) this.noteAddress(host);
        if (this.alerts.size > KEEP_ALERTS) {
          const oldest = this.alerts.keys().next().value as string;
          this.alerts.delete(oldest);
          this.acknowledged.delete(oldest);
        }
        break;
      }
    }
    this.dirty = true;
  }

  private noteAddress(address: string): void {
    this.names.note(address, this.now());
  }

  /** Asks the agent for the names of the addresses noted since (an agent without the `names` method is not asked). */
  askNames(onLearned: () => void): void {
    if (this.state.state !== 'connected' || !this.state.agent.methods.includes('names')) return;
    void this.names.poll(this.now()).then((learned) => {
      if (!learned) return;
      this.dirty = true;
      onLearned();
    });
  }

  build(): AgentSnapshot {
    if (!this.dirty && this.snapshot) return this.snapshot;
    // Trimmed here, once a second, rather than per event.
    if (this.seconds.length > KEEP_SECONDS) this.seconds.splice(0, this.seconds.length - KEEP_SECONDS);
    if (this.flows.length > KEEP_FLOWS) this.flows.splice(0, this.flows.length - KEEP_FLOWS);
    if (this.dns.length > KEEP_DNS) this.dns.splice(0, this.dns.length - KEEP_DNS);
    this.snapshot = {
      target: this.client.target,
      name: this.nameShared ? `${this.name} (${this.client.target})` : this.name,
      client: this.client,
      state: this.state,
      seconds: this.seconds.slice(),
      flows: this.flows.slice().reverse(),
      dns: this.dns.slice().reverse(),
      alerts: [...this.alerts.values()].reverse(),
      acknowledged: new Set(this.acknowledged),
      missed: this.missed,
      names: this.names,
    };
    this.dirty = false;
    return this.snapshot;
  }
}

export class AgentStore {
  private readonly collectors: AgentCollector[];
  private current: UiSnapshot = { version: 0, agents: [] };
  private readonly unsubscribes: Array<() => void> = [];
  private readonly listeners = new Set<(s: UiSnapshot) => void>();
  private readonly statsListeners = new Set<() => void>();
  private version = 0;

  /** `now`: seconds since the epoch (a test passes its own). */
  constructor(clients: readonly AgentClient[], private readonly topics: readonly Topic[], private readonly now: () => number = () => Date.now() / 1000) {
    this.collectors = [];
    for (const c of clients) this.watch(c);
    this.current = this.build();
  }

  /** An agent found after the start (one appearing on a hub): shown from now on. */
  add(client: AgentClient): void {
    this.watch(client);
    this.flush();
  }

  private watch(client: AgentClient): void {
    const col = new AgentCollector(client, this.now);
    this.collectors.push(col);
    this.unsubscribes.push(
      client.onStateChange((state) => {
        col.setState(state);
        // A connection coming or going is news worth showing now, not at the next tick.
        this.flush();
      }),
    );
    if (this.topics.length > 0) {
      this.unsubscribes.push(
        client.subscribe([...this.topics], (e) => {
          col.take(e);
          if (e.topic === 'stats') for (const l of this.statsListeners) l();
        }),
      );
    }
  }

  snapshot(): UiSnapshot {
    return this.current;
  }

  /** Publishes what changed since the last flush (no-op when nothing did). */
  flush(): UiSnapshot {
    // Names come a request later: the snapshot after the answer shows them.
    for (const c of this.collectors) c.askNames(() => this.flush());
    if (this.collectors.some((c) => c.dirty)) {
      this.current = this.build();
      for (const l of this.listeners) l(this.current);
    }
    return this.current;
  }

  onSnapshot(listener: (s: UiSnapshot) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Called when an agent's statistics for a second arrive (the shell redraws then, not on a timer of its own). */
  onStats(listener: () => void): () => void {
    this.statsListeners.add(listener);
    return () => this.statsListeners.delete(listener);
  }

  /** Marks an alert acknowledged here at once; the agent is told by the caller. */
  markAcknowledged(target: string, alertId: string): void {
    const col = this.collectors.find((c) => c.client.target === target);
    if (!col) return;
    col.acknowledged.add(alertId);
    col.dirty = true;
    this.flush();
  }

  close(): void {
    for (const u of this.unsubscribes.splice(0)) u();
    this.listeners.clear();
    this.statsListeners.clear();
  }

  private build(): UiSnapshot {
    this.version++;
    const named = new Map<string, number>();
    for (const c of this.collectors) named.set(c.name, (named.get(c.name) ?? 0) + 1);
    for (const c of this.collectors) {
      const shared = (named.get(c.name) ?? 0) > 1;
      if (shared !== c.nameShared) {
        c.nameShared = shared;
        c.dirty = true;
      }
    }
    return { version: this.version, agents: this.collectors.map((c) => c.build()) };
  }
}
