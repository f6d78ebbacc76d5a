/**
 * Per-key detector state with a bound that an attacker cannot turn into blindness. A spoofed flood brings a
 * new key (source, target, client) with nearly every packet: a table that lets new keys wait once it is full
 * stops watching the real scanner that arrives second, and one that takes every key forgets it a fraction of
 * a second later, flushed out by junk. So, as caches built for scan-heavy traffic do (TinyLFU's doorkeeper,
 * CLOCK's second chance):
 * - Below a quarter of its capacity the table takes every key: normal traffic is counted exactly.
 * - Past a quarter, a new key is taken on its second sighting within one to two seconds, told by two
 *   generations of a Bloom filter of recent sightings (2^21 bits each, three hashes, 512 KB allocated the
 *   first time it is needed; the older generation is dropped every `agingSeconds`): a spoofed source that
 *   shows up once costs three bit writes and no state; about 1 % of them pass at 100,000 new keys a second
 *   (8 % at 300,000). A real scanner or flood source, which shows up again at once, loses only its first event.
 * - When full, the key to let go comes from the oldest few: the least hit since it was last considered, never
 *   a key the detector protects (one whose incident is open) while another will do. A hit key gets a second
 *   chance: its hits are halved and it moves to the back.
 * Every decision is counted (`declined`, `evicted`) and shown in the agent's status (`detection.state`).
 */
import { hostKeyHash as hashKey, type HostKey } from './addresses.js';
import { ItemBudget } from './windows.js';

export interface TrackedKeysOptions<S> {
  /** A key whose state must outlive junk (its incident is open): let go only when nothing else can be. */
  protect?: (state: S) => boolean;
  /** Seconds a filter generation lasts (default 1): a first sighting is remembered one to two of them. */
  agingSeconds?: number;
  /** Called for a key let go or deleted: give back what its state holds (e.g. windowed sets' items). */
  release?: (state: S) => void;
  /** Items the states' windowed sets may hold together (`keys.items`); none when absent. */
  items?: number;
}

/** What the agent shows of one table. */
export interface TrackedKeysReport {
  detector: string;
  table: string;
  size: number;
  capacity: number;
  /** New keys not taken (seen once while the table was past a quarter full). */
  declined: number;
  /** Keys let go to make room. */
  evicted: number;
  /** Items held in the states' windowed sets, their limit, and new items not recorded for it. */
  items?: number;
  itemLimit?: number;
  itemsDeclined?: number;
}

interface Entry<S> {
  state: S;
  hits: number;
}

/**
 * Share of the capacity filled without admission: room for every key normal traffic brings, while a flood's
 * junk admitted before the doorkeeper engages stays a small part of the table (it lingers a window).
 */
export const OPEN_SHARE = 0.25;
/** Oldest entries considered when one must go. */
export const EVICTION_SAMPLE = 8;
/** Bits of one filter generation (2^21: 256 KB). */
const FILTER_BITS = 21;
const FILTER_WORDS = (1 << FILTER_BITS) >>> 5;
const FILTER_MASK = (1 << FILTER_BITS) - 1;

export class TrackedKeys<S> {
  private readonly map = new Map<HostKey | string, Entry<S>>();
  private readonly door: Doorkeeper;
  evicted = 0;
  /** The budget of the states' windowed sets (`new WindowedSet(keys.items)`), when `items` was given. */
  readonly items: ItemBudget | undefined;
  /** Keys considered by the last eviction (reused). */
  private readonly looked: Array<HostKey | string> = new Array<HostKey | string>(EVICTION_SAMPLE);
  private readonly weights = new Float64Array(EVICTION_SAMPLE);

  constructor(
    readonly detector: string,
    readonly table: string,
    readonly capacity: number,
    private readonly options: TrackedKeysOptions<S> = {},
  ) {
    this.items = options.items === undefined ? undefined : new ItemBudget(options.items);
    this.door = new Doorkeeper(options.agingSeconds);
  }

  /** New keys not taken (seen once while the table was past a quarter full). */
  get declined(): number {
    return this.door.declined;
  }

  get size(): number {
    return this.map.size;
  }

  /** The key's state, counting a hit (what keeps it when room is short). */
  get(key: HostKey | string): S | undefined {
    const e = this.map.get(key);
    if (e === undefined) return undefined;
    e.hits++;
    return e.state;
  }

  /** The key's state without counting a hit (reports, passes). */
  peek(key: HostKey | string): S | undefined {
    return this.map.get(key)?.state;
  }

  /**
   * Whether a key the table does not hold may be taken now (at `ts`, capture time). Call once per event of
   * an unknown key, then `add` if true: past a quarter full, the first sighting is only remembered.
   */
  admit(key: HostKey | string, ts: number): boolean {
    if (this.map.size < this.capacity * OPEN_SHARE) return true;
    return this.door.admits(hashKey(key), ts);
  }

