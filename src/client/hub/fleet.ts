/**
 * Every agent on a NATS hub (`nats://HOST:PORT`): which agents there are (discovery, then presence), one
 * AgentClient per agent on one shared connection, live events of all of them with the agent's name, the
 * alerts kept since a time (JetStream), and a fleet-wide question: one request every agent answers
 * (scatter.ts), with those that did not answer in time named.
 */
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import {
  ALERT_STREAM, ALERT_SUBJECTS, type Announcement, type FleetMethod, type HubAddress, INTEREST_ALL, INTEREST_RENEW_S, ON_INTEREST, agentSubjects, agentToken, parseLiveSubject,
} from '../../serve/protocol/hub-subjects.js';
import type { MethodResults, Topic } from '../../serve/protocol/messages.js';
import type { LiveEvent } from '../agent-client.js';
import { type HubClientOptions, connectHub, liveEvent } from './hub-connection.js';
import { type RecordMethod, newestChecked, recordRows } from './fleet-merge.js';
import { type FleetAnswers, askFleet, discoverAgents } from './scatter.js';
import { HubAgentClient } from './hub-agent-client.js';
import { type PresenceChange, PresenceWatcher } from './presence.js';

/** A live event and the agent it came from. */
export type FleetEvent = LiveEvent & { agent: string };

export type { FleetAnswers };

export class Fleet {
  private constructor(
    readonly target: string,
    readonly nc: NatsConnection,
    private readonly o: HubClientOptions & { requestTimeoutMs: number },
  ) {}

  static async open(target: string, address: HubAddress, o: HubClientOptions & { requestTimeoutMs: number }): Promise<Fleet> {
    return new Fleet(target, await connectHub(address, o), o);
  }

  /** The agents on the hub now (each answers the discovery request). */
  agents(): Promise<Announcement[]> {
    return discoverAgents(this.nc);
  }

  /** An AgentClient for one agent, on this fleet's connection (its presence reported by `presence`). */
  client(agent: string): HubAgentClient {
    return new HubAgentClient(`${this.target}/${agent}`, agent, Promise.resolve(this.nc), {
      clientName: this.o.clientName, requestTimeoutMs: this.o.requestTimeoutMs, ownsHub: false, watchPresence: false,
    });
  }

  /** Agents appearing and vanishing: those there now first (discovery), then as their heartbeats say. */
  presence(onChange: (change: PresenceChange) => void): PresenceWatcher {
    const watcher = new PresenceWatcher(this.nc, undefined, onChange);
    void this.agents().then((found) => found.forEach((a) => watcher.saw(a)), () => undefined);
    return watcher;
  }

  /**
   * One AgentClient per agent as it appears (`onClient`), on this fleet's connection; each one's connection
   * state follows the agent's presence (down when it leaves or falls silent, connected again when it returns).
   * `only`: one agent's. The returned function stops watching; the clients are closed by their user.
   */
  clients(onClient: (client: HubAgentClient) => void, only?: string): () => void {
    const known = new Map<string, HubAgentClient>();
    const watcher = this.presence((change) => {
      if (only !== undefined && change.agent !== only) return;
      let client = known.get(change.agent);
      if (!client) {
        if (!change.up) return;
        client = this.client(change.agent);
        known.set(change.agent, client);
        onClient(client);
      }
      client.presenceChanged(change);
    });
    return () => watcher.close();
  }

  /** Asks every agent on the hub one method in one request (scatter-gather), within the request timeout. */
  ask<M extends FleetMethod>(method: M, params: object): Promise<FleetAnswers<MethodResults[M]>> {
    return askFleet(this.nc, method, params, { clientName: this.o.clientName, timeoutMs: this.o.requestTimeoutMs });
  }

  /** The fleet's `limit` newest records of a kind, by agent (merge them with mergeRecords); each kept row checked. */
  async askRecords<M extends RecordMethod>(method: M, params: object, limit: number): Promise<FleetAnswers<MethodResults[M]>> {
    const raw = await askFleet(this.nc, method, params, { clientName: this.o.clientName, timeoutMs: this.o.requestTimeoutMs }, recordRows);
    return newestChecked(raw, method, limit);
  }

  /** Live events of every agent; flows and DNS are asked for (interest, renewed) while subscribed. */
  watch(topics: Topic[], listener: (event: FleetEvent) => void): () => void {
    const subs: Subscription[] = topics.map((topic) =>
      this.nc.subscribe(agentSubjects('*').live(topic), { callback: (_err, msg) => deliverFleet(msg.subject, msg.string(), listener) }),
    );
    const wanted = topics.filter((t) => ON_INTEREST.includes(t));
    const ask = () => this.nc.publish(INTEREST_ALL, JSON.stringify({ topics: wanted }));
    let renew: NodeJS.Timeout | undefined;
    if (wanted.length > 0) {
      ask();
      renew = setInterval(ask, INTEREST_RENEW_S * 1000);
      renew.unref();
    }
    return () => {
      clearInterval(renew);
      for (const s of subs) s.unsubscribe();
    };
  }

  /**
   * Every alert record the hub kept since `since` (seconds), oldest first, then new ones as they come: one
   * agent's or all. Acknowledgements come as the alert's record again, with `acknowledged` set.
   */
  async alertsSince(since: number, agent: string | undefined, listener: (event: FleetEvent) => void): Promise<() => void> {
    const subject = agent === undefined ? ALERT_SUBJECTS : agentSubjects(agentToken(agent)).live('alerts');
    // Loaded here, not at start: a query (most uses of a hub) never needs JetStream, and every module costs start-up.
    const { jetstream } = await import('@nats-io/jetstream');
    const consumer = await jetstream(this.nc).consumers.get(ALERT_STREAM, { filter_subjects: subject, opt_start_time: new Date(since * 1000).toISOString() });
    const messages = await consumer.consume({ callback: (msg) => deliverFleet(msg.subject, msg.string(), listener) });
    return () => void messages.stop();
  }

  async close(): Promise<void> {
    await this.nc.close();
  }
}

function deliverFleet(subject: string, text: string, listener: (event: FleetEvent) => void): void {
  const where = parseLiveSubject(subject);
  const event = where && liveEvent(where.topic, text);
  if (where && event) listener({ ...event, agent: where.agent });
}
