/**
 * The agent's protocol server: any number of sessions on any number of listeners (unix, TLS, or a stream
 * handed in), the methods of docs/protocol.md, and `publish(topic, record)` for live events. A record is
 * serialized once per publish whatever the number of clients; each session then writes it or queues it
 * (bounded) without the agent ever waiting for a client. A client's failure ends that client only.
 */
import type { Server as NetServer, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { ConnView } from '../analyze/flows/conn-record.js';
import type { AlertRecord, ConnRecord, DnsRecord } from '../analyze/records.js';
import type { AlertAck } from '../store/types.js';
import type { AgentLogger } from './logger.js';
import { ErrorCode, ProtocolError } from './protocol/errors.js';
import {
  type AgentAlertRecord, DEFAULT_LIMIT, DEFAULT_TALKERS_LIMIT, type HelloParams, type HelloResult, type HistoryQueryParams, type HostTotal, type NamesParams,
  MAX_FRAME_BYTES, MAX_LIMIT, METHODS, type Method, PROTOCOL_VERSIONS, type SeriesParams, type SeriesPoint, type SuppressParams,
  type TalkersParams, TOPICS, type Topic,
} from './protocol/messages.js';
import { type PeerCredentials, peerCredentials } from '../capture/live-addon.js';
import { currentUid, DEFAULT_OPERATOR_GROUP, isBridgeUnderSshd, type Role, unixRole } from './roles.js';
import type { SelfExclusion } from './self-exclusion.js';
import { groupId } from './transports.js';
import { QUEUE_TOTAL, Session, type SessionHost, type SessionInfo } from './session.js';
import type { AgentStatus } from './status.js';
import type { TokenGate } from './token-gate.js';
import { openFlowsQuery, type OpenFlowsQuery, rowsJson, withOpenFlows } from './open-flows.js';
import type { RecordRows } from '../analyze/record-rows.js';

/** The history store as the server needs it (src/store's HistoryStore fits it). */
export interface HistoryBackend {
  series(query: SeriesParams & { limit: number }): SeriesPoint[] | Promise<SeriesPoint[]>;
  /** Stored flows, newest first, as JSON rows (made where the store runs, not on the agent's thread). */
  flowRows(query: HistoryQueryParams & { limit: number }): RecordRows | Promise<RecordRows>;
  dnsRows(query: HistoryQueryParams & { limit: number }): RecordRows | Promise<RecordRows>;
  /** Newest first, each alert's acknowledgement merged into its record. */
  alerts(query: HistoryQueryParams & { limit: number }): AgentAlertRecord[] | Promise<AgentAlertRecord[]>;
  /** Bytes and packets per host, biggest first. */
  topTalkers(query: TalkersParams & { limit: number }): HostTotal[] | Promise<HostTotal[]>;
}

/**
 * The history store as the agent feeds it (src/store's WorkerHistoryStore, or HistoryStore in tests): appends,
 * a flush a second that never blocks, retention hourly, and a close that waits until everything is written.
 */
export interface HistoryStoreLike extends HistoryBackend {
  appendStats(record: object): void;
  appendConn(record: ConnRecord): void;
  /** A closed flow read from the flow table (the same row as appendConn(conn.record()), without the object). */
  appendFlow(conn: ConnView): void;
  appendDns(record: DnsRecord): void;
  appendAlert(record: AlertRecord): void;
  /** Marks a stored alert acknowledged for good; undefined when the store does not have it. */
  acknowledgeAlert(alertId: string, ack: AlertAck): AgentAlertRecord | undefined | Promise<AgentAlertRecord | undefined>;
  flush(): void;
  enforceRetention(now: number): void;
  close(): void;
  /** Records appended that were not stored (the store behind, the disk full): a count to show, never a reason to stop. */
  readonly droppedRecords?: number;
}

/** Passive DNS (analyze/passive-names.ts): the names the DNS answers the agent saw gave addresses. */
export interface NamesBackend {
  namesOf(addresses: Iterable<string>): Record<string, string>;
}

/** Detection's controls (acknowledge, suppress). */
export interface AlertControl {
  /**
   * Acknowledges an alert for every client (`by`: who, as its hello named it). Returns the acknowledgement
   * (the first one, when it was already acknowledged), or undefined when the id is unknown.
   */
  ack(alertId: string, by: string): AlertAck | undefined | Promise<AlertAck | undefined>;
  /** Returns the suppression's id; throws RangeError for a bad address/CIDR. */
  suppress(rule: SuppressParams): number;
}

export interface AgentServerOptions {
  name: string;
  software: string;
  /** Seconds since the epoch. */
  started: number;
  now: () => number;
  logger: AgentLogger;
  /** The agent's status now (the server fills `clients`). */
  status: () => AgentStatus;
  history?: HistoryBackend;
  /**
   * The flows still open now that match the query, which history.flows answers too: each engine's newest
   * `limit` as JSON rows, newest first (analyze/flows/open-flows.ts).
   */
  openFlows?: (q: OpenFlowsQuery) => RecordRows[] | Promise<RecordRows[]>;
  alerts?: AlertControl;
  names?: NamesBackend;
  /** Checks TLS clients' tokens; without it no TLS session is admitted. */
  tokenGate?: TokenGate;
  /** Where the SSH sessions told by `loopy bridge` are excluded from capture. */
  exclusions?: SelfExclusion;
  helloTimeoutMs?: number;
  /** Clients that said hello, at most. */
  maxClients?: number;
  /** Connections waiting for their hello, per transport (as OpenSSH's MaxStartups), and per TLS address. */
  maxUnauthenticated?: number;
  maxUnauthenticatedPerAddress?: number;
  /** A client that sends no request and subscribes to nothing for this long is closed. */
  idleTimeoutMs?: number;
  /** Members of this group (a gid) are operators on the unix socket; default: the group loopy-operators, if any. */
  operatorGid?: number;
  /** Whether a local peer is a `loopy bridge` run by sshd, whose SSH session may be left out of capture. */
  verifyBridge?: (peer: PeerCredentials | undefined) => boolean;
}

/**
 * Somewhere besides the sessions that live events go (the NATS hub link): it says which topics it wants now
 * and takes each record already serialized. It must not wait or throw: the agent never waits for a client.
 */
export interface EventOutlet {
  wants(topic: Topic): boolean;
  send(topic: Topic, recordJson: string, record: object): void;
}

/** Who asks, for a method every transport carries: the role decides, the name and `log` say who in the log. */
export interface Caller {
  role: Role;
  clientName: string;
  log: Record<string, unknown>;
}

export const DEFAULT_MAX_CLIENTS = 1000;
export const DEFAULT_MAX_UNAUTHENTICATED = 128;
export const DEFAULT_MAX_UNAUTHENTICATED_PER_ADDRESS = 64;
export const DEFAULT_IDLE_TIMEOUT_MS = 15 * 60_000;

export class AgentServer implements SessionHost {
  private readonly sessions = new Set<Session>();
  /** Topics some session is subscribed to; recomputed after a change. */
  private subscribed: Set<Topic> | undefined;
  /** Sessions that have not said hello yet, by transport, and TLS ones by address: a flood of bare connections fills these, never the slots of clients that said hello, nor another transport's. */
  private readonly waitingHello = new Map<string, number>();
  private readonly listeners: NetServer[] = [];
  private readonly outlets: EventOutlet[] = [];
  private nextId = 1;
  private stopping = false;
  /** Events published, serialized once each (for the bench and the metrics). */
  published = 0;

  constructor(private readonly o: AgentServerOptions) {}

  /** The agent's name for its clients, and its software. */
  get name(): string {
    return this.o.name;
  }

  get software(): string {
    return this.o.software;
  }

  /** Clients that said hello. */
  get clients(): number {
    let n = 0;
    for (const s of this.sessions) if (s.helloDone) n++;
    return n;
  }

  /** Sessions now, for tests and status. */
  list(): readonly Session[] {
    return [...this.sessions];
  }

  /** Serves every connection the listener accepts. */
  attach(listener: NetServer, transport: 'unix' | 'tls'): void {
    this.listeners.push(listener);
    const event = transport === 'tls' ? 'secureConnection' : 'connection';
    listener.on(event, (socket: Socket) => this.accept(socket, transport, socket.remoteAddress));
    // A failed TLS handshake is the client's problem, not the agent's.
    listener.on('tlsClientError', (_err: Error, socket: Socket) => socket.destroy());
  }

  /** Serves one stream (a socket, or a pair of pipes in tests). */
  accept(stream: Duplex, transport: SessionInfo['transport'], remoteAddress?: string): Session | undefined {
    const info: SessionInfo = { id: this.nextId++, transport, remoteAddress, peer: transport === 'unix' ? peerCredentials(stream) : undefined };
    stream.on('error', () => {});
    const refusal = this.stopping ? 'the agent is stopping' : this.admission(transport, remoteAddress);
    if (refusal !== undefined) {
      stream.end(`${JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: ErrorCode.SHUTTING_DOWN, message: refusal } })}\n`);
      return undefined;
    }
    const session = new Session(stream, info, this);
    this.sessions.add(session);
    const keys = this.waitingKeys(transport, remoteAddress);
    for (const k of keys) this.waitingHello.set(k, (this.waitingHello.get(k) ?? 0) + 1);
    let waiting = true;
    const stopWaiting = () => {
      if (!waiting) return;
      waiting = false;
      for (const k of keys) {
        const n = (this.waitingHello.get(k) ?? 1) - 1;
        if (n > 0) this.waitingHello.set(k, n);
        else this.waitingHello.delete(k);
      }
    };
    session.onHello.push(stopWaiting);
    const timer = setTimeout(() => {
      if (!session.helloDone) session.close('no hello within the time allowed');
    }, this.o.helloTimeoutMs ?? 10_000);
    timer.unref();
    session.onEnd.push(() => clearTimeout(timer), stopWaiting);
    session.idleAfter(this.o.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS);
    this.o.logger.debug({ session: info.id, transport, remote: remoteAddress }, 'client connected');
    return session;
  }

  /** Why a new connection is refused, or undefined: too many waiting for their hello on its transport or address. */
  private admission(transport: SessionInfo['transport'], remoteAddress: string | undefined): string | undefined {
    const [pool, address] = this.waitingKeys(transport, remoteAddress);
    if ((this.waitingHello.get(pool) ?? 0) >= (this.o.maxUnauthenticated ?? DEFAULT_MAX_UNAUTHENTICATED)) return `too many connections waiting for their hello on ${transport}: try again shortly`;
    if (address !== undefined && (this.waitingHello.get(address) ?? 0) >= (this.o.maxUnauthenticatedPerAddress ?? DEFAULT_MAX_UNAUTHENTICATED_PER_ADDRESS)) return 'too many connections from this address waiting for their hello';
    return undefined;
  }

  private waitingKeys(transport: SessionInfo['transport'], remoteAddress: string | undefined): string[] {
    return transport === 'tls' && remoteAddress !== undefined ? [transport, `tls ${remoteAddress}`] : [transport];
  }

  /** Live events also go to this outlet (the hub link), as it wants them. */
  addOutlet(outlet: EventOutlet): void {
    this.outlets.push(outlet);
  }

  /** A live event to every subscriber of `topic`. Never waits; never throws because of a client. */
  publish(topic: Topic, record: object): void {
    let json: string | undefined;
    for (const o of this.outlets) {
      if (!o.wants(topic)) continue;
      json ??= JSON.stringify(record);
      o.send(topic, json, record);
    }
    for (const s of this.sessions) {
      if (!s.topics.has(topic)) continue;
      json ??= JSON.stringify(record);
      try {
        s.sendEvent(topic, json);
      } catch (err) {
        this.fault(s, err as Error);
        s.destroy();
      }
    }
    if (json !== undefined) this.published++;
  }

  /** Says goodbye to every client and stops listening. */
  close(reason = 'the agent is stopping'): Promise<void> {
    this.stopping = true;
    for (const s of this.sessions) s.close(reason);
    const closing = this.listeners.map((l) => new Promise<void>((resolve) => l.close(() => resolve())));
    // Sessions that do not finish closing are destroyed by their own timers; listeners close once they are.
    setTimeout(() => {
      for (const s of this.sessions) s.destroy();
    }, 2000).unref();
    return Promise.all(closing).then(() => undefined);
  }

  /** True when some client is subscribed to the topic: a record nobody will receive need not be made. */
  wants(topic: Topic): boolean {
    if (this.subscribed === undefined) {
      this.subscribed = new Set();
      for (const s of this.sessions) for (const t of s.topics) this.subscribed.add(t);
    }
    return this.subscribed.has(topic) || this.outlets.some((o) => o.wants(topic));
  }

  ended(session: Session): void {
    this.subscribed = undefined;
    if (this.sessions.delete(session)) {
      this.o.logger.debug({ session: session.info.id, client: session.clientName }, 'client disconnected');
    }
  }

  fault(session: Session, err: Error): void {
    this.o.logger.error({ session: session.info.id, err: err.message, stack: err.stack }, 'failure answering a client');
  }

  async dispatch(session: Session, method: Method, params: unknown): Promise<unknown> {
    switch (method) {
      case 'hello':
        return this.hello(session, params as HelloParams);
      case 'subscribe': {
        for (const t of (params as { topics: Topic[] }).topics) session.topics.add(t);
        this.subscribed = undefined;
        return Promise.resolve({ topics: TOPICS.filter((t) => session.topics.has(t)) });
      }
      case 'unsubscribe': {
        const topics = (params as { topics?: Topic[] }).topics ?? [...TOPICS];
        for (const t of topics) session.topics.delete(t);
        this.subscribed = undefined;
        return Promise.resolve({ topics: TOPICS.filter((t) => session.topics.has(t)) });
      }
      default:
        return this.answer({ role: session.role, clientName: session.clientName, log: this.who(session) }, method, params);
    }
  }

  /**
   * Answers a method every transport carries (status, history.*, alerts.*) for a caller; `params` are
   * validated (messages.ts validateParams). Throws ProtocolError.
   */
  async answer(caller: Caller, method: Exclude<Method, 'hello' | 'subscribe' | 'unsubscribe'>, params: unknown): Promise<unknown> {
    switch (method) {
      case 'status':
        return { ...this.o.status(), clients: this.clients };
      case 'history.series':
      case 'history.flows':
      case 'history.dns':
      case 'history.alerts':
      case 'history.talkers':
        return this.history(method, params as HistoryQueryParams);
      case 'names':
        return { names: this.need(this.o.names, 'this agent keeps no names').namesOf((params as NamesParams).addresses) };
      case 'alerts.ack': {
        const alerts = this.need(this.o.alerts, 'detection is not running in this agent');
        this.needOperator(caller, method);
        const id = (params as { alert_id: string }).alert_id;
        const ack = await alerts.ack(id, caller.clientName);
        if (!ack) throw new ProtocolError(ErrorCode.NOT_FOUND, `no alert ${JSON.stringify(id)}`);
        this.o.logger.info({ ...caller.log, alert_id: id }, 'alert acknowledged');
        return { alert_id: id, ...ack };
      }
      case 'alerts.suppress': {
        const alerts = this.need(this.o.alerts, 'detection is not running in this agent');
        this.needOperator(caller, method);
        let suppressionId: number;
        try {
          suppressionId = alerts.suppress(params as SuppressParams);
        } catch (err) {
          if (err instanceof RangeError) throw new ProtocolError(ErrorCode.INVALID_PARAMS, `bad params for alerts.suppress: ${err.message}`);
          throw err;
        }
        // Who silenced what, for good: a suppression hides alerts, so it is always in the log.
        this.o.logger.warn({ ...caller.log, suppression_id: suppressionId, rule: params }, 'alerts suppressed');
        return { suppression_id: suppressionId };
      }
    }
  }

  /** The methods this agent offers (history and alerts only with their backends). */
  methods(): string[] {
    return METHODS.filter((m) => (m.startsWith('history.') ? !!this.o.history : m.startsWith('alerts.') ? !!this.o.alerts : m === 'names' ? !!this.o.names : true));
  }

  /** Acknowledging and suppressing change what everyone is told: operators only. */
  private needOperator(caller: Caller, method: string): void {
    if (caller.role === 'operator') return;
    this.o.logger.warn({ ...caller.log, method }, 'refused: a viewer asked for an operator method');
    throw new ProtocolError(ErrorCode.FORBIDDEN, `${method} needs the operator role; this client is a viewer (see docs/protocol.md, Roles)`);
  }

  /** Who a session is, for the log: its id, address or local user, and client. */
  private who(session: Session): Record<string, unknown> {
    const { id, remoteAddress, peer } = session.info;
    return { session: id, remote: remoteAddress, uid: peer?.uid, pid: peer?.pid, client: session.clientName };
  }

  private need<T>(backend: T | undefined, why: string): T {
    if (!backend) throw new ProtocolError(ErrorCode.UNAVAILABLE, why);
    return backend;
  }

  private async history(method: `history.${'series' | 'flows' | 'dns' | 'alerts' | 'talkers'}`, params: HistoryQueryParams): Promise<unknown> {
    const store = this.need(this.o.history, 'this agent keeps no history (start it with --data DIR)');
    const q = { ...params, limit: params.limit ?? (method === 'history.talkers' ? DEFAULT_TALKERS_LIMIT : DEFAULT_LIMIT) };
    if (method === 'history.series') return store.series(q as SeriesParams & { limit: number });
    if (method === 'history.flows') {
      const stored = await store.flowRows(q);
      return withOpenFlows(stored, (await this.o.openFlows?.(openFlowsQuery(q, stored))) ?? [], q.limit);
    }
    if (method === 'history.dns') return rowsJson(await store.dnsRows(q));
    if (method === 'history.talkers') return store.topTalkers(q);
    return store.alerts(q);
  }

  private async hello(session: Session, p: HelloParams): Promise<HelloResult> {
    const version = Math.max(0, ...p.versions.filter((v) => (PROTOCOL_VERSIONS as readonly number[]).includes(v)));
    if (version === 0) {
      throw new ProtocolError(ErrorCode.UNSUPPORTED_VERSION, `no protocol version in common: the agent speaks ${PROTOCOL_VERSIONS.join(', ')}`, { versions: [...PROTOCOL_VERSIONS] }, true);
    }
    const tls = session.info.transport === 'tls';
    let role: Role;
    if (tls) {
      const address = session.info.remoteAddress ?? 'unknown';
      const granted = this.o.tokenGate ? await this.o.tokenGate.check(address, p.token) : undefined;
      if (granted === undefined) {
        // The token itself is never logged.
        this.o.logger.warn({ session: session.info.id, remote: address, client: p.client.name }, 'client refused: wrong or missing token');
        throw new ProtocolError(ErrorCode.UNAUTHORIZED, p.token === undefined ? 'a token is required on TLS' : 'wrong token', undefined, true);
      }
      role = granted;
    } else {
      role = unixRole(session.info.peer, { agentUid: currentUid(), operatorGid: this.o.operatorGid ?? groupId(DEFAULT_OPERATOR_GROUP) });
    }
    if (session.isClosed) throw new ProtocolError(ErrorCode.SHUTTING_DOWN, 'closed');
    if (this.clients >= (this.o.maxClients ?? DEFAULT_MAX_CLIENTS)) throw new ProtocolError(ErrorCode.SHUTTING_DOWN, 'the agent is at its client limit', undefined, true);
    session.helloDone = true;
    session.role = role;
    for (const fn of session.onHello.splice(0)) fn();
    session.version = version;
    session.clientName = `${p.client.name} ${p.client.version}`;
    if (!tls && p.via?.ssh_connection) this.excludeSsh(session, p.via.ssh_connection);
    this.o.logger.info({ ...this.who(session), transport: session.info.transport, role }, 'client said hello');
    return {
      version,
      name: this.o.name,
      software: this.o.software,
      methods: this.methods(),
      topics: [...TOPICS],
      time: this.o.now(),
      started: this.o.started,
      session: session.info.id,
      auth: tls ? 'token' : 'unix',
      role,
      limits: { max_frame_bytes: MAX_FRAME_BYTES, max_limit: MAX_LIMIT, queue: QUEUE_TOTAL },
    };
  }

  /**
   * The bridge's SSH session, "client_ip client_port server_ip server_port", out of capture while it lasts —
   * when the peer is a bridge sshd started. Any local client could claim a session in its hello and hide
   * that traffic from capture: such a claim is refused and logged.
   */
  private excludeSsh(session: Session, sshConnection: string): void {
    if (!this.o.exclusions) return;
    if (!(this.o.verifyBridge ?? isBridgeUnderSshd)(session.info.peer)) {
      this.o.logger.warn({ ...this.who(session), ssh_connection: sshConnection }, 'not excluded from capture: a client that is not a loopy bridge run by sshd claimed an SSH session');
      return;
    }
    const [remoteHost, remotePort, localHost, localPort] = sshConnection.trim().split(/\s+/);
    try {
      const remove = this.o.exclusions.add({ kind: 'session', proto: 'tcp', localHost, localPort: Number(localPort), remoteHost, remotePort: Number(remotePort) });
      session.onEnd.push(remove);
    } catch {
      this.o.logger.warn({ session: session.info.id }, 'the bridge passed an SSH_CONNECTION that is not "ip port ip port"; not excluded');
    }
  }
}
