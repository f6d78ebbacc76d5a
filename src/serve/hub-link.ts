/**
 * The agent's link to a NATS hub (decision 12; docs/protocol.md, "On a NATS hub"): it dials out (no port is
 * opened), announces the agent every second, answers every protocol method by request/reply under the
 * agent's own name, and publishes live events — stats and alerts always, flows and DNS while some client's
 * interest lasts. Alerts go to the JetStream stream as well, each state once (Nats-Msg-Id).
 *
 * It never makes the agent wait: publishing is a write into the client's buffer; while the link is down,
 * live events are dropped (and counted) and alerts are held (bounded) until it is back. The NATS client
 * reconnects by itself; a refused login is retried slowly, and logged, while capture goes on.
 */
import { lookup } from 'node:dns/promises';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { type NatsConnection, type Msg, connect, credsAuthenticator, headers, usernamePasswordAuthenticator } from '@nats-io/transport-node';
import { type JetStreamClient, jetstreamManager } from '@nats-io/jetstream';
import type { HubSettings } from './config.js';
import type { AgentLogger } from './logger.js';
import { ErrorCode, ProtocolError } from './protocol/errors.js';
import { withResult } from './protocol/framing.js';
import {
  AGENT_HEADER, ALERT_STREAM, type Announcement, alertStreamConfig, CLIENT_HEADER, DISCOVER_SUBJECT, FLEET_METHODS, HEARTBEAT_S, INTEREST_ALL, INTEREST_LEASE_S,
  type HubReply, ON_INTEREST, agentInboxPrefix, agentSubjects, agentToken, alertMessageId, fleetSubject, hubServerUrl, interestSchema,
} from './protocol/hub-subjects.js';
import { TOPICS, type Topic, validateParams } from './protocol/messages.js';
import type { AgentServer, EventOutlet } from './server.js';
import type { SelfExclusion } from './self-exclusion.js';
import { PACKAGE_VERSION } from '../capture/package-version.js';

/** Alerts held while the link is down, at most (the oldest go first, counted). */
export const MAX_HELD_ALERTS = 1000;
/** After a refused login, the next attempt waits this long (the NATS client gives up on auth errors). */
const RETRY_AFTER_REFUSAL_MS = 5000;

export interface HubLinkOptions {
  settings: HubSettings;
  started: number;
  server: AgentServer;
  logger: AgentLogger;
  /** The interfaces captured (known once the capture is open). */
  interfaces: () => readonly string[];
}

/** What the NATS client is given to log in: read at start, before the agent drops its privileges. */
interface Credentials {
  authenticator?: ReturnType<typeof credsAuthenticator>;
  tls?: { ca?: string; cert?: string; key?: string };
}

/** A hub credential or TLS file cannot be read: one line, what and what to do. */
export class HubStartError extends Error {
  readonly code = 'LOOPY_HUB';
}

function readCredentials(s: HubSettings): Credentials {
  const read = (file: string, what: string) => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new HubStartError(`cannot read the hub ${what} ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): give a readable file`);
    }
  };
  const c: Credentials = {};
  if (s.credsFile !== undefined) c.authenticator = credsAuthenticator(new Uint8Array(read(s.credsFile, 'credentials file')));
  else if (s.user !== undefined) c.authenticator = usernamePasswordAuthenticator(s.user, s.password);
  if (s.tls !== undefined) {
    c.tls = {};
    if (s.tls.caFile !== undefined) c.tls.ca = read(s.tls.caFile, 'CA file').toString('utf8');
    if (s.tls.certFile !== undefined) c.tls.cert = read(s.tls.certFile, 'certificate').toString('utf8');
    if (s.tls.keyFile !== undefined) c.tls.key = read(s.tls.keyFile, 'key').toString('utf8');
  }
  return c;
}

/**
 * Starts the hub link of a serving agent: reads its credentials (throws HubStartError), leaves its own traffic
 * to the hub out of capture (as its listeners' is: docs/design.md, "Not counting its own traffic"), connects
 * in the background.
 */
