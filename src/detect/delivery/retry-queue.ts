/**
 * A bounded, never-blocking delivery queue: `push` returns at once; items go out one at a time (in order)
 * through an async `send`; a failure is retried with exponential backoff (delay, 2×delay, ... up to a cap)
 * until the attempts run out or the failure is permanent; a receiver that says when to come back
 * (RetryLaterError) is taken at its word. When the queue is full the oldest item is
 * dropped and counted, so a dead receiver costs bounded memory and never slows capture. Timers are injected.
 */
import type { AlertRecord } from '../../analyze/records.js';

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realTimers: Timers = {
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    // A pending retry must not keep the process alive on its own: close() decides how long to wait.
    t.unref?.();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** A failure whose receiver said when to try again (HTTP 429 or 503 with Retry-After): that wait, not the backoff. */
export class RetryLaterError extends Error {
  constructor(
    message: string,
    readonly retryAfterMs: number,
  ) {
    super(message);
  }
}

/** A failure that retrying will not fix (HTTP 400, 404...). */
export class PermanentDeliveryError extends Error {
  readonly permanent = true;
}

export interface RetryQueueOptions<T> {
  send: (item: T) => Promise<void>;
  /** Attempts per item, the first included. */
  attempts: number;
  retryDelayMs: number;
  maxDelayMs: number;
  maxQueue: number;
  timers?: Timers;
  /** Told about each item given up on (for a log line). */
  onGiveUp?: (item: T, error: Error, reason: 'attempts' | 'permanent' | 'queue_full' | 'closed') => void;
}

export interface DeliveryStats {
  queued: number;
  sent: number;
  retries: number;
  /** Items given up on after their attempts or a permanent error. */
  failed: number;
  /** Items dropped because the queue was full (or still queued at close). */
  dropped: number;
  lastError?: string;
}

export class RetryQueue<T> {
  private readonly items: T[] = [];
  private attempt = 0;
  private running = false;
  private closed = false;
  private timer: unknown;
  private wakeRetry: (() => void) | undefined;
  private idle: Array<() => void> = [];
  private readonly timers: Timers;
  readonly stats: DeliveryStats = { queued: 0, sent: 0, retries: 0, failed: 0, dropped: 0 };

  constructor(private readonly options: RetryQueueOptions<T>) {
    this.timers = options.timers ?? realTimers;
  }

  get size(): number {
    return this.items.length;
  }

  push(item: T): void {
    if (this.closed) {
      this.stats.dropped++;
      this.options.onGiveUp?.(item, new Error('delivery closed'), 'closed');
      return;
    }
    if (this.items.length >= this.options.maxQueue) {
      // Drop the oldest waiting item, never the one being sent (index 0 while running).
      const victim = this.items.splice(this.running && this.items.length > 1 ? 1 : 0, 1)[0];
      this.stats.dropped++;
      this.options.onGiveUp?.(victim, new Error('queue full'), 'queue_full');
    }
    this.items.push(item);
    this.stats.queued = this.items.length;
    if (!this.running) void this.pump();
  }

  /** Delay before retry number `retry` (1-based): retryDelayMs × 2^(retry-1), capped. */
  delayFor(retry: number): number {
    return Math.min(this.options.maxDelayMs, this.options.retryDelayMs * 2 ** (retry - 1));
  }

  private async pump(): Promise<void> {
    this.running = true;
    while (this.items.length > 0) {
      const item = this.items[0];
      try {
        await this.options.send(item);
        this.stats.sent++;
        this.done();
        continue;
      } catch (err) {
        const error = err instanceof Error ? err : new Error(String(err));
        this.stats.lastError = error.message;
        this.attempt++;
        const permanent = (error as { permanent?: boolean }).permanent === true;
        if (permanent || this.attempt >= this.options.attempts || this.closed) {
          this.stats.failed++;
          this.options.onGiveUp?.(item, error, permanent ? 'permanent' : this.closed ? 'closed' : 'attempts');
          this.done();
          continue;
        }
        this.stats.retries++;
        await new Promise<void>((resolve) => {
          this.wakeRetry = resolve;
          const delay = error instanceof RetryLaterError ? error.retryAfterMs : this.delayFor(this.attempt);
          this.timer = this.timers.setTimeout(resolve, delay);
        });
        this.wakeRetry = undefined;
      }
    }
    this.running = false;
    for (const resolve of this.idle.splice(0)) resolve();
  }

  private done(): void {
    this.items.shift();
    this.attempt = 0;
    this.stats.queued = this.items.length;
  }

  /**
   * Stops taking items and waits for the queue to empty, at most `deadlineMs`; what is left is dropped.
   * A retry waiting on its backoff is tried once more at once.
   */
  async close(deadlineMs = 5000): Promise<void> {
    this.closed = true;
    if (this.timer !== undefined && this.wakeRetry) {
      this.timers.clearTimeout(this.timer);
      this.wakeRetry();
    }
    if (!this.running) return;
    let deadline: unknown;
    await Promise.race([
      new Promise<void>((resolve) => this.idle.push(resolve)),
      new Promise<void>((resolve) => {
        deadline = this.timers.setTimeout(resolve, deadlineMs);
      }),
    ]);
    this.timers.clearTimeout(deadline);
    const left = this.items.splice(this.running ? 1 : 0);
    this.stats.dropped += left.length;
    this.stats.queued = this.items.length;
  }
}

/** The retry settings both alert deliveries (webhook, syslog) take from their config. */
export interface RetrySettings {
  attempts: number;
  retryDelayMs: number;
  maxDelayMs: number;
  maxQueue: number;
}

/**
 * What webhook and syslog share: the alert states the target wants, and a retry queue set up from its config.
 * A delivery extends it with how one alert is sent.
 */
export class AlertDelivery {
  private readonly states: Set<string>;
  private readonly queue: RetryQueue<AlertRecord>;

  constructor(
    cfg: RetrySettings & { states: readonly string[] },
    send: (alert: AlertRecord) => Promise<void>,
    timers?: Timers,
    onGiveUp?: (alert: AlertRecord, error: Error) => void,
  ) {
    this.states = new Set(cfg.states);
    this.queue = new RetryQueue<AlertRecord>({
      send,
      attempts: cfg.attempts,
      retryDelayMs: cfg.retryDelayMs,
      maxDelayMs: cfg.maxDelayMs,
      maxQueue: cfg.maxQueue,
      timers,
      onGiveUp: onGiveUp ? (alert, error) => onGiveUp(alert, error) : undefined,
    });
  }

  /** Queues the alert (when its state is wanted) and returns at once. */
  deliver(alert: AlertRecord): void {
    if (this.states.has(alert.state)) this.queue.push(alert);
  }

  get stats(): DeliveryStats {
    return this.queue.stats;
  }

  /** Waits (at most `deadlineMs`) for what is queued to go out. */
  close(deadlineMs?: number): Promise<void> {
    return this.queue.close(deadlineMs);
  }
}
