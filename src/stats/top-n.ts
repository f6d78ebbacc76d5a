/** Keeps counts per key and returns the largest; for reports, not for the per-packet path. */
export class Tally<T = undefined> {
  private readonly entries = new Map<string, { key: string; value: number; extra: T | undefined }>();

  add(key: string, value = 1, extra?: T): void {
    const entry = this.entries.get(key);
    if (entry) entry.value += value;
    else this.entries.set(key, { key, value, extra });
  }

  get size(): number {
    return this.entries.size;
  }

  top(n: number): Array<{ key: string; value: number; extra: T | undefined }> {
    return firstSorted(this.entries.values(), n, (a, b) => b.value - a.value || a.key.localeCompare(b.key));
  }
}

/**
 * The first `n` items of `[...items].sort(compare)`, ties in input order as the stable sort leaves them,
 * in one pass keeping only n: a report's top 8 of 100k conversations needs no sort of all of them.
 */
export function firstSorted<T>(items: Iterable<T>, n: number, compare: (a: T, b: T) => number): T[] {
  const out: T[] = [];
  if (n <= 0) return out;
  for (const item of items) {
    if (out.length === n && !(compare(item, out[n - 1]) < 0)) continue;
    // After every kept item it does not sort before (a later item goes after its equals).
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
  return out;
}
