/**
 * One client connection: reads lines, validates them at the edge, answers, and carries live events with a
 * bounded queue. The agent never awaits a client: events are written only while the socket keeps up; once
 * it is backed up, each topic keeps a bounded queue (the latest `stats` only, the newest N of the others)
 * and counts what it dropped.
 *
 * Requests are answered in order, at most MAX_IN_FLIGHT at a time, and none is started while the socket is
 * backed up: a reply is made as the client reads the ones before it. Lines read but not started wait, up to
 * MAX_WAITING_BYTES, past which the socket is not read. So a client that pipelines a thousand broad queries
 * and never reads costs the agent at most one reply's worth of memory, not a thousand.
 */
import type { Duplex } from 'node:stream';
import type { PeerCredentials } from '../capture/live-addon.js';
import type { Role } from './roles.js';
import { ErrorCode, ProtocolError } from './protocol/errors.js';
import { LineDecoder, encodeFrame, withResult } from './protocol/framing.js';
import { type Method, type RpcId, type Topic, issuesOf, requestSchema, validateParams } from './protocol/messages.js';

/** Bytes queued in the socket beyond which the client counts as backed up. */
export const BACKLOG_BYTES = 64 * 1024;
/** Requests of one client being answered at once. */
export const MAX_IN_FLIGHT = 4;
/** Bytes of request lines read and waiting their turn, past which the socket is not read. */
export const MAX_WAITING_BYTES = 256 * 1024;
/** Records kept per topic while a client is backed up (stats: only the latest). */
export const QUEUE_LIMITS: Record<Topic, number> = { stats: 1, flows: 256, dns: 256, alerts: 64 };
export const QUEUE_TOTAL = QUEUE_LIMITS.stats + QUEUE_LIMITS.flows + QUEUE_LIMITS.dns + QUEUE_LIMITS.alerts;

export interface SessionInfo {
  id: number;
  transport: 'unix' | 'tls' | 'stdio';
  /** The peer's address (TLS), for the token delay and the log. */
  remoteAddress?: string;
  /** Who connected to the unix socket, as the kernel saw it (when the capture addon can ask). */
  peer?: PeerCredentials;
}

/** What a session asks of the server. */
export interface SessionHost {
  /** Answers one validated request; throws ProtocolError for a protocol error. */
  dispatch(session: Session, method: Method, params: unknown): Promise<unknown>;
  /** The session has ended (either side). */
  ended(session: Session): void;
  /** Something unexpected (logged by the server). */
  fault(session: Session, err: Error): void;
}

interface TopicQueue {
  /** Serialized records, oldest first; bounded by QUEUE_LIMITS. */
  items: string[];
  missed: number;
}

const TOPIC_LIST: Topic[] = ['alerts', 'flows', 'dns', 'stats'];

export class Session {
  helloDone = false;
  version = 0;
  clientName = '';
  /** What the client may do, decided at hello (viewer until then). */
  role: Role = 'viewer';
  readonly topics = new Set<Topic>();
  /** Removes the SSH session's capture exclusion, if the bridge told one. */
  onEnd: Array<() => void> = [];
  /** Called once, when hello succeeds. */
  onHello: Array<() => void> = [];
  /** Wall-clock ms of the last request, for the idle timeout. */
  private lastRequestMs = Date.now();
  private idleTimer: NodeJS.Timeout | undefined;
  private readonly decoder = new LineDecoder();
  private readonly queues = new Map<Topic, TopicQueue>();
  private closed = false;
  private paused = false;
  private closing = false;
  /** Request lines read, waiting their turn; their bytes. */
  private readonly waiting: string[] = [];
  private waitingBytes = 0;
  /** Requests being answered; a hello being answered holds back every line after it. */
  private inFlight = 0;
  private helloInFlight = false;

