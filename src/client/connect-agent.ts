/**
 * connectAgent: an AgentClient over any transport. It connects in the background, says hello (version,
 * token), keeps reconnecting with backoff when the agent goes away, and re-subscribes the live topics each
 * time. Requests made while (re)connecting wait for the connection, up to their timeout.
 */
import { join } from 'node:path';
import { type MethodResults, TOPICS, type Topic, checkEventRecord, checkResult } from '../serve/protocol/messages.js';
import type { AgentClient, AgentHello, ConnectionState, LiveEvent } from './agent-client.js';
import { AgentMethods } from './agent-methods.js';
import { type BackoffPolicy, DEFAULT_BACKOFF, backoffDelay } from './backoff.js';
import { type ResolvedTarget, defaultConfigDir, resolveTarget } from './client-config.js';
import { Fleet } from './hub/fleet.js';
import { type HubClientOptions, type HubLogin, connectHub } from './hub/hub-connection.js';
import { HubAgentClient } from './hub/hub-agent-client.js';
import { KNOWN_AGENTS_FILE } from './known-agents.js';
import { ConnectionLostError, RpcConnection, RpcError } from './rpc-connection.js';
import { type ParsedTarget, TargetError, formatTarget } from './target.js';
import { FatalConnectError, type Transport, type TransportOptions, openTransport } from './transports.js';
import { PACKAGE_VERSION } from '../capture/package-version.js';

export const CLIENT_PROTOCOL_VERSIONS = [1];
/** JSON-RPC codes (docs/protocol.md "Errors") after which retrying is pointless. */
const FATAL_RPC = new Map([
  [-32000, 'LOOPY_VERSION'],
  [-32001, 'LOOPY_UNAUTHORIZED'],
]);

export interface ConnectOptions {
  /** Directory of config.json and known_agents (default ~/.config/loopy, or $LOOPY_CONFIG_DIR). */
  configDir?: string;
  /** Bearer token for TLS agents (overrides the config's; default $LOOPY_TOKEN). */
  token?: string;
  /** Certificate fingerprint a TLS agent must present; pinned when it matches. */
  fingerprint?: string;
  requestTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** Keep reconnecting after a failure (default true). Scripts that ask once set false. */
  reconnect?: boolean;
  backoff?: Partial<BackoffPolicy>;
  /** Extra ssh arguments (default: $LOOPY_SSH_OPTIONS split on spaces). */
  sshOptions?: string[];
  /** Command run by ssh on the agent's host (default $LOOPY_SSH_COMMAND or `loopy bridge`). */
  sshCommand?: string;
  clientName?: string;
  /** Told when a TLS agent's fingerprint is pinned for the first time. */
  onPin?: TransportOptions['onPin'];
  /** The transport seam (tests). */
  transport?: (target: ParsedTarget, options: TransportOptions) => Promise<Transport>;
  random?: () => number;
  /** How to log in to a nats:// hub (the config entry's creds and ca fill in what is not given). */
  hub?: HubLogin;
}

export function connectAgent(target: string, options: ConnectOptions = {}): AgentClient {
  const configDir = options.configDir ?? defaultConfigDir();
  const resolved = resolveTarget(target, join(configDir, 'config.json'));
  if (resolved.target.kind === 'nats') {
    const { agent } = resolved.target;
    if (agent === undefined) throw new TargetError(`target '${target}' names every agent on the hub: give one, nats://HOST:PORT/AGENT`);
    const hubOptions = hubClientOptions(resolved, options);
    return new HubAgentClient(target, agent, connectHub(resolved.target, hubOptions), { ...hubOptions, ownsHub: true, watchPresence: true });
  }
  return new ReconnectingAgentClient(target, resolved.target, {
    ...options,
    token: options.token ?? resolved.token ?? (process.env.LOOPY_TOKEN || undefined),
    fingerprint: options.fingerprint ?? resolved.fingerprint,
    configDir,
  });
}

/**
 * When TARGET is on a hub (`nats://HOST:PORT` for every agent, `nats://HOST:PORT/AGENT` for one, or a config
 * name for either), what opens the hub and the agent named; undefined for other targets. Throws TargetError
 * or ClientConfigError for a bad TARGET.
 */
export function hubOf(target: string, options: ConnectOptions = {}): { open(): Promise<Fleet>; agent?: string } | undefined {
  const resolved = resolveTarget(target, join(options.configDir ?? defaultConfigDir(), 'config.json'));
  const address = resolved.target;
  if (address.kind !== 'nats') return undefined;
  const hubTarget = formatTarget({ ...address, agent: undefined });
  return { open: () => Fleet.open(hubTarget, address, hubClientOptions(resolved, options)), agent: address.agent };
}

