/** Sliding-window counting for detectors, in capture time. */

/**
 * Items a detector may hold in all of its windowed sets together: past it, new items are not recorded
 * (counted in `declined`), so that many sources probing many ports or hosts cannot grow detection without end.
 */
export class ItemBudget {
  used = 0;
  declined = 0;

  constructor(readonly limit: number) {}
}

/** Distinct items seen in the last `window` seconds: each item with the time it was last seen. */
export class WindowedSet<K> {
  private readonly seen = new Map<K, number>();

  constructor(private readonly budget?: ItemBudget) {}

  get size(): number {
    return this.seen.size;
  }

  /** False when the item is new and the budget is spent (nothing recorded). */
  add(item: K, ts: number): boolean {
    // Re-inserting moves the item to the end, so the map stays in last-seen order and pruning stops early.
    if (this.seen.has(item)) this.seen.delete(item);
    else if (this.budget !== undefined) {
      if (this.budget.used >= this.budget.limit) {
        this.budget.declined++;
        return false;
      }
      this.budget.used++;
    }
    this.seen.set(item, ts);
    return true;
  }

  has(item: K): boolean {
    return this.seen.has(item);
  }

  /** Forgets items last seen before `since`. */
  prune(since: number): void {
    for (const [item, ts] of this.seen) {
      if (ts >= since) break;
      this.seen.delete(item);
      if (this.budget !== undefined) this.budget.used--;
    }
  }

  /** Forgets everything (the owner is let go): the items go back to the budget. */
  clear(): void {
    if (this.budget !== undefined) this.budget.used -= this.seen.size;
    this.seen.clear();
  }

  /** When the least recently seen item was last seen (NaN when empty): the window's start of activity. */
  oldest(): number {
    for (const ts of this.seen.values()) return ts;
    return Number.NaN;
  }

  keys(): IterableIterator<K> {
    return this.seen.keys();
  }
}

/** The set's oldest time, or `empty` when it holds nothing. */
export function oldestOr<K>(set: WindowedSet<K>, empty: number): number {
  return set.size === 0 ? empty : set.oldest();
}

/**
 * Events per sliding window with two tumbling buckets (the previous window weighted by how much of it still
 * overlaps): constant memory, no allocation per event, within one bucket of the exact count.
 */
export class SlidingCounter {
  private start = Number.NaN;
  private current = 0;
  private previous = 0;

  constructor(private readonly window: number) {}

  add(ts: number, n = 1): void {
    this.roll(ts);
    this.current += n;
  }

  /** At least value(now) for any now: both buckets in full (a cheap test before the exact estimate). */
  upperBound(): number {
    return this.current + this.previous;
  }

  /** The estimated count over the window ending at `now`. */
  value(now: number): number {
    this.roll(now);
    const overlap = 1 - (now - this.start) / this.window;
    return this.current + this.previous * (overlap > 0 ? overlap : 0);
  }

  private roll(now: number): void {
    if (Number.isNaN(this.start)) {
      this.start = now;
      return;
    }
    const elapsed = now - this.start;
    if (elapsed < this.window) return;
    if (elapsed < 2 * this.window) {
      this.previous = this.current;
      this.start += this.window;
    } else {
      this.previous = 0;
      this.start = now;
    }
    this.current = 0;
  }
}

/**
 * A decayed count of distinct things (the slow scan rules): each new one adds 1, the count halves every
 * `halfLife` seconds. A scan at any steady pace levels off at its rate × halfLife / ln 2, so a careful
 * scanner's 20 ports or hosts over minutes add up, and a trickle of failures now and then never does.
 */
export class DecayedCount {
  private count = 0;
  private at = Number.NEGATIVE_INFINITY;

  /** Adds one at `ts` (an older `ts` counts as the latest seen: events may come a little out of order). */
  add(ts: number, halfLife: number): number {
    const when = Math.max(ts, this.at);
    this.count = this.at === Number.NEGATIVE_INFINITY ? 1 : this.count * 2 ** ((this.at - when) / halfLife) + 1;
    this.at = when;
    return this.count;
  }

  get value(): number {
    return this.count;
  }
}

