/**
 * Weirds: malformed or unexpected traffic, named as Zeek names them and counted, never thrown.
 * Each decoder defines its weird names once at module load and counts by numeric id on the hot path.
 */
const weirdNames: string[] = [];
const weirdIds = new Map<string, number>();

/** Registers (or finds) a weird name and returns its numeric id. Call at module load, not per packet. */
export function defineWeird(name: string): number {
  const known = weirdIds.get(name);
  if (known !== undefined) return known;
  const id = weirdNames.length;
  weirdNames.push(name);
  weirdIds.set(name, id);
  return id;
}

export function weirdName(id: number): string {
  return weirdNames[id] ?? `weird_${id}`;
}

export interface WeirdCount {
  name: string;
  count: number;
}

/** Counts weirds by id; grows as new names are defined. */
export class WeirdCounter {
  private counts = new Float64Array(64);

  add(id: number, n = 1): void {
    if (id >= this.counts.length) this.grow(id);
    this.counts[id] += n;
  }

  get(name: string): number {
    const id = weirdIds.get(name);
    return id === undefined || id >= this.counts.length ? 0 : this.counts[id];
  }

  total(): number {
    let sum = 0;
    for (let i = 0; i < this.counts.length; i++) sum += this.counts[i];
    return sum;
  }

  /** Non-zero counts, most frequent first. */
  list(): WeirdCount[] {
    const out: WeirdCount[] = [];
    for (let i = 0; i < this.counts.length; i++) {
      if (this.counts[i] > 0) out.push({ name: weirdName(i), count: this.counts[i] });
    }
    return out.sort((a, b) => b.count - a.count || a.name.localeCompare(b.name));
  }

  private grow(id: number): void {
    const next = new Float64Array(Math.max(id + 1, this.counts.length * 2));
    next.set(this.counts);
    this.counts = next;
  }
}
