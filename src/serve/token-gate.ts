/**
 * The TLS listener's bearer-token check: constant-time comparison (of SHA-256 digests, so the lengths are
 * equal and the token's length leaks nothing either), and a pace no amount of parallel tries can beat:
 * - every check takes a slot of a global pace (at most CHECKS_PER_SECOND, whoever asks);
 * - the tries of one address are checked one after the other, each after a delay that grows with that
 *   address's failures, so parallel or pipelined tries from one address wait in line instead of all being
 *   checked at once.
 * A check is made when its turn comes, not when it arrives: a thousand tries at once are a thousand turns.
 * The tables are bounded (the connections waiting for their hello are, and so are the failures kept).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Role } from './roles.js';

export const FIRST_DELAY_MS = 250;
export const MAX_DELAY_MS = 30_000;
/** A failure is forgotten after this long without another from the same address. */
export const FORGET_AFTER_MS = 10 * 60_000;
/** Token checks a second at most, over all addresses: far above a fleet's reconnects, far below guessing. */
export const CHECKS_PER_SECOND = 20;
const MAX_ADDRESSES = 10_000;

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** A token and the role it gives. */
export interface RoleToken {
  token: string;
  role: Role;
}

export class TokenGate {
  private readonly expected: Array<{ digest: Buffer; role: Role }>;
  private readonly failures = new Map<string, { count: number; last: number }>();
  /** The last check queued per address: the next one waits for it. */
  private readonly lines = new Map<string, Promise<unknown>>();
  /** The wall-clock ms the next check of the global pace may run at. */
  private nextSlot = 0;

  /** `tokens`: one string (the operator's token), or tokens with their roles. */
  constructor(
    tokens: string | readonly RoleToken[],
    private readonly nowMs: () => number = Date.now,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {
    const list = typeof tokens === 'string' ? [{ token: tokens, role: 'operator' as const }] : tokens;
    this.expected = list.map((t) => ({ digest: digest(t.token), role: t.role }));
  }

  /** How long the next check from `address` waits for the address's own delay. */
  delayFor(address: string): number {
    const f = this.failures.get(address);
    if (!f) return 0;
    if (this.nowMs() - f.last > FORGET_AFTER_MS) {
      this.failures.delete(address);
      return 0;
    }
    return Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** (f.count - 1));
  }

  /**
   * Waits its turn (after the address's earlier tries, its delay, and a slot of the pace), then checks:
   * the role of the token presented, or undefined when it is none of them.
   */
  check(address: string, presented: string | undefined): Promise<Role | undefined> {
    const before = this.lines.get(address) ?? Promise.resolve();
    const turn = before.then(() => this.checkInTurn(address, presented));
    const settled = turn.catch(() => undefined);
    this.lines.set(address, settled);
    void settled.then(() => {
      if (this.lines.get(address) === settled) this.lines.delete(address);
    });
    return turn;
  }

  private async checkInTurn(address: string, presented: string | undefined): Promise<Role | undefined> {
    const own = this.delayFor(address);
    if (own > 0) await this.sleep(own);
    const now = this.nowMs();
    const slot = Math.max(now, this.nextSlot);
    this.nextSlot = slot + 1000 / CHECKS_PER_SECOND;
    if (slot > now) await this.sleep(slot - now);
    const role = presented === undefined ? undefined : this.roleOf(digest(presented));
    if (role !== undefined) this.failures.delete(address);
    else this.recordFailure(address);
    return role;
  }

  /** Compared with every token, in constant time each, whichever matches (no early exit). */
  private roleOf(presented: Buffer): Role | undefined {
    let role: Role | undefined;
    for (const t of this.expected) if (timingSafeEqual(presented, t.digest) && role === undefined) role = t.role;
    return role;
  }

  private recordFailure(address: string): void {
    const f = this.failures.get(address);
    if (f) {
      f.count++;
      f.last = this.nowMs();
      return;
    }
    if (this.failures.size >= MAX_ADDRESSES) this.failures.delete(this.failures.keys().next().value!);
    this.failures.set(address, { count: 1, last: this.nowMs() });
  }
}