export async function openHubLink(o: HubLinkOptions, exclusions: SelfExclusion): Promise<HubLink> {
  const link = HubLink.start(o);
  try {
    const hosts = isIP(o.settings.host) ? [o.settings.host] : (await lookup(o.settings.host, { all: true })).map((a) => a.address);
    exclusions.add({ kind: 'listen', proto: 'tcp', port: o.settings.port, hosts });
  } catch (err) {
    o.logger.warn({ hub: o.settings.host, err: (err as Error).message }, 'cannot resolve the hub\'s address: its traffic is counted until the agent restarts');
  }
  return link;
}

export class HubLink implements EventOutlet {
  private nc: NatsConnection | undefined;
  private up = false;
  private closed = false;
  private readonly subjects;
  private readonly token: string;
  /** Until when (ms) some client wants each topic published on interest only. */
  private readonly interestUntil = new Map<Topic, number>();
  private readonly heldAlerts: Array<{ json: string; id: string }> = [];
  private heartbeat: NodeJS.Timeout | undefined;
  /** Whether the hub keeps alerts (its stream is there): then each one is published until the hub has stored it. */
  private stream: 'unknown' | 'kept' | 'live-only' = 'unknown';
  private js: JetStreamClient | undefined;
  private checkingStream = false;
  /** Live events not published because the link was down, and alerts let go while holding MAX_HELD_ALERTS. */
  dropped = 0;

  private constructor(private readonly o: HubLinkOptions, private readonly credentials: Credentials) {
    this.token = agentToken(o.server.name);
    this.subjects = agentSubjects(this.token);
  }

  /** Reads the credentials now (throws HubStartError) and connects in the background. */
  static start(o: HubLinkOptions): HubLink {
    const link = new HubLink(o, readCredentials(o.settings));
    o.server.addOutlet(link);
    void link.run();
    return link;
  }

  get connected(): boolean {
    return this.up;
  }

  wants(topic: Topic): boolean {
    if (topic === 'alerts') return true;
    if (!this.up) return false;
    return !ON_INTEREST.includes(topic) || (this.interestUntil.get(topic) ?? 0) > Date.now();
  }

  send(topic: Topic, recordJson: string, record: object): void {
    if (topic === 'alerts') return this.sendAlert(recordJson, record as { alert_id: string; state: string; state_ts?: number; acknowledged_at?: number });
    if (!this.up || !this.nc) {
      this.dropped++;
      return;
    }
    this.nc.publish(this.subjects.live(topic), recordJson);
  }

  /** Says it is leaving (clients mark it down at once), then closes the connection. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.heartbeat);
    const nc = this.nc;
    if (!nc) return;
    try {
      if (this.up) nc.publish(this.subjects.presence, JSON.stringify({ ...this.announcement(), leaving: true }));
      await nc.drain();
    } catch {
      await nc.close().catch(() => undefined);
    }
  }

  private announcement(): Announcement {
    const offered = this.o.server.methods().filter((m) => m !== 'hello' && m !== 'subscribe' && m !== 'unsubscribe');
    return {
      name: this.o.server.name, host: hostname(), software: this.o.server.software, version: PACKAGE_VERSION, interfaces: [...this.o.interfaces()],
      started: this.o.started, methods: offered, topics: [...TOPICS], heartbeat_s: HEARTBEAT_S,
    };
  }

  private sendAlert(json: string, record: { alert_id: string; state: string; state_ts?: number; acknowledged_at?: number }): void {
    this.holdAlert({ json, id: alertMessageId(this.o.server.name, record) });
    this.releaseAlerts();
  }

  private holdAlert(alert: { json: string; id: string }): void {
    this.heldAlerts.push(alert);
    if (this.heldAlerts.length > MAX_HELD_ALERTS) {
      this.heldAlerts.shift();
      this.dropped++;
    }
  }

  /**
   * Publishes the held alerts once the link is up and the stream is known: to the stream, each held again
   * until the hub acknowledges storing it (its Nats-Msg-Id keeps a repeat out), or live only.
   */
  private releaseAlerts(): void {
    if (!this.up || !this.nc || this.stream === 'unknown') return;
    for (const alert of this.heldAlerts.splice(0)) {
      const h = headers();
      h.set('Nats-Msg-Id', alert.id);
      if (this.stream === 'live-only' || !this.js) {
        this.nc.publish(this.subjects.live('alerts'), alert.json, { headers: h });
        continue;
      }
      this.js.publish(this.subjects.live('alerts'), alert.json, { msgID: alert.id }).catch(() => {
        if (this.closed) return;
        this.holdAlert(alert);
        // Tried again on the next alert, reconnect, or close; a stream that vanished is looked for again.
        this.stream = 'unknown';
        if (this.up) void this.ensureAlertStream();
      });
    }
  }

