/**
 * Counting and ranking for reports (`loopy read`'s summary), in bounded memory whatever the capture holds:
 * a flood of a million spoofed sources must not make a million report entries. Not for the per-packet path.
 */

interface TallyEntry<T> {
  key: string;
  value: number;
  extra: T | undefined;
  /** Position in the min-heap of entries by value. */
  at: number;
}

/** Keys a Tally counts exactly; past it, the smallest gives way (Space-Saving). */
export const TALLY_CAPACITY = 20_000;

/**
 * Counts per key and returns the largest. Exact while it has seen at most `capacity` distinct keys; past
 * that it is the Space-Saving algorithm (Metwally et al., 2005): a new key takes the place of the smallest
 * count and inherits it, so every key whose true count exceeds total / capacity is kept, and no count is
 * under its true value by more than that. `approximate` says which case a report is in.
 */
export class Tally<T = undefined> {
  private readonly entries = new Map<string, TallyEntry<T>>();
  /** Entries as a binary min-heap on value: the root is the one to give way. */
  private readonly heap: Array<TallyEntry<T>> = [];
  /** Distinct keys seen past the capacity (they each replaced the smallest). */
  replaced = 0;

  constructor(private readonly capacity = TALLY_CAPACITY) {}

  add(key: string, value = 1, extra?: T): void {
    let entry = this.entries.get(key);
    if (entry !== undefined) {
      entry.value += value;
      this.siftDown(entry.at);
      return;
    }
    if (this.heap.length < this.capacity) {
      entry = { key, value, extra, at: this.heap.length };
      this.heap.push(entry);
      this.entries.set(key, entry);
      this.siftUp(entry.at);
      return;
    }
    const smallest = this.heap[0];
    this.entries.delete(smallest.key);
    this.replaced++;
    entry = { key, value: smallest.value + value, extra, at: 0 };
    this.heap[0] = entry;
    this.entries.set(key, entry);
    this.siftDown(0);
  }

  /** Distinct keys held (at most the capacity). */
  get size(): number {
    return this.entries.size;
  }

  /** True once more distinct keys came than it holds: counts may then be over by up to the smallest kept. */
  get approximate(): boolean {
    return this.replaced > 0;
  }

  /** Every key held with its count: what another tally adds in (`add` each), another engine's say. */
  counts(): Array<[string, number]> {
    return this.heap.map((e) => [e.key, e.value]);
  }

  top(n: number): Array<{ key: string; value: number; extra: T | undefined }> {
    return firstSorted(this.entries.values(), n, (a, b) => b.value - a.value || a.key.localeCompare(b.key)).map(({ key, value, extra }) => ({ key, value, extra }));
  }

  private siftUp(i: number): void {
    const h = this.heap;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (h[parent].value <= h[i].value) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private siftDown(i: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let min = i;
      if (l < h.length && h[l].value < h[min].value) min = l;
      if (r < h.length && h[r].value < h[min].value) min = r;
      if (min === i) return;
      this.swap(i, min);
      i = min;
    }
  }

  private swap(a: number, b: number): void {
    const h = this.heap;
    const x = h[a];
    h[a] = h[b];
    h[b] = x;
    h[a].at = a;
    h[b].at = b;
  }
}

/**
 * The first `n` of a stream of items in the order a stable sort by `compare` would put them, kept as they
 * come: the same as firstSorted over all of them, holding only n.
 */
export class TopN<T> {
  private readonly kept: T[] = [];
  /** Items offered so far. */
  count = 0;

  constructor(
    private readonly n: number,
    private readonly compare: (a: T, b: T) => number,
  ) {}

  add(item: T): void {
    this.count++;
    insertSorted(this.kept, item, this.n, this.compare);
  }

  /**
   * Whether an item that compares like `probe` would be kept (ties go after those kept: not kept when full).
   * Lets a caller make the item only when it is: the count of items offered is then the caller's to add to.
   */
  admits(probe: Partial<T>): boolean {
    return this.kept.length < this.n || this.compare(probe as T, this.kept[this.kept.length - 1]) < 0;
  }

  items(): readonly T[] {
    return this.kept;
  }
}

/** firstSorted over the indexes 0 … count − 1, without an array of them. */
export function firstSortedIndexes(count: number, n: number, compare: (a: number, b: number) => number): number[] {
  const out: number[] = [];
  for (let i = 0; i < count; i++) insertSorted(out, i, n, compare);
  return out;
}

/**
 * The first `n` items of `[...items].sort(compare)`, ties in input order as the stable sort leaves them,
 * in one pass keeping only n: a report's top 8 of 100k conversations needs no sort of all of them.
 */
export function firstSorted<T>(items: Iterable<T>, n: number, compare: (a: T, b: T) => number): T[] {
  const out: T[] = [];
  for (const item of items) insertSorted(out, item, n, compare);
  return out;
}

/** Puts `item` into the sorted `out` (at most n long) after every item it does not sort before. */
function insertSorted<T>(out: T[], item: T, n: number, compare: (a: T, b: T) => number): void {
  if (n <= 0) return;
  if (out.length === n && !(compare(item, out[n - 1]) < 0)) return;
  let lo = 0;
  let hi = out.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compare(item, out[mid]) < 0) hi = mid;
    else lo = mid + 1;
  }
  out.splice(lo, 0, item);
  if (out.length > n) out.pop();
}