  constructor(
    readonly socket: Duplex,
    readonly info: SessionInfo,
    private readonly host: SessionHost,
  ) {
    for (const t of TOPIC_LIST) this.queues.set(t, { items: [], missed: 0 });
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => this.onDrain());
    socket.on('error', () => this.end());
    socket.on('close', () => this.end());
    socket.on('end', () => this.end());
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Closes the session once it has sent no request for `ms` while subscribed to nothing: a client that holds
   * a slot and does nothing with it gives it back (a UI subscribes, a script asks and goes).
   */
  idleAfter(ms: number): void {
    const check = () => {
      if (this.closed) return;
      const quiet = Date.now() - this.lastRequestMs;
      if (this.topics.size === 0 && quiet >= ms) return this.close(`idle for ${Math.round(ms / 1000)} s`);
      this.idleTimer = setTimeout(check, Math.max(1000, ms - (this.topics.size === 0 ? quiet : 0)));
      this.idleTimer.unref();
    };
    this.idleTimer = setTimeout(check, ms);
    this.idleTimer.unref();
  }

  /** A live event for this client (the record already serialized once for every client). */
  sendEvent(topic: Topic, recordJson: string): void {
    if (this.closed || this.closing || !this.topics.has(topic)) return;
    const q = this.queues.get(topic)!;
    if (q.items.length === 0 && !this.backedUp()) {
      this.write(eventLine(topic, recordJson, q.missed));
      q.missed = 0;
      return;
    }
    q.items.push(recordJson);
    if (q.items.length > QUEUE_LIMITS[topic]) {
      q.items.shift();
      q.missed++;
    }
  }

  /** Records waiting for this client now (for tests and the status). */
  queued(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.items.length;
    return n;
  }

  /** Says why, then closes (the socket flushes what it holds first). */
  close(reason: string): void {
    if (this.closed || this.closing) return;
    this.write(encodeFrame({ jsonrpc: '2.0', method: 'closing', params: { reason } }));
    this.closeAfterWrite();
  }

  /** Closes at once (garbage, the agent stopping hard). */
  destroy(): void {
    this.socket.destroy();
    this.end();
  }

  private backedUp(): boolean {
    return this.socket.writableLength > BACKLOG_BYTES;
  }

  private write(line: string | Buffer): void {
    if (this.closed) return;
    this.socket.write(line);
    this.throttleReading();
  }

  /** Not reading its requests while it does not read our replies, or while many wait their turn. */
  private throttleReading(): void {
    const hold = this.backedUp() || this.waitingBytes > MAX_WAITING_BYTES;
    if (hold && !this.paused) {
      this.paused = true;
      this.socket.pause();
    } else if (!hold && this.paused && !this.closing) {
      this.paused = false;
      this.socket.resume();
    }
  }

  private onDrain(): void {
    for (const topic of TOPIC_LIST) {
      const q = this.queues.get(topic)!;
      while (q.items.length > 0 && !this.backedUp()) {
        this.write(eventLine(topic, q.items.shift()!, q.missed));
        q.missed = 0;
      }
    }
    this.pump();
    this.throttleReading();
  }

  private onData(chunk: Buffer): void {
    if (this.closing || this.closed) return;
    for (const frame of this.decoder.push(chunk)) {
      if (frame.kind === 'garbage') return this.destroy();
      if (frame.kind === 'oversized') {
        this.reply(null, undefined, new ProtocolError(ErrorCode.FRAME_TOO_LARGE, 'line longer than 1 MiB (1048576 bytes)', undefined, true));
        return;
      }
      if (frame.text.trim() === '') continue;
      this.waiting.push(frame.text);
      this.waitingBytes += frame.text.length;
    }
    this.pump();
    this.throttleReading();
  }

  /** Starts the waiting requests in order while fewer than MAX_IN_FLIGHT run and the client keeps up. */
  private pump(): void {
    while (this.waiting.length > 0 && this.inFlight < MAX_IN_FLIGHT && !this.helloInFlight && !this.backedUp() && !this.closing && !this.closed) {
      const text = this.waiting.shift()!;
      this.waitingBytes -= text.length;
      this.lastRequestMs = Date.now();
      try {
        this.onLine(text);
      } catch (err) {
        // A bug in answering one line must not take the agent down: that client goes, the agent stays.
        this.host.fault(this, err as Error);
        return this.destroy();
      }
    }
  }

