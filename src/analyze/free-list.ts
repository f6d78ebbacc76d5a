/**
 * Objects a flow held, kept for the next flow once theirs ends. Why: a per-flow object lives as long as its
 * flow (seconds), longer than a young-generation cycle, so a fresh one is copied by one or two scavenges and
 * then promoted — that copying is most of the collector's cost at 300 kpps. A reused object is in old space
 * already and is never copied again. Bounded: past `capacity` a returned object is left to the collector, so
 * a burst's flows do not stay pooled for the process's life.
 *
 * The owner clears an object before it gives it back: a kept object holds no buffer, request or hello of its
 * last flow (a burst's thousands of ended flows would otherwise keep theirs alive), and is taken as it is.
 *
 * What no flow takes goes too: every TRIM_SECONDS (the owner calls `settle` with the time), the objects that
 * stayed in the list the whole period (its low-water mark) are let go, as Go's sync.Pool drops what survives
 * two collections. A steady stream takes and gives the same few and keeps them; a burst's leftovers are gone
 * within two periods once it is over, instead of 1.7 MB of HTTP state kept for good after an office burst.
 */
export class FreeList<T> {
  private readonly items: T[] = [];
  /** The fewest objects kept since the last trim: that many were not needed all period. */
  private lowWater = 0;
  private lastTrim = Number.NEGATIVE_INFINITY;

  constructor(readonly capacity: number) {}

  /** A kept object, or undefined when none is (the owner makes one). */
  take(): T | undefined {
    const item = this.items.pop();
    if (this.items.length < this.lowWater) this.lowWater = this.items.length;
    return item;
  }

  /** Time moved on (seconds): past a period, the objects no flow took in it are let go. */
  settle(now: number): void {
    if (now - this.lastTrim < TRIM_SECONDS) return;
    this.lastTrim = now;
    this.items.length -= this.lowWater;
    this.lowWater = this.items.length;
  }

  /** The object's flow has ended: keep it for the next (unless the list is full). Never give one twice. */
  give(item: T): void {
    if (this.items.length < this.capacity) this.items.push(item);
  }

  /** How many are kept now. */
  get size(): number {
    return this.items.length;
  }
}

/**
 * Per-flow objects each owner keeps at most. Flows end in sweeps (a closed TCP flow lingers 5 s), so a few
 * thousand at once at 300 kpps of an office mix; more kept would be memory a burst leaves behind (an HTTP
 * flow's cleared state is ~400 bytes, a TLS flow's ~300: at most ~3 MB in all).
 */
export const FLOW_FREE_LIST_CAPACITY = 4096;

/** Seconds between two trims of a free list (see FreeList). */
const TRIM_SECONDS = 10;
