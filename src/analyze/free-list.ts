/**
 * Objects a flow held, kept for the next flow once theirs ends. Why: a per-flow object lives as long as its
 * flow (seconds), longer than a young-generation cycle, so a fresh one is copied by one or two scavenges and
 * then promoted — that copying is most of the collector's cost at 300 kpps. A reused object is in old space
 * already and is never copied again. Bounded: past `capacity` a returned object is left to the collector, so
 * a burst's flows do not stay pooled for the process's life.
 *
 * The owner clears an object before it gives it back: a kept object holds no buffer, request or hello of its
 * last flow (a burst's thousands of ended flows would otherwise keep theirs alive), and is taken as it is.
 */
export class FreeList<T> {
  private readonly items: T[] = [];

  constructor(readonly capacity: number) {}

  /** A kept object, or undefined when none is (the owner makes one). */
  take(): T | undefined {
    return this.items.pop();
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