function hubClientOptions(resolved: ResolvedTarget, o: ConnectOptions): HubClientOptions & { requestTimeoutMs: number } {
  return {
    creds: o.hub?.creds ?? resolved.creds, caFile: o.hub?.caFile ?? resolved.ca, user: o.hub?.user, password: o.hub?.password,
    clientName: `${o.clientName ?? 'loopy-client'} ${PACKAGE_VERSION}`, connectTimeoutMs: o.connectTimeoutMs ?? 10_000,
    reconnect: o.reconnect !== false, requestTimeoutMs: o.requestTimeoutMs ?? 10_000,
  };
}

type Waiter = { resolve: (rpc: RpcConnection) => void; reject: (err: Error) => void };

class ReconnectingAgentClient extends AgentMethods implements AgentClient {
  private state: ConnectionState = { state: 'connecting', attempt: 1 };
  private readonly stateListeners = new Set<(s: ConnectionState) => void>();
  private readonly subscriptions = new Map<object, { topics: Set<Topic>; listener: (e: LiveEvent) => void }>();
  /** Topics subscribed on the current connection. */
  private agentTopics = new Set<Topic>();
  private rpc: RpcConnection | undefined;
  private waiters = new Set<Waiter>();
  private closed = false;
  private gaveUp: Error | undefined;
  private wake: (() => void) | undefined;
  private closingReason: string | undefined;
  private readonly transportOptions: TransportOptions;
  private readonly requestTimeoutMs: number;
  private readonly backoff: BackoffPolicy;

  constructor(
    readonly target: string,
    private readonly parsed: ParsedTarget,
    private readonly options: ConnectOptions & { configDir: string },
  ) {
    super();
    this.requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
    this.backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
    this.transportOptions = {
      knownAgentsFile: join(options.configDir, KNOWN_AGENTS_FILE),
      fingerprint: options.fingerprint,
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
      sshOptions: options.sshOptions ?? (process.env.LOOPY_SSH_OPTIONS ?? '').split(/\s+/).filter(Boolean),
      sshCommand: options.sshCommand ?? (process.env.LOOPY_SSH_COMMAND || 'loopy bridge'),
      onPin: options.onPin,
    };
    void this.run();
  }

  connectionState(): ConnectionState {
    return this.state;
  }

