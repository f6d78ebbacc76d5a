/**
 * Fakes for driving the agent runtime in tests: a clock that moves only when told, a capture source fed
 * batch by batch, privilege calls that are only recorded, a process whose CPU time is scripted.
 */
import { Writable } from 'node:stream';
import type { PacketBatch } from '../capture/batch.js';
import type { AgentClock } from './clock.js';
import type { CaptureRequest, CaptureSource, InterfaceStats } from './capture-source.js';
import { type AgentLogger, createAgentLogger } from './logger.js';
import type { PrivilegeOps } from './privileges.js';

export class FakeClock implements AgentClock {
  private readonly timers = new Set<() => void>();
  constructor(public t: number) {}
  now(): number {
    return this.t;
  }
  every(_seconds: number, fn: () => void): () => void {
    this.timers.add(fn);
    return () => this.timers.delete(fn);
  }
  /** One second passes: every periodic call runs once. */
  tick(): void {
    this.t += 1;
    for (const fn of [...this.timers]) fn();
  }
  get pending(): number {
    return this.timers.size;
  }
}

export class FakeSource implements CaptureSource {
  readonly warnings: string[] = [];
  readonly interfaces: string[];
  counters = { received: 0, dropped: 0, ifDropped: 0, addonDropped: 0 };
  requests: CaptureRequest[] = [];
  filters: Array<string | undefined> = [];
  setFilter?: (expression: string | undefined) => void;
  private readonly queue: PacketBatch[] = [];
  private failure: Error | undefined;
  private closed = false;
  private wake: (() => void) | undefined;
  private idleWaiters: Array<() => void> = [];

  constructor(
    readonly kind: 'live' | 'replay' = 'live',
    options: { canSetFilter?: boolean; interfaces?: string[] } = {},
  ) {
    this.interfaces = options.interfaces ?? ['fake0'];
    if (options.canSetFilter) this.setFilter = (e) => void this.filters.push(e);
  }

  factory = (request: CaptureRequest): CaptureSource => {
    this.requests.push(request);
    return this;
  };

  push(batch: PacketBatch): void {
    this.queue.push(batch);
    this.notify();
  }

  fail(err: Error): void {
    this.failure = err;
    this.notify();
  }

  stats(): InterfaceStats[] {
    return this.interfaces.map((name) => ({ interface: name, ...this.counters }));
  }

  close(): void {
    this.closed = true;
    this.notify();
  }

  /** Resolves once the consumer has taken every queued batch and is waiting for the next one. */
  idle(): Promise<void> {
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<PacketBatch> {
    for (;;) {
      const batch = this.queue.shift();
      if (batch) {
        yield batch;
        continue;
      }
      if (this.failure) throw this.failure;
      if (this.closed) return;
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }
}

/**
 * Privilege calls recorded, never made. "nobody" is the real nobody's ids when the test runs as root, else
 * the current user's (the data directory is chowned to it, which only root may do for another user).
 */
export function fakeRootPrivileges(calls: string[]): PrivilegeOps {
  let uid = 0;
  const realRoot = process.getuid?.() === 0;
  const me = realRoot ? { uid: 65534, gid: 65534 } : { uid: process.getuid?.() ?? 1000, gid: process.getgid?.() ?? 1000 };
  return {
    geteuid: () => uid,
    getuid: () => uid,
    setgroups: (g) => void calls.push(`setgroups(${JSON.stringify(g)})`),
    setgid: (g) => void calls.push(`setgid(${g})`),
    setuid: (u) => {
      calls.push(`setuid(${u})`);
      if (uid !== 0) throw new Error('EPERM');
      uid = u;
    },
    lookupUser: (name) => (name === 'nobody' ? { name, ...me } : undefined),
    effectiveCaps: () => undefined,
  };
}

/** A logger whose JSON lines land in `lines`. */
export function memoryLogger(lines: Array<Record<string, unknown>>): AgentLogger {
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return createAgentLogger({ stream, level: 'debug' });
}

export class TextSink extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
  records(): Array<Record<string, unknown>> {
    return this.text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
  }
}
