/**
 * TrackedKeys' bound (the same admission from a quarter full, the same eviction from the oldest few with a
 * second chance, the same counts reported) for state kept in typed arrays by slot, for the detectors whose
 * events are many and whose keys are numbers. A TrackedKeys entry is a Map bucket, its entry and the state
 * object: three objects cold between two events of one key, plus whatever the state points to. Here a key
 * is two 32-bit numbers (a hash and a check) in an open-addressing index (linear probing, 16 bytes an
 * entry, four to a cache line), and its slot's row holds the table's own fields (hits, place in the age
 * order, the key) beside the detector's numbers: a hit reads one index line and one row.
 * Rows grow by doubling up to the capacity; a slot let go is reused by the next new key.
 */
import { mix32 } from '../analyze/mix32.js';
import { Doorkeeper, EVICTION_SAMPLE, OPEN_SHARE, leastWeighted, type TrackedKeysReport } from './tracked-keys.js';

export interface SlotTableOptions {
  /** Numbers each slot's row holds for the detector, from `SLOT_FIELDS` on. */
  fields: number;
  /** A slot whose state must outlive junk (its incident is open): let go only when nothing else can be. */
  protect?: (slot: number) => boolean;
  /** Called for a slot let go or deleted, before it is reused: drop what the detector keeps for it elsewhere. */
  release?: (slot: number) => void;
  /** Called when slots up to `slots` (exclusive) may be used: grow the detector's other per-slot columns. */
  grow?: (slots: number) => void;
  /** Seconds a doorkeeper generation lasts (default 1). */
  agingSeconds?: number;
}

/** The table's own fields in a row: hits since last considered for eviction, the age order's links, the key. */
const HITS = 0;
const OLDER = 1;
const NEWER = 2;
const KEY = 3;
const CHECK = 4;
/** A detector's first field in a row. */
export const SLOT_FIELDS = 5;
/** Slots made room for at first. */
const FIRST_SLOTS = 256;
const NONE = -1;

export class SlotTable {
  /** Every slot's row, `stride` numbers each: the table's fields, then the detector's. `add` may replace it: read it after. */
  rows: Float64Array;
  readonly stride: number;
  /** Index entries: key, check, slot + 1 (0: empty), unused. */
  private index: Int32Array;
  private mask: number;
  /** Slots rows have room for, and slots ever used. */
  private room: number;
  private made = 0;
  private freeSlots: Int32Array;
  private freeCount = 0;
  private oldest = NONE;
  private newest = NONE;
  size = 0;
  evicted = 0;
  private readonly door: Doorkeeper;
  private readonly looked = new Int32Array(EVICTION_SAMPLE);
  private readonly weights = new Float64Array(EVICTION_SAMPLE);

  constructor(
    readonly detector: string,
    readonly table: string,
    readonly capacity: number,
    private readonly options: SlotTableOptions,
  ) {
    // Rows a whole number of cache lines (8 numbers), so a row's first eight fields share one line.
    this.stride = Math.ceil((SLOT_FIELDS + options.fields) / 8) * 8;
    this.room = Math.min(FIRST_SLOTS, Math.max(1, capacity));
    this.rows = new Float64Array(this.room * this.stride);
    this.freeSlots = new Int32Array(this.room);
    this.mask = indexEntries(this.room) - 1;
    this.index = new Int32Array((this.mask + 1) * 4);
    this.door = new Doorkeeper(options.agingSeconds);
  }

  get declined(): number {
    return this.door.declined;
  }

  /** Slots rows have room for (the detector's columns must have as many). */
  get slots(): number {
    return this.room;
  }

  /** The key's slot, counting a hit, or -1. */
  find(key: number, check: number): number {
    const index = this.index;
    const mask = this.mask;
    const k = key | 0;
    const c = check | 0;
    for (let i = k & mask; ; i = (i + 1) & mask) {
      const e = i << 2;
      const slot = index[e + 2] - 1;
      if (slot < 0) return NONE;
      if (index[e] === k && index[e + 1] === c) {
        this.rows[slot * this.stride + HITS]++;
        return slot;
      }
    }
  }

  /** Whether a key the table does not hold may be taken now (TrackedKeys.admit's rule); then `add` it. */
  admit(key: number, ts: number): boolean {
    if (this.size < this.capacity * OPEN_SHARE) return true;
    return this.door.admits(mix32(key | 0), ts);
  }

  /** Takes a new key (after `admit`), letting another go when full; its row's detector fields are zero. */
  add(key: number, check: number): number {
    if (this.size >= this.capacity) this.evictOne();
    const slot = this.take();
    const row = slot * this.stride;
    this.rows.fill(0, row, row + this.stride);
    this.rows[row + KEY] = key | 0;
    this.rows[row + CHECK] = check | 0;
    this.place(slot, key | 0, check | 0);
    this.append(slot);
    this.size++;
    return slot;
  }

