/**
 * Suppressions: "no more of these" by detector and/or source/destination and/or the systemd unit or
 * container of the process behind the alert (the process detectors'), until an expiry (capture time).
 * Come from the config at start and from the UI while running (one key press), so they have ids.
 */
import { AddressSet } from './addresses.js';

export interface SuppressionRule {
  detector?: string;
  /** An address or CIDR. */
  src?: string;
  dst?: string;
  /** A unit as process attribution names it (`nginx.service`, `docker:0123456789ab`): exact. */
  unit?: string;
  /** Capture time (seconds since the epoch) the rule ends; absent = never. */
  until?: number;
  reason?: string;
}

export interface Suppression extends SuppressionRule {
  id: number;
  /** Alerts it kept quiet. */
  hits: number;
}

/** What a rule is matched against: the alert's detector, addresses and unit. */
export interface AlertSubject {
  detector: string;
  src?: string;
  dst?: string;
  unit?: string;
}

interface Compiled {
  rule: Suppression;
  src?: AddressSet;
  dst?: AddressSet;
}

export class Suppressions {
  private rules: Compiled[] = [];
  private nextId = 1;

  /** Adds a rule; throws when src/dst is not an address or CIDR. Returns its id. */
  add(rule: SuppressionRule): number {
    const s: Suppression = { ...rule, id: this.nextId++, hits: 0 };
    this.rules.push({ rule: s, src: rule.src ? AddressSet.of([rule.src]) : undefined, dst: rule.dst ? AddressSet.of([rule.dst]) : undefined });
    return s.id;
  }

  remove(id: number): boolean {
    const before = this.rules.length;
    this.rules = this.rules.filter((c) => c.rule.id !== id);
    return this.rules.length !== before;
  }

  list(): Suppression[] {
    return this.rules.map((c) => ({ ...c.rule }));
  }

  /** Drops rules whose time is up. */
  expire(now: number): Suppression[] {
    const gone = this.rules.filter((c) => c.rule.until !== undefined && c.rule.until <= now);
    if (gone.length) this.rules = this.rules.filter((c) => !gone.includes(c));
    return gone.map((c) => c.rule);
  }

  /** The rule that silences this alert at `now`, if any (and counts the hit). */
  match(alert: AlertSubject, now: number, countHit = true): Suppression | undefined {
    const { detector, src, dst } = alert;
    for (const c of this.rules) {
      const r = c.rule;
      if (r.until !== undefined && r.until <= now) continue;
      if (r.detector !== undefined && r.detector !== detector) continue;
      if (r.unit !== undefined && r.unit !== alert.unit) continue;
      if (c.src && (src === undefined || !c.src.containsText(src))) continue;
      if (c.dst && (dst === undefined || !c.dst.containsText(dst))) continue;
      if (countHit) r.hits++;
      return r;
    }
    return undefined;
  }
}
