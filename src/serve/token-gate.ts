/**
 * The TLS listener's bearer-token check: constant-time comparison (of SHA-256 digests, so the lengths are
 * equal and the token's length leaks nothing either), and a delay that grows with each failure from one
 * address, so guessing costs time. The table of addresses is bounded: a flood of sources cannot grow it.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

export const FIRST_DELAY_MS = 250;
export const MAX_DELAY_MS = 30_000;
/** A failure is forgotten after this long without another from the same address. */
export const FORGET_AFTER_MS = 10 * 60_000;
const MAX_ADDRESSES = 10_000;

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

export class TokenGate {
  private readonly expected: Buffer;
  private readonly failures = new Map<string, { count: number; last: number }>();

  constructor(
    token: string,
    private readonly nowMs: () => number = Date.now,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {
    this.expected = digest(token);
  }

  /** How long the next attempt from `address` waits before it is answered. */
  delayFor(address: string): number {
    const f = this.failures.get(address);
    if (!f) return 0;
    if (this.nowMs() - f.last > FORGET_AFTER_MS) {
      this.failures.delete(address);
      return 0;
    }
    return Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** (f.count - 1));
  }

  /** Waits the address's delay, then says whether `presented` is the token (and records the outcome). */
  async check(address: string, presented: string | undefined): Promise<boolean> {
    const wait = this.delayFor(address);
    if (wait > 0) await this.sleep(wait);
    const ok = presented !== undefined && timingSafeEqual(digest(presented), this.expected);
    if (ok) {
      this.failures.delete(address);
      return true;
    }
    const f = this.failures.get(address);
    if (f) {
      f.count++;
      f.last = this.nowMs();
    } else {
      if (this.failures.size >= MAX_ADDRESSES) this.failures.delete(this.failures.keys().next().value!);
      this.failures.set(address, { count: 1, last: this.nowMs() });
    }
    return false;
  }
}