  /** Takes a new key (after `admit`), letting another go when the table is full. */
  add(key: HostKey | string, state: S): S {
    if (this.map.size >= this.capacity) this.evictOne();
    this.map.set(key, { state, hits: 0 });
    return state;
  }

  delete(key: HostKey | string): void {
    const e = this.map.get(key);
    if (e === undefined) return;
    this.map.delete(key);
    this.options.release?.(e.state);
  }

  /** Every state and its key, oldest first, without an array per entry; deleting the current key is allowed. */
  forEach(fn: (state: S, key: HostKey | string) => void): void {
    this.map.forEach((e, key) => fn(e.state, key));
  }

  report(): TrackedKeysReport {
    const r: TrackedKeysReport = { detector: this.detector, table: this.table, size: this.map.size, capacity: this.capacity, declined: this.declined, evicted: this.evicted };
    if (this.items) Object.assign(r, { items: this.items.used, itemLimit: this.items.limit, itemsDeclined: this.items.declined });
    return r;
  }

  private evictOne(): void {
    const protect = this.options.protect;
    const looked = this.looked;
    let n = 0;
    for (const [key, e] of this.map) {
      if (n >= EVICTION_SAMPLE) break;
      this.weights[n] = protect?.(e.state) ? Infinity : e.hits;
      looked[n++] = key;
    }
    const victim = leastWeighted(this.weights, n);
    if (victim < 0) return;
    this.delete(looked[victim]);
    this.evicted++;
    // Second chance: the others looked at go to the back with half their hits, so the oldest few change.
    for (let i = 0; i < n; i++) {
      if (i === victim) continue;
      const e = this.map.get(looked[i])!;
      this.map.delete(looked[i]);
      e.hits >>= 1;
      this.map.set(looked[i], e);
    }
  }

}

/**
 * The admission filter past a quarter full: two generations of a Bloom filter of recent first sightings
 * (allocated the first time it is asked); a key seen in either is let in, else its sighting is remembered
 * and it is declined.
 */
export class Doorkeeper {
  private current: Uint32Array | undefined;
  private previous: Uint32Array | undefined;
  private nextAging = Number.NaN;
  declined = 0;

  constructor(private readonly agingSeconds = 1) {}

  /** Whether a key of 32-bit hash `h`, unknown to its table, may be taken at `ts` (capture time). */
  admits(h: number, ts: number): boolean {
    this.age(ts);
    const current = (this.current ??= new Uint32Array(FILTER_WORDS));
    const previous = (this.previous ??= new Uint32Array(FILTER_WORDS));
    const a = h & FILTER_MASK;
    const b = (Math.imul(h, 0x9e3779b1) >>> 7) & FILTER_MASK;
    const c = (Math.imul(h ^ (h >>> 15), 0x85ebca6b) >>> 11) & FILTER_MASK;
    if (hasAll(current, a, b, c) || hasAll(previous, a, b, c)) return true;
    current[a >>> 5] |= 1 << (a & 31);
    current[b >>> 5] |= 1 << (b & 31);
    current[c >>> 5] |= 1 << (c & 31);
    this.declined++;
    return false;
  }

  /** A new generation once per period: the older one is forgotten (both after a quiet spell). */
  private age(ts: number): void {
    if (ts < this.nextAging) return;
    const period = this.agingSeconds;
    if (Number.isNaN(this.nextAging) || this.current === undefined || this.previous === undefined) {
      this.nextAging = ts + period;
      return;
    }
    const periods = Math.floor((ts - this.nextAging) / period) + 1;
    this.nextAging += periods * period;
    const older = this.previous;
    this.previous = periods > 1 ? older.fill(0) : this.current;
    this.current = periods > 1 ? this.current.fill(0) : older.fill(0);
  }
}

/** Which of the `n` oldest keys to let go: the least hit, a protected one (weight Infinity) only when all are; the first of equals. -1 for none. */
export function leastWeighted(weights: Float64Array, n: number): number {
  let victim = -1;
  let fewest = Infinity;
  for (let i = 0; i < n; i++) {
    if (victim < 0 || weights[i] < fewest) {
      fewest = weights[i];
      victim = i;
    }
  }
  return victim;
}

function hasAll(bits: Uint32Array, a: number, b: number, c: number): boolean {
  return (bits[a >>> 5] & (1 << (a & 31))) !== 0 && (bits[b >>> 5] & (1 << (b & 31))) !== 0 && (bits[c >>> 5] & (1 << (c & 31))) !== 0;
}
