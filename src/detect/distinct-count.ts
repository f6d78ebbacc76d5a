/**
 * Counting distinct keys (sources of a flood, ports of a target) in fixed small memory. A spoofed flood brings
 * a new source with nearly every packet: a Set of them grows by thousands a second, per target and per port.
 * - DistinctCounter: linear counting (Whang et al. 1990): each key sets one hashed bit of an m-bit bitmap; with
 *   V bits still zero, n ≈ -m·ln(V/m). Within a few per cent up to about 3.5·m keys; past that (fewer than m/32
 *   zero bits) it is saturated and says only "at least `limit`".
 * - DistinctKeys: the first few distinct keys exactly (for an alert's host list and the single-source case),
 *   then, from the first key that does not fit, a DistinctCounter (allocated then, so the many small sets cost
 *   no bitmap).
 */
import type { HostKey } from './addresses.js';

export class DistinctCounter {
  private readonly bits: Uint32Array;
  private readonly mask: number;
  private zeros: number;
  /** The count at which the bitmap is taken as full (rounded down to two significant digits). */
  readonly limit: number;

  /** `size`: bits in the bitmap, a power of two of at least 32 (1024 bits = 128 bytes). */
  constructor(readonly size = 1024) {
    if (size < 32 || (size & (size - 1)) !== 0) throw new RangeError(`DistinctCounter size must be a power of two ≥ 32 (got ${size})`);
    this.bits = new Uint32Array(size >>> 5);
    this.mask = size - 1;
    this.zeros = size;
    this.limit = roundDown2(linearEstimate(size, saturationZeros(size)));
  }

  add(key: HostKey): void {
    const i = hashHostKey(key) & this.mask;
    const word = i >>> 5;
    const bit = 1 << (i & 31);
    if ((this.bits[word] & bit) !== 0) return;
    this.bits[word] |= bit;
    this.zeros--;
  }

  /** Too few zero bits left for an estimate: the count is at least `limit`. */
  get saturated(): boolean {
    return this.zeros <= saturationZeros(this.size);
  }

  /** The estimated number of distinct keys added (`limit` once saturated). */
  estimate(): number {
    if (this.saturated) return this.limit;
    return linearEstimate(this.size, this.zeros);
  }
}

/** Below this many zero bits (1/32 of the bitmap, about 3.5 keys a bit) the estimate is no longer trusted. */
function saturationZeros(size: number): number {
  return size >>> 5;
}

function linearEstimate(size: number, zeros: number): number {
  return -size * Math.log(zeros / size);
}

function roundDown2(n: number): number {
  if (n < 100) return Math.floor(n);
  const unit = 10 ** (Math.floor(Math.log10(n)) - 1);
  return Math.floor(n / unit) * unit;
}

/** The first `keep` distinct keys exactly, then a DistinctCounter of `size` bits for the count. */
export class DistinctKeys<K extends HostKey = HostKey> {
  readonly first: K[] = [];
  private counter: DistinctCounter | undefined;
  /** Keys added since the counter was made (the count can be no more than that). */
  private added = 0;

  constructor(
    readonly keep = 20,
    private readonly size = 1024,
  ) {}

  /** Counts a key; true when it is new and was kept in `first` (so a caller can note its text). */
  add(key: K): boolean {
    if (this.counter !== undefined) {
      this.counter.add(key);
      this.added++;
      return false;
    }
    if (this.first.includes(key)) return false;
    if (this.first.length < this.keep) {
      this.first.push(key);
      return true;
    }
    this.counter = new DistinctCounter(this.size);
    for (const k of this.first) this.counter.add(k);
    this.counter.add(key);
    this.added = this.first.length + 1;
    return false;
  }

  /** The number of distinct keys: exact while they all fit in `first`, then estimated. */
  get count(): number {
    if (this.counter === undefined) return this.first.length;
    return Math.min(this.added, Math.max(this.first.length + 1, Math.round(this.counter.estimate())));
  }

  /** Whether `count` is an estimate. */
  get estimated(): boolean {
    return this.counter !== undefined;
  }

  /** Whether the count is only a lower bound ("3,500+"). */
  get saturated(): boolean {
    return this.counter?.saturated ?? false;
  }

  /** "7", "about 1,500", "3,500+": the count for a message. */
  describe(): string {
    if (this.counter === undefined) return String(this.first.length);
    if (this.counter.saturated) return `${groupDigits(this.counter.limit)}+`;
    return `about ${groupDigits(roundNearest2(this.count))}`;
  }
}

function roundNearest2(n: number): number {
  if (n < 100) return Math.round(n);
  const unit = 10 ** (Math.floor(Math.log10(n)) - 1);
  return Math.round(n / unit) * unit;
}

/** 4900 → "4,900". */
export function groupDigits(n: number): string {
  return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** A 32-bit hash of a host key (or any small integer): an integer mixer for numbers, FNV-1a for text. */
export function hashHostKey(key: HostKey): number {
  let x: number;
  if (typeof key === 'number') {
    x = key | 0;
  } else {
    x = 0x811c9dc5;
    for (let i = 0; i < key.length; i++) x = Math.imul(x ^ key.charCodeAt(i), 0x01000193);
  }
  // lowbias32 integer mixer (also over the FNV-1a result), so the low bits used as an index are well mixed.
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
  return (x ^ (x >>> 16)) >>> 0;
}
