/**
 * JSON-RPC 2.0 over newline-delimited JSON on one Duplex (docs/protocol.md): requests carry ids and a timeout,
 * responses settle them, notifications go to one handler. Inbound lines are checked for shape before use;
 * a line that is not JSON-RPC closes the connection (the agent is broken or it is not an agent).
 */
import type { Duplex } from 'node:stream';

/** A reply bigger than this is refused: a history query's answer is bounded by --limit. */
export const MAX_INBOUND_LINE = 64 * 1024 * 1024;

/** An error reply from the agent, with its JSON-RPC code (and the agent's stable code in data, if any). */
export class RpcError extends Error {
  constructor(message: string, readonly rpcCode: number, readonly data?: unknown) {
    super(message);
  }
}

/** The connection went away before the reply came. */
export class ConnectionLostError extends Error {
  readonly code = 'LOOPY_CONNECTION_LOST';
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
  method: string;
}

export type NotificationHandler = (method: string, params: unknown) => void;

export class RpcConnection {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private buffered: string[] = [];
  private bufferedBytes = 0;
  private closedWith: Error | undefined;
  private readonly closeListeners: Array<(err: Error) => void> = [];

  constructor(
    private readonly stream: Duplex,
    private readonly onNotification: NotificationHandler,
    private readonly describeClose: () => string | undefined = () => undefined,
  ) {
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => this.receive(chunk));
    stream.on('error', (err) => this.shutdown(new ConnectionLostError(this.describeClose() ?? err.message)));
    stream.on('close', () => this.shutdown(new ConnectionLostError(this.describeClose() ?? 'the agent closed the connection')));
    stream.on('end', () => this.shutdown(new ConnectionLostError(this.describeClose() ?? 'the agent closed the connection')));
  }

  get closed(): boolean {
    return this.closedWith !== undefined;
  }

  onClose(listener: (err: Error) => void): void {
    if (this.closedWith) listener(this.closedWith);
    else this.closeListeners.push(listener);
  }

  request(method: string, params: unknown, timeoutMs: number): Promise<unknown> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`no reply to ${method} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer, method });
      this.stream.write(`${JSON.stringify({ jsonrpc: '2.0', id, method, params })}\n`);
    });
  }

  /** Closes the connection; pending requests fail with `reason`. */
  close(reason = 'closed by the client'): void {
    this.shutdown(new ConnectionLostError(reason));
    this.stream.destroy();
  }

  private receive(chunk: string): void {
    let start = 0;
    for (let nl = chunk.indexOf('\n'); nl >= 0; nl = chunk.indexOf('\n', start)) {
      let line = chunk.slice(start, nl);
      start = nl + 1;
      if (this.buffered.length > 0) {
        this.buffered.push(line);
        line = this.buffered.join('');
        this.buffered = [];
        this.bufferedBytes = 0;
      }
      if (line.trim() !== '') this.handleLine(line);
      if (this.closedWith) return;
    }
    if (start < chunk.length) {
      this.buffered.push(chunk.slice(start));
      this.bufferedBytes += chunk.length - start;
      if (this.bufferedBytes > MAX_INBOUND_LINE) this.fail(`the agent sent a message over ${MAX_INBOUND_LINE} bytes`);
    }
  }

  private handleLine(line: string): void {
    let msg: unknown;
    try {
      msg = JSON.parse(line);
    } catch {
      this.fail('the agent sent a line that is not JSON (is this a loopy agent?)');
      return;
    }
    if (typeof msg !== 'object' || msg === null || (msg as { jsonrpc?: unknown }).jsonrpc !== '2.0') {
      this.fail('the agent sent a message that is not JSON-RPC 2.0 (is this a loopy agent?)');
      return;
    }
    const m = msg as { id?: unknown; method?: unknown; params?: unknown; result?: unknown; error?: unknown };
    if (typeof m.method === 'string' && m.id === undefined) {
      this.onNotification(m.method, m.params);
      return;
    }
    if (typeof m.id !== 'number') return; // A reply to nothing we sent (e.g. an error about garbage): ignore.
    const pending = this.pending.get(m.id);
    if (!pending) return;
    this.pending.delete(m.id);
    clearTimeout(pending.timer);
    if (m.error !== undefined) {
      const e = m.error as { code?: unknown; message?: unknown; data?: unknown };
      const text = typeof e?.message === 'string' ? e.message : 'error';
      pending.reject(new RpcError(`${pending.method}: ${text}`, typeof e?.code === 'number' ? e.code : -32603, e?.data));
    } else {
      pending.resolve(m.result);
    }
  }

  private fail(reason: string): void {
    this.shutdown(new ConnectionLostError(reason));
    this.stream.destroy();
  }

  private shutdown(err: Error): void {
    if (this.closedWith) return;
    this.closedWith = err;
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.pending.clear();
    for (const l of this.closeListeners.splice(0)) l(err);
  }
}
