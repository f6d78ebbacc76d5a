/**
 * An AgentClient for one agent on a NATS hub (`nats://HOST:PORT/AGENT`, or one agent of a fleet): requests
 * go by request/reply under the agent's name, live events come from its live subjects, and its connection
 * state is its presence (connected while it announces itself, down when it leaves or falls silent). The UI,
 * query and watch use it exactly as they use a unix, TLS or SSH client.
 */
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { HEARTBEAT_S, INTEREST_RENEW_S, ON_INTEREST, agentSubjects, agentToken } from '../../serve/protocol/hub-subjects.js';
import type { MethodResults, Topic } from '../../serve/protocol/messages.js';
import type { AgentClient, ConnectionState, LiveEvent } from '../agent-client.js';
import { AgentMethods } from '../agent-methods.js';
import { ConnectionLostError } from '../rpc-connection.js';
import { FatalConnectError } from '../transports.js';
import { hubRequest, liveEvent } from './hub-connection.js';
import { type PresenceChange, PresenceWatcher } from './presence.js';

export interface HubAgentClientOptions {
  clientName: string;
  requestTimeoutMs: number;
}

export class HubAgentClient extends AgentMethods implements AgentClient {
  private state: ConnectionState = { state: 'connecting', attempt: 1 };
  private readonly listeners = new Set<(s: ConnectionState) => void>();
  private presence: PresenceWatcher | undefined;
  private closed = false;
  private failure: Error | undefined;
  private readonly token: string;
  private readonly cleanups = new Set<() => void>();

  /**
   * `hub`: the connection, shared or this client's own (`ownsHub`: closed with it). Presence is watched
   * here unless the owner of a shared connection reports it (`watchPresence: false`, then `presenceChanged`).
   */
  constructor(
    readonly target: string,
    readonly agent: string,
    private readonly hub: Promise<NatsConnection>,
    private readonly o: HubAgentClientOptions & { ownsHub: boolean; watchPresence: boolean },
  ) {
    super();
    this.token = agentToken(agent);
    hub.then(
      (nc) => {
        if (this.closed) return;
        if (o.watchPresence) this.presence = new PresenceWatcher(nc, agent, (c) => this.presenceChanged(c));
      },
      (err: Error) => {
        this.failure = err instanceof FatalConnectError ? err : new Error(err.message);
        this.setState({ state: 'disconnected', since: Date.now(), error: err.message, retryInMs: -1 });
      },
    );
  }

  connectionState(): ConnectionState {
    return this.state;
  }

  onStateChange(listener: (state: ConnectionState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The agent appeared (its announcement: what a hello would say) or went away. */
  presenceChanged(change: PresenceChange): void {
    if (this.closed || change.agent !== this.agent) return;
    if (change.up) {
      const a = change.announcement;
      this.setState({ state: 'connected', since: Date.now(), agent: { version: 1, name: a.name, software: a.software, methods: a.methods, topics: a.topics } });
    } else {
      this.setState({ state: 'disconnected', since: Date.now(), error: `${this.agent}: ${change.reason}`, retryInMs: HEARTBEAT_S * 1000 });
    }
  }

  /** Live events of the agent's topics; flows and DNS are asked for (interest, renewed) while subscribed. */
  subscribe(topics: Topic[], listener: (event: LiveEvent) => void): () => void {
    const deliver = (event: LiveEvent | undefined) => event && listener(event);
    let subs: Subscription[] = [];
    let renew: NodeJS.Timeout | undefined;
    let off = false;
    void this.hub.then((nc) => {
      if (off || this.closed) return;
      const subjects = agentSubjects(this.token);
      subs = topics.map((topic) => nc.subscribe(subjects.live(topic), { callback: (_err, msg) => deliver(liveEvent(topic, msg.string())) }));
      const wanted = topics.filter((t) => ON_INTEREST.includes(t));
      if (wanted.length === 0) return;
      const ask = () => nc.publish(subjects.interest, JSON.stringify({ topics: wanted }));
      ask();
      renew = setInterval(ask, INTEREST_RENEW_S * 1000);
      renew.unref();
    }, () => undefined);
    const cleanup = () => {
      off = true;
      clearInterval(renew);
      for (const s of subs) s.unsubscribe();
      this.cleanups.delete(cleanup);
    };
    this.cleanups.add(cleanup);
    return cleanup;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const c of [...this.cleanups]) c();
    this.presence?.close();
    if (this.o.ownsHub) void this.hub.then((nc) => nc.close(), () => undefined);
    this.setState({ state: 'closed' });
  }

  protected async call<M extends keyof MethodResults>(method: M, params: object): Promise<MethodResults[M]> {
    if (this.closed) throw new ConnectionLostError(`${this.target}: the client was closed`);
    if (this.failure) throw this.failure;
    const nc = await this.hub;
    return hubRequest(nc, this.agent, method, params, { clientName: this.o.clientName, timeoutMs: this.o.requestTimeoutMs });
  }

  private setState(state: ConnectionState): void {
    this.state = state;
    for (const l of this.listeners) l(state);
  }
}
