/**
 * A periodic task allowed at most a share of the time, as a token bucket: time earns `share` ms of work
 * per ms, up to `burstMs` saved; a run spends what it cost. After a run the next is due no sooner than
 * `minMs` later, nor before the debt is paid (and no later than `maxMs`, when given: one costly run does
 * not stall the task; the share then holds while such runs are rare). What keeps the attribution's cost
 * bounded when the work grows with the host (a kernel table walked whole, thousands of TIME_WAIT sockets,
 * a busy process's descriptors) while a quiet host's occasional costly poll waits for nothing.
 */
export class Pacer {
  private next = Number.NEGATIVE_INFINITY;
  private last = Number.NEGATIVE_INFINITY;
  private saved = 0;

  constructor(
    private readonly minMs: number,
    private readonly share: number,
    private readonly limits: { burstMs?: number; maxMs?: number } = {},
  ) {
    this.saved = limits.burstMs ?? 0;
  }

  /** Milliseconds, on the clock `ran` was given. */
  get nextAt(): number {
    return this.next;
  }

  due(now: number): boolean {
    return now >= this.next;
  }

  ran(start: number, costMs: number): void {
    const earned = Number.isFinite(this.last) ? (start - this.last) * this.share : 0;
    this.saved = Math.min(this.limits.burstMs ?? 0, this.saved + earned) - costMs;
    this.last = start;
    const pause = this.saved < 0 ? -this.saved / this.share : 0;
    this.next = start + Math.min(this.limits.maxMs ?? Number.POSITIVE_INFINITY, Math.max(this.minMs, pause));
  }
}
