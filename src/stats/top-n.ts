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
    return [...this.entries.values()].sort((a, b) => b.value - a.value || a.key.localeCompare(b.key)).slice(0, n);
  }
}
