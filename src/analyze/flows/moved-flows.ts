/**
 * The flows that counted a packet since the list was last taken: what a per-second pass over the flows'
 * counters (FlowDeltas) needs to read, instead of the whole table. A mark per flow and a list of the marked;
 * marking runs on the packet loop (no allocation but the list's rare growth: a byte read, and on a flow's
 * first packet of the period a byte and a list write), taking sorts the few marked into index order, so a
 * pass over them meets the flows in the order a scan of the table would.
 */
import { growU8 } from './flow-table.js';

export class MovedFlows {
  private marks = new Uint8Array(0);
  private list = new Int32Array(256);
  private count = 0;

  /** The table grew to `capacity` flows. */
  grow(capacity: number): void {
    this.marks = growU8(this.marks, capacity);
  }

  /** The flow counted a packet. */
  mark(flow: number): void {
    if (this.marks[flow] !== 0) return;
    this.marks[flow] = 1;
    if (this.count === this.list.length) {
      const bigger = new Int32Array(this.list.length * 2);
      bigger.set(this.list);
      this.list = bigger;
    }
    this.list[this.count++] = flow;
  }

  /**
   * The flows marked since the last take, in index order, each once (a view valid until the next mark); the
   * marks are cleared.
   */
  take(): Int32Array {
    const taken = this.list.subarray(0, this.count).sort();
    for (let i = 0; i < taken.length; i++) this.marks[taken[i]] = 0;
    this.count = 0;
    return taken;
  }
}