  /** Connects (and reconnects after a refusal) until closed. */
  private async run(): Promise<void> {
    const { settings, logger } = this.o;
    const server = hubServerUrl(settings);
    while (!this.closed) {
      try {
        const nc = await connect({
          // Its own inboxes (JetStream's replies): the hub lets an agent read only those (contrib/nats/).
          servers: server, name: `loopy-agent ${this.o.server.name}`, inboxPrefix: agentInboxPrefix(this.token), waitOnFirstConnect: true, maxReconnectAttempts: -1,
          reconnectTimeWait: 1000, reconnectJitter: 500, authenticator: this.credentials.authenticator, tls: this.credentials.tls,
        });
        if (this.closed) return void (await nc.close());
        this.nc = nc;
        this.onUp();
        this.serve(nc);
        this.watchStatus(nc);
        const why = await nc.closed();
        this.up = false;
        if (!this.closed) logger.warn({ hub: server, err: why?.message }, 'the hub closed the link; connecting again');
      } catch (err) {
        if (this.closed) return;
        logger.error({ hub: server, err: (err as Error).message }, 'cannot connect to the hub (check --hub and its credentials); trying again');
      }
      await new Promise((r) => setTimeout(r, RETRY_AFTER_REFUSAL_MS).unref());
    }
  }

  private onUp(): void {
    this.up = true;
    this.o.logger.info({ hub: hubServerUrl(this.o.settings), agent: this.o.server.name }, 'hub link up');
    this.publishPresence();
    if (this.stream !== 'kept') void this.ensureAlertStream();
    else this.releaseAlerts();
  }

  private watchStatus(nc: NatsConnection): void {
    void (async () => {
      for await (const s of nc.status()) {
        if (s.type === 'disconnect') {
          this.up = false;
          this.o.logger.warn({ hub: s.server }, 'hub link down; reconnecting (live events are dropped, alerts held)');
        } else if (s.type === 'reconnect') this.onUp();
      }
    })();
  }

  private publishPresence(): void {
    if (this.up && this.nc) this.nc.publish(this.subjects.presence, JSON.stringify(this.announcement()));
  }

  /** Subscriptions survive reconnects (the NATS client renews them); the heartbeat runs while connected. */
  private serve(nc: NatsConnection): void {
    const rpcPrefix = this.subjects.rpc('');
    nc.subscribe(this.subjects.rpcAll, { callback: (_err, msg) => void this.answer(msg, msg.subject.slice(rpcPrefix.length)) });
    // A fleet-wide question: the same answer, the agent's name on the reply (they share the asker's inbox).
    for (const method of FLEET_METHODS) nc.subscribe(fleetSubject(method), { callback: (_err, msg) => void this.answer(msg, method) });
    nc.subscribe(DISCOVER_SUBJECT, { callback: (_err, msg) => void msg.respond(JSON.stringify(this.announcement())) });
    for (const subject of [this.subjects.interest, INTEREST_ALL]) {
      nc.subscribe(subject, { callback: (_err, msg) => void this.takeInterest(msg.data) });
    }
    clearInterval(this.heartbeat);
    this.heartbeat = setInterval(() => this.publishPresence(), HEARTBEAT_S * 1000);
    this.heartbeat.unref();
  }

