/**
 * Runs many session generators in capture-time order: a binary min-heap keyed by each session's next
 * packet time, ties broken by the order sessions were added, so the interleaving is deterministic.
 */

export type SessionStep = Generator<number, void, void>;

interface Entry {
  time: number;
  order: number;
  session: SessionStep;
}

export class Scheduler {
  private readonly heap: Entry[] = [];
  private added = 0;

  get size(): number {
    return this.heap.length;
  }

  /** Adds a session whose first step runs at `time` (µs). */
  add(time: number, session: SessionStep): void {
    this.heap.push({ time, order: this.added++, session });
    this.up(this.heap.length - 1);
  }

  /** Time of the next step (µs); only valid when size > 0. */
  peekTime(): number {
    return this.heap[0].time;
  }

  /**
   * Runs the earliest session's next step (after `setNow(time)`), then files it under its next time or
   * drops it when it has finished.
   */
  step(setNow: (time: number) => void): void {
    const top = this.heap[0];
    setNow(top.time);
    const r = top.session.next();
    if (r.done) {
      const last = this.heap.pop()!;
      if (this.heap.length > 0) {
        this.heap[0] = last;
        this.down(0);
      }
    } else {
      top.time += r.value;
      this.down(0);
    }
  }

  private less(a: Entry, b: Entry): boolean {
    return a.time < b.time || (a.time === b.time && a.order < b.order);
  }

  private up(i: number): void {
    const h = this.heap;
    const e = h[i];
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(e, h[p])) break;
      h[i] = h[p];
      i = p;
    }
    h[i] = e;
  }

  private down(i: number): void {
    const h = this.heap;
    const n = h.length;
    const e = h[i];
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && this.less(h[c + 1], h[c])) c++;
      if (!this.less(h[c], e)) break;
      h[i] = h[c];
      i = c;
    }
    h[i] = e;
  }
}