  private onLine(text: string): void {
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      return this.reply(null, undefined, new ProtocolError(ErrorCode.PARSE_ERROR, 'not JSON'));
    }
    const parsed = requestSchema.safeParse(message);
    if (!parsed.success) {
      const id = readId(message);
      const why = Array.isArray(message) ? 'batches are not supported: send one request per line' : 'not a JSON-RPC 2.0 request';
      return this.reply(id, undefined, new ProtocolError(ErrorCode.INVALID_REQUEST, why, { issues: issuesOf(parsed.error.issues) }));
    }
    const { id } = parsed.data;
    let method: Method;
    let params: unknown;
    try {
      ({ method, params } = validateParams(parsed.data.method, parsed.data.params));
    } catch (err) {
      return this.reply(id, undefined, err as ProtocolError);
    }
    if (method === 'hello' ? this.helloDone : !this.helloDone) {
      const why = this.helloDone ? 'hello was already done on this connection' : 'send hello first';
      return this.reply(id, undefined, new ProtocolError(ErrorCode.HELLO_REQUIRED, why));
    }
    this.inFlight++;
    // A hello decides what the lines after it may do: they wait for its answer.
    if (method === 'hello') this.helloInFlight = true;
    const done = () => {
      this.inFlight--;
      if (method === 'hello') this.helloInFlight = false;
      this.pump();
      this.throttleReading();
    };
    // Through a promise, so a handler that throws synchronously is answered like one that rejects.
    Promise.resolve().then(() => this.host.dispatch(this, method, params)).then(
      (result) => {
        this.reply(id, result);
        done();
      },
      (err: Error) => {
        if (err instanceof ProtocolError) this.reply(id, undefined, err);
        else {
          this.host.fault(this, err);
          this.reply(id, undefined, new ProtocolError(ErrorCode.INTERNAL_ERROR, 'the agent failed answering (see its log)'));
        }
        done();
      },
    );
  }

  private reply(id: RpcId | null | undefined, result: unknown, error?: ProtocolError): void {
    if (this.closed) return;
    // A notification (no id) gets no reply, errors included; a parse error has id null and is answered.
    if (id !== undefined) {
      if (error) {
        const detail = error.data === undefined ? { code: error.rpcCode, message: error.message } : { code: error.rpcCode, message: error.message, data: error.data };
        this.write(encodeFrame({ jsonrpc: '2.0', id, error: detail }));
      } else {
        this.write(withResult(`{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":`, result, '}\n'));
      }
    }
    if (error?.close) this.closeAfterWrite();
  }

  private closeAfterWrite(): void {
    this.closing = true;
    this.socket.end();
    // A peer that never reads would keep a half-closed socket forever.
    setTimeout(() => this.destroy(), 5000).unref();
  }

  private end(): void {
    if (this.closed) return;
    this.closed = true;
    this.waiting.length = 0;
    this.waitingBytes = 0;
    clearTimeout(this.idleTimer);
    for (const q of this.queues.values()) q.items = [];
    for (const fn of this.onEnd) fn();
    this.onEnd = [];
    this.host.ended(this);
  }
}

function eventLine(topic: Topic, recordJson: string, missed: number): string {
  return `{"jsonrpc":"2.0","method":"event","params":{"topic":"${topic}","missed":${missed},"record":${recordJson}}}\n`;
}

function readId(message: unknown): RpcId | null {
  if (message === null || typeof message !== 'object' || Array.isArray(message)) return null;
  const id = (message as { id?: unknown }).id;
  return typeof id === 'string' || (typeof id === 'number' && Number.isSafeInteger(id)) ? id : null;
}