  /** A client's interest in topics published on interest only: published for INTEREST_LEASE_S from now. */
  private takeInterest(data: Uint8Array): Topic[] {
    let topics: Topic[] = [];
    try {
      topics = interestSchema.parse(JSON.parse(Buffer.from(data).toString('utf8'))).topics;
    } catch {
      return [];
    }
    const until = Date.now() + INTEREST_LEASE_S * 1000;
    for (const t of topics) this.interestUntil.set(t, until);
    return topics;
  }

  /** One request: validated as on every transport, answered by the server, the reply a HubReply. */
  private async answer(msg: Msg, method: string): Promise<void> {
    if (!msg.reply) return;
    const client = msg.headers?.get(CLIENT_HEADER) || 'hub client';
    let reply: HubReply;
    try {
      const params = msg.data.length === 0 ? {} : JSON.parse(Buffer.from(msg.data).toString('utf8'));
      reply = { result: await this.dispatch(method, params, client) };
    } catch (err) {
      const e = err instanceof ProtocolError ? err : err instanceof SyntaxError ? new ProtocolError(ErrorCode.PARSE_ERROR, 'not JSON') : undefined;
      if (!e) this.o.logger.error({ method, client, err: (err as Error).message }, 'failure answering a hub request');
      const p = e ?? new ProtocolError(ErrorCode.INTERNAL_ERROR, 'the agent failed answering (see its log)');
      reply = { error: p.data === undefined ? { code: p.rpcCode, message: p.message } : { code: p.rpcCode, message: p.message, data: p.data } };
    }
    this.respond(msg, reply);
  }

  /**
   * The hub's permissions are the access control here (contrib/nats/): whoever may publish on an agent's
   * request subject may ask it, so requests count as an operator's, and the log names the client.
   */
  private async dispatch(method: string, params: unknown, client: string): Promise<unknown> {
    const valid = validateParams(method, params);
    if (valid.method === 'hello') throw new ProtocolError(ErrorCode.METHOD_NOT_FOUND, 'hello is not used on a hub: the announcement on loopy.presence.AGENT says what the agent offers');
    if (valid.method === 'subscribe') return { topics: this.takeInterest(Buffer.from(JSON.stringify(valid.params))) };
    if (valid.method === 'unsubscribe') return { topics: [] };
    return this.o.server.answer({ role: 'operator', clientName: client, log: { via: 'hub', client } }, valid.method, valid.params);
  }

  private respond(msg: Msg, reply: HubReply): void {
    let json = 'result' in reply ? withResult('{"result":', reply.result, '}') : JSON.stringify(reply);
    const max = this.nc?.info?.max_payload ?? 1024 * 1024;
    if (Buffer.byteLength(json) > max) {
      const message = `the answer is ${Buffer.byteLength(json)} bytes, more than the hub's max_payload (${max}): ask for fewer rows (--limit), or raise max_payload on the hub`;
      json = JSON.stringify({ error: { code: ErrorCode.UNAVAILABLE, message } });
    }
    const h = headers();
    h.set(AGENT_HEADER, this.o.server.name);
    msg.respond(json, { headers: h });
  }

  /** The alert stream exists, or is made: agents may create it where the hub allows (contrib/nats/). */
  private async ensureAlertStream(): Promise<void> {
    const nc = this.nc;
    if (!nc || this.checkingStream) return;
    this.checkingStream = true;
    this.stream = 'unknown';
    try {
      const jsm = await jetstreamManager(nc, { timeout: 5000 });
      try {
        await jsm.streams.info(ALERT_STREAM);
      } catch {
        await jsm.streams.add(alertStreamConfig());
        this.o.logger.info({ stream: ALERT_STREAM }, 'created the hub\'s alert stream');
      }
      this.js = jsm.jetstream();
      this.stream = 'kept';
    } catch (err) {
      this.stream = 'live-only';
      this.o.logger.warn({ stream: ALERT_STREAM, err: (err as Error).message }, 'alerts are published live but the hub keeps none: no JetStream, or no stream and no right to create it');
    }
    this.checkingStream = false;
    this.releaseAlerts();
  }
}
