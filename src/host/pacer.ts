/**
 * A periodic task allowed at most a share of the time: after a run that took C ms, the next is due no
 * sooner than max(minMs, C / share) later (and no later than maxMs, when given: one costly run does not
 * stall the task; the share then holds while such runs are rare). What keeps the attribution's cost bounded when the work grows
 * with the host (a kernel table walked whole, thousands of TIME_WAIT sockets, a busy process's descriptors).
 */
export class Pacer {
  private next = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly minMs: number,
    private readonly share: number,
    private readonly maxMs = Number.POSITIVE_INFINITY,
  ) {}

  /** Milliseconds, on the clock `ran` was given. */
  get nextAt(): number {
    return this.next;
  }

  due(now: number): boolean {
    return now >= this.next;
  }

  ran(start: number, costMs: number): void {
    this.next = start + Math.min(this.maxMs, Math.max(this.minMs, costMs / this.share));
  }
}
