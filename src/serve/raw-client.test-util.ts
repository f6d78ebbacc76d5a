/**
 * A tiny protocol client for the server's tests, written against the wire (not src/client): it sends lines
 * and collects every line it gets back, split into replies (by id) and events.
 */
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';

export interface Reply {
  id: unknown;
  result?: unknown;
  error?: { code: number; message: string; data?: unknown };
}

export class RawClient {
  readonly lines: Array<Record<string, unknown>> = [];
  readonly events: Array<{ topic: string; missed: number; record: Record<string, unknown>; at: number }> = [];
  closed = false;
  /** Keep only type/ts/uid of event records (tests that flood must not hold the flood themselves). */
  slim = false;
  private buffer = '';
  private nextId = 1;
  private waiters: Array<() => void> = [];

  constructor(readonly socket: Duplex) {
    socket.setEncoding?.('utf8');
    socket.on('data', (text: string | Buffer) => {
      this.buffer += text.toString();
      let nl;
      while ((nl = this.buffer.indexOf('\n')) >= 0) {
        const line = this.buffer.slice(0, nl);
        this.buffer = this.buffer.slice(nl + 1);
        const msg = JSON.parse(line) as Record<string, unknown>;
        if (msg.method === 'event') {
          const p = msg.params as { topic: string; missed: number; record: Record<string, unknown> };
          const record = this.slim ? { type: p.record.type, ts: p.record.ts, uid: p.record.uid } : p.record;
          this.events.push({ topic: p.topic, missed: p.missed, record, at: performance.now() });
          if (this.slim) continue;
        }
        this.lines.push(msg);
      }
      this.wake();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  static unix(path: string): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = netConnect(path, () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }

  /** TLS without CA checks (self-signed); the fingerprint is read by the caller from `peerFingerprint`. */
  static tls(port: number, host = '127.0.0.1'): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = tlsConnect({ port, host, rejectUnauthorized: false }, () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }

  get peerFingerprint(): string {
    return (this.socket as TLSSocket).getPeerCertificate().fingerprint256;
  }

  send(text: string): void {
    this.socket.write(text);
  }

  /** Sends a request and waits for the reply with its id. */
  async request(method: string, params?: unknown): Promise<Reply> {
    const id = this.nextId++;
    this.send(`${JSON.stringify(params === undefined ? { jsonrpc: '2.0', id, method } : { jsonrpc: '2.0', id, method, params })}\n`);
    await this.until(() => this.lines.some((l) => l.id === id) || this.closed);
    const reply = this.lines.find((l) => l.id === id);
    if (!reply) throw new Error(`closed before the reply to ${method}`);
    return reply as unknown as Reply;
  }

  hello(extra: Record<string, unknown> = {}): Promise<Reply> {
    return this.request('hello', { versions: [1], client: { name: 'raw-test', version: '0' }, ...extra });
  }

  /** Resolves when `condition` holds (checked on every line and on close). */
  until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
    if (condition()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting on the agent; last lines: ${JSON.stringify(this.lines.slice(-3)).replace(/x{20,}/g, "x…")}; events ${this.events.length}`)), timeoutMs);
      const check = () => {
        if (!condition()) return this.waiters.push(check);
        clearTimeout(timer);
        resolve();
      };
      this.waiters.push(check);
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}