  onStateChange(listener: (state: ConnectionState) => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  subscribe(topics: Topic[], listener: (event: LiveEvent) => void): () => void {
    const key = {};
    this.subscriptions.set(key, { topics: new Set(topics), listener });
    this.syncTopics();
    return () => {
      this.subscriptions.delete(key);
      this.syncTopics();
    };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.rpc?.close();
    this.rpc = undefined;
    this.wake?.();
    this.failWaiters(new ConnectionLostError(`${this.target}: the client was closed`));
    this.setState({ state: 'closed' });
  }

  /** Asks the agent and checks its reply against the method's schema (a foreign reply is an error naming the field). */
  protected async call<M extends keyof MethodResults>(method: M, params: object): Promise<MethodResults[M]> {
    const rpc = await this.connection();
    const reply = await rpc.request(method, params, this.requestTimeoutMs);
    try {
      return checkResult(method, reply);
    } catch (err) {
      throw new Error(`${this.target}: ${(err as Error).message}`);
    }
  }

  /** The live connection, waiting for it (up to the request timeout) while connecting. */
  private connection(): Promise<RpcConnection> {
    if (this.rpc && !this.rpc.closed) return Promise.resolve(this.rpc);
    if (this.closed) return Promise.reject(new ConnectionLostError(`${this.target}: the client was closed`));
    if (this.gaveUp) return Promise.reject(this.gaveUp);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        resolve: (rpc) => {
          clearTimeout(timer);
          resolve(rpc);
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        const why = this.state.state === 'disconnected' ? `: ${this.state.error}` : '';
        reject(new Error(`${this.target}: not connected within ${this.requestTimeoutMs} ms${why}`));
      }, this.requestTimeoutMs);
      this.waiters.add(waiter);
    });
  }

  private failWaiters(err: Error): void {
    for (const w of this.waiters) w.reject(err);
    this.waiters.clear();
  }

  private setState(state: ConnectionState): void {
    this.state = state;
    for (const l of this.stateListeners) l(state);
  }

  private async run(): Promise<void> {
    let attempt = 0;
    while (!this.closed) {
      attempt++;
      this.setState({ state: 'connecting', attempt });
      let failure: Error;
      try {
        const rpc = await this.open();
        if (this.closed) {
          rpc.close();
          return;
        }
        attempt = 0;
        const lost = new Promise<Error>((resolve) => rpc.onClose(resolve));
        const lostWith = await lost;
        failure = this.explain(this.closingReason ? new Error(`the agent closed the connection: ${this.closingReason}`) : lostWith);
        this.closingReason = undefined;
        if (this.rpc === rpc) this.rpc = undefined;
      } catch (err) {
        failure = err as Error;
      }
      if (this.closed) return;
      const fatal = failure instanceof FatalConnectError || this.options.reconnect === false;
      const retryInMs = fatal ? -1 : backoffDelay(Math.max(attempt, 1), this.backoff, this.options.random);
      this.setState({ state: 'disconnected', since: Date.now(), error: failure.message, retryInMs });
      if (fatal) {
        this.gaveUp = failure;
        this.failWaiters(failure);
        return;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, retryInMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }

  /** One connection attempt: transport, hello, then topics. */
  private async open(): Promise<RpcConnection> {
    const transport = await (this.options.transport ?? openTransport)(this.parsed, this.transportOptions);
    const rpc = new RpcConnection(transport.stream, (method, params) => this.notify(method, params), transport.failureDetail);
    let hello: AgentHello;
    try {
      const reply = await rpc.request(
        'hello',
        {
          versions: CLIENT_PROTOCOL_VERSIONS,
          client: { name: this.options.clientName ?? 'loopy-client', version: PACKAGE_VERSION },
          ...(this.options.token !== undefined ? { token: this.options.token } : {}),
        },
        this.requestTimeoutMs,
      );
      try {
        hello = checkResult('hello', reply);
      } catch (err) {
        throw new FatalConnectError(`${this.target}: ${(err as Error).message}`, 'LOOPY_PROTOCOL');
      }
    } catch (err) {
      rpc.close();
      throw this.explain(err as Error);
    }
    try {
      transport.helloAnswered?.();
    } catch (err) {
      rpc.close();
      throw new FatalConnectError(`${this.target}: cannot pin its certificate: ${(err as Error).message}`, 'LOOPY_FINGERPRINT');
    }
    this.rpc = rpc;
    this.agentTopics = new Set();
    this.setState({ state: 'connected', since: Date.now(), agent: hello });
    for (const w of this.waiters) w.resolve(rpc);
    this.waiters.clear();
    this.syncTopics();
    return rpc;
  }

  /** Makes the agent's topics on this connection the union of what the subscribers want. */
  private syncTopics(): void {
    const rpc = this.rpc;
    if (!rpc || rpc.closed) return;
    const wanted = new Set<Topic>();
    for (const s of this.subscriptions.values()) for (const t of s.topics) wanted.add(t);
    const add = TOPICS.filter((t) => wanted.has(t) && !this.agentTopics.has(t));
    const drop = TOPICS.filter((t) => !wanted.has(t) && this.agentTopics.has(t));
    for (const t of add) this.agentTopics.add(t);
    for (const t of drop) this.agentTopics.delete(t);
    // A failed (un)subscribe is a lost connection in practice; the reconnect re-sends everything.
    if (add.length > 0) rpc.request('subscribe', { topics: add }, this.requestTimeoutMs).catch(() => undefined);
    if (drop.length > 0) rpc.request('unsubscribe', { topics: drop }, this.requestTimeoutMs).catch(() => undefined);
  }

  private notify(method: string, params: unknown): void {
    if (method === 'closing') {
      // The agent's last word before it closes on purpose: the reason the user will see.
      const reason = (params as { reason?: unknown } | undefined)?.reason;
      if (typeof reason === 'string') this.closingReason = reason;
      return;
    }
    if (method !== 'event') return;
    const event = liveEventOf(params);
    if (event === undefined) return;
    for (const s of this.subscriptions.values()) {
      if (!s.topics.has(event.topic)) continue;
      try {
        s.listener(event);
      } catch (err) {
        // A listener's bug is the caller's, not the connection's: rethrow outside our stack.
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }

  private explain(err: Error): Error {
    if (err instanceof RpcError && FATAL_RPC.has(err.rpcCode)) {
      const hint = err.rpcCode === -32001 ? ' (give the agent token with --token, $LOOPY_TOKEN or the config entry\'s "token")' : '';
      return new FatalConnectError(`${this.target}: ${err.message}${hint}`, FATAL_RPC.get(err.rpcCode)!);
    }
    if (err instanceof FatalConnectError) return err;
    return new Error(err.message.startsWith(this.target) ? err.message : `${this.target}: ${err.message}`);
  }
}

/** An `event` notification's params as a LiveEvent, its record checked against its topic's schema; undefined if foreign. */
function liveEventOf(params: unknown): LiveEvent | undefined {
  const p = params as { topic?: unknown; record?: unknown; missed?: unknown } | undefined;
  if (typeof p?.topic !== 'string' || !(TOPICS as readonly string[]).includes(p.topic)) return undefined;
  const topic = p.topic as Topic;
  try {
    const record = checkEventRecord(topic, p.record);
    const missed = typeof p.missed === 'number' && p.missed >= 0 ? p.missed : 0;
    return { topic, record, missed } as LiveEvent;
  } catch {
    return undefined;
  }
}