  delete(slot: number): void {
    this.unplace(slot);
    this.unlink(slot);
    this.freeSlots[this.freeCount++] = slot;
    this.size--;
    this.options.release?.(slot);
  }

  /** Every slot, oldest first; deleting the current slot is allowed (no other). */
  forEach(fn: (slot: number) => void): void {
    for (let slot = this.oldest; slot !== NONE; ) {
      const next = this.rows[slot * this.stride + NEWER];
      fn(slot);
      slot = next;
    }
  }

  report(): TrackedKeysReport {
    return { detector: this.detector, table: this.table, size: this.size, capacity: this.capacity, declined: this.declined, evicted: this.evicted };
  }

  private take(): number {
    if (this.freeCount > 0) return this.freeSlots[--this.freeCount];
    if (this.made === this.room) this.grow(Math.min(this.capacity, this.room * 2));
    return this.made++;
  }

  private grow(room: number): void {
    const rows = new Float64Array(room * this.stride);
    rows.set(this.rows);
    this.rows = rows;
    const free = new Int32Array(room);
    free.set(this.freeSlots.subarray(0, this.freeCount));
    this.freeSlots = free;
    this.room = room;
    this.mask = indexEntries(room) - 1;
    this.index = new Int32Array((this.mask + 1) * 4);
    this.forEach((slot) => this.place(slot, this.rows[slot * this.stride + KEY], this.rows[slot * this.stride + CHECK]));
    this.options.grow?.(room);
  }

  private place(slot: number, key: number, check: number): void {
    const index = this.index;
    let i = key & this.mask;
    while (index[(i << 2) + 2] !== 0) i = (i + 1) & this.mask;
    const e = i << 2;
    index[e] = key;
    index[e + 1] = check;
    index[e + 2] = slot + 1;
  }

  /** Removes the slot's index entry, shifting back the entries after it that probed past it (no tombstones). */
  private unplace(slot: number): void {
    const index = this.index;
    const mask = this.mask;
    let hole = this.rows[slot * this.stride + KEY] & mask;
    while (index[(hole << 2) + 2] !== slot + 1) hole = (hole + 1) & mask;
    for (let j = (hole + 1) & mask; index[(j << 2) + 2] !== 0; j = (j + 1) & mask) {
      const home = index[j << 2] & mask;
      // The entry at j may fill the hole when its home is not cyclically within (hole, j].
      const between = hole <= j ? home > hole && home <= j : home > hole || home <= j;
      if (between) continue;
      index.copyWithin(hole << 2, j << 2, (j << 2) + 4);
      hole = j;
    }
    index.fill(0, hole << 2, (hole << 2) + 4);
  }

  private append(slot: number): void {
    const row = slot * this.stride;
    this.rows[row + OLDER] = this.newest;
    this.rows[row + NEWER] = NONE;
    if (this.newest === NONE) this.oldest = slot;
    else this.rows[this.newest * this.stride + NEWER] = slot;
    this.newest = slot;
  }

  private unlink(slot: number): void {
    const row = slot * this.stride;
    const older = this.rows[row + OLDER];
    const newer = this.rows[row + NEWER];
    if (older === NONE) this.oldest = newer;
    else this.rows[older * this.stride + NEWER] = newer;
    if (newer === NONE) this.newest = older;
    else this.rows[newer * this.stride + OLDER] = older;
  }

  /** TrackedKeys' eviction: the least hit of the oldest few (protected ones last); the others get a second chance. */
  private evictOne(): void {
    const protect = this.options.protect;
    const looked = this.looked;
    let n = 0;
    for (let slot = this.oldest; slot !== NONE && n < EVICTION_SAMPLE; slot = this.rows[slot * this.stride + NEWER]) {
      this.weights[n] = protect?.(slot) ? Infinity : this.rows[slot * this.stride + HITS];
      looked[n++] = slot;
    }
    const victim = leastWeighted(this.weights, n);
    if (victim < 0) return;
    // Second chance, in the order looked at: to the back with half their hits.
    for (let i = 0; i < n; i++) if (i !== victim) this.requeue(looked[i]);
    this.delete(looked[victim]);
    this.evicted++;
  }

  private requeue(slot: number): void {
    this.unlink(slot);
    this.append(slot);
    this.rows[slot * this.stride + HITS] = Math.floor(this.rows[slot * this.stride + HITS] / 2);
  }
}

/** Index entries for `slots` slots: a power of two at least twice as many (probes stay short). */
function indexEntries(slots: number): number {
  let n = 16;
  while (n < slots * 2) n *= 2;
  return n;
}
