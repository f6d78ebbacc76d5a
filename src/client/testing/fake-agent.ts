/**
 * A small stand-in for the agent's server side, for the client's tests: it speaks docs/protocol.md
 * (JSON-RPC 2.0 over NDJSON, hello first, token on TLS) with canned answers, records what it was asked and
 * can push live events. It reuses the server's line framing so both ends agree on what a frame is.
 */
import { once } from 'node:events';
import { type Server, type Socket, createServer } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { LineDecoder, encodeFrame } from '../../serve/protocol/framing.js';

export interface FakeAgentOptions {
  /** Required token (TLS agents); undefined: none asked. */
  token?: string;
  tls?: { key: string; cert: string };
  /** Answers per method (params → result); throw {code, message} for an error reply. */
  handlers?: Record<string, (params: Record<string, unknown>) => unknown>;
  versions?: number[];
}

export interface FakeSession {
  socket: Socket;
  topics: Set<string>;
}

export class FakeAgent {
  readonly requests: Array<{ method: string; params: Record<string, unknown> }> = [];
  readonly sessions = new Set<FakeSession>();
  private server: Server;

  constructor(private readonly options: FakeAgentOptions = {}) {
    const onSocket = (socket: Socket) => this.serve(socket);
    this.server = options.tls ? createTlsServer({ key: options.tls.key, cert: options.tls.cert }, onSocket) : createServer(onSocket);
  }

  async listen(where: { path: string } | { host: string; port: number }): Promise<this> {
    this.server.listen(where);
    await once(this.server, 'listening');
    return this;
  }

  get port(): number {
    return (this.server.address() as { port: number }).port;
  }

  /** Sends a live event to every session subscribed to its topic. */
  publish(topic: string, record: object, missed = 0): number {
    let sent = 0;
    for (const s of this.sessions) {
      if (!s.topics.has(topic)) continue;
      s.socket.write(encodeFrame({ jsonrpc: '2.0', method: 'event', params: { topic, record, missed } }));
      sent++;
    }
    return sent;
  }

  /** Stops listening and drops every client (an agent that dies). */
  async close(): Promise<void> {
    for (const s of this.sessions) s.socket.destroy();
    this.sessions.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private serve(socket: Socket): void {
    const session: FakeSession = { socket, topics: new Set() };
    this.sessions.add(session);
    socket.on('close', () => this.sessions.delete(session));
    socket.on('error', () => undefined);
    const decoder = new LineDecoder();
    let helloDone = false;
    socket.on('data', (chunk: Buffer) => {
      for (const frame of decoder.push(chunk)) {
        if (frame.kind !== 'line') {
          socket.destroy();
          return;
        }
        const msg = JSON.parse(frame.text) as { id: number; method: string; params?: Record<string, unknown> };
        const params = msg.params ?? {};
        this.requests.push({ method: msg.method, params });
        const reply = (body: object) => socket.write(encodeFrame({ jsonrpc: '2.0', id: msg.id, ...body }));
        if (msg.method === 'hello') {
          const wanted = (params.versions as number[]).filter((v) => (this.options.versions ?? [1]).includes(v));
          if (wanted.length === 0) {
            reply({ error: { code: -32000, message: 'no protocol version in common (agent speaks 1)' } });
            socket.end();
            return;
          }
          if (this.options.token !== undefined && params.token !== this.options.token) {
            reply({ error: { code: -32001, message: 'unauthorized: wrong or missing token' } });
            socket.end();
            return;
          }
          helloDone = true;
          reply({ result: { version: Math.max(...wanted), name: 'fake', software: 'loopy-fake 0', methods: ['status'], topics: ['stats', 'flows', 'dns', 'alerts'] } });
          continue;
        }
        if (!helloDone) {
          reply({ error: { code: -32002, message: 'hello first' } });
          continue;
        }
        if (msg.method === 'subscribe' || msg.method === 'unsubscribe') {
          for (const t of params.topics as string[]) {
            if (msg.method === 'subscribe') session.topics.add(t);
            else session.topics.delete(t);
          }
          reply({ result: { topics: [...session.topics] } });
          continue;
        }
        const handler = this.options.handlers?.[msg.method];
        if (!handler) {
          reply({ error: { code: -32601, message: `unknown method ${msg.method}` } });
          continue;
        }
        try {
          reply({ result: handler(params) });
        } catch (err) {
          const e = err as { code?: number; message: string };
          reply({ error: { code: e.code ?? -32603, message: e.message } });
        }
      }
    });
  }
}