/** " in 9.5 s (2.1 ports/s)", " in 4 min (3.5 hosts/min)", " at once" (a burst within a millisecond). */
export function formatPace(duration: number, perSecond: number, unit: string): string {
  if (duration < 0.001) return ' at once';
  const rate = perSecond >= 1 ? `${Math.round(perSecond * 10) / 10} ${unit}/s` : `${Math.round(perSecond * 600) / 10} ${unit}/min`;
  return ` in ${formatDuration(duration)} (${rate})`;
}

/** "30 ms", "1.4 s", "12 min": a duration for an alert message (a flood can be over in milliseconds). */
export function formatDuration(seconds: number): string {
  if (seconds < 0.95) return `${Math.max(0, Math.round(seconds * 1000))} ms`;
  if (seconds < 10) return `${Math.round(seconds * 10) / 10} s`;
  if (seconds < 120) return `${Math.round(seconds)} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds / 360) / 10} h`;
}

/**
 * Events a second over an incident, as measured: everything over its duration (1,000 packets in 30 ms is
 * 33,000/s, not the window's 1,000 / 2 s). The windows' peaks are estimates from two buckets, and detectors
 * that learn an outcome a second late see bunched times: the alert's counters keep those, the message the
 * measured rate.
 */
export function incidentRate(total: number, duration: number): number {
  return total / Math.max(duration, 0.001);
}

/** "48.2 MB/s": a byte rate for an alert message (decimal units, as network rates are quoted). */
export function formatRate(bytesPerSecond: number): string {
  return `${formatBytes(bytesPerSecond)}/s`;
}

/** "1.2 GB": an amount of bytes for an alert message (decimal units). */
export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = bytes;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v < 100 && u > 0 ? v.toFixed(1) : Math.round(v)} ${units[u]}`;
}

/**
 * Whether a detector's periodic pass over its keys has anything to do. A pass re-raises what changed in an
 * open incident and forgets (or prunes) the keys whose time (last activity, last pruning, oldest item) is
 * older than its horizon (now - window). Those times only move forward, so the earliest of them — each new
 * key's, and each key a running pass keeps — tells when a pass would change nothing, and such a pass is
 * skipped: with no incident open and nothing that old, a second costs nothing however many keys are
 * followed. Times, not due times, are kept, so a reloaded window applies at once.
 */
export class PassSchedule {
  private earliest = Number.NEGATIVE_INFINITY;
  /** Incidents open among the keys (their changes go out at each pass). */
  open = 0;

  /** A key's time: a new key's, each key a running pass keeps, any that may have moved back. */
  keep(t: number): void {
    if (t < this.earliest) this.earliest = t;
  }

  /**
   * Whether the pass runs, keys with times up to `horizon` being due (with a millisecond to spare, so that no
   * rounding of the pass's own comparisons skips one that was due); when it does, it keeps every key it keeps.
   */
  runs(horizon: number): boolean {
    if (this.open === 0 && this.earliest > horizon + 1e-3) return false;
    this.earliest = Number.POSITIVE_INFINITY;
    return true;
  }
}

/** What `secondForSources` needs of a per-source incident state. */
export interface WindowedSource {
  last: number;
  pruned: number;
  fired: boolean;
  changed: boolean;
}

/**
 * The once-a-second pass shared by the per-source detectors (port scan, host sweep): re-raise what changed
 * since the last raise, forget sources quiet for a whole window, and prune each source's windows once per
 * window (pruning every source every second costs more than the rest of detection). Skipped when the
 * schedule says nothing is due: the detector keeps each new source's time and counts its open incidents.
 */
export function secondForSources<S extends WindowedSource, K>(
  sources: { forEach(fn: (source: S, key: K) => void): void; delete(key: K): void },
  schedule: PassSchedule,
  now: number,
  window: number,
  raise: (src: S, ts: number) => void,
  prune: (src: S, since: number) => void,
): void {
  const since = now - window;
  if (!schedule.runs(since)) return;
  sources.forEach((src, key) => {
    // What happened since the last raise goes out before the window forgets it.
    if (src.fired && src.changed) {
      src.changed = false;
      raise(src, src.last);
    }
    if (src.last < since) {
      sources.delete(key);
      return;
    }
    if (now - src.pruned >= window) {
      src.pruned = now;
      prune(src, since);
    }
    schedule.keep(Math.min(src.last, src.pruned));
  });
}
