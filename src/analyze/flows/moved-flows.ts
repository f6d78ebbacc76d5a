/**
 * The flows that counted a packet since the list was last taken: what a per-second pass over the flows'
 * counters (FlowDeltas) needs to read, instead of the whole table. A bit per flow: marking runs on the packet
 * loop (one word read and written, no branch on the flow's state, no allocation); taking walks the words up
 * to the highest marked, so the flows come out in index order (the order a scan of the table meets them)
 * with no sort, and clears them.
 */
import { type FlowMoves, grownTo } from './flow-table.js';

export class MovedFlows {
  private bits = new Uint32Array(0);
  /** Words that may hold a mark: up to the highest flow marked since the last take. */
  private top = 0;
  /** The flows of the last take (reused). */
  private list = new Int32Array(256);

  /** The table grew to `capacity` flows. */
  grow(capacity: number): void {
    this.bits = grownTo(this.bits, Math.ceil(capacity / 32));
  }

  /** The flow counted a packet. */
  mark(flow: number): void {
    const word = flow >>> 5;
    this.bits[word] |= 1 << (flow & 31);
    if (word >= this.top) this.top = word + 1;
  }

  /** A compaction moved flows (FlowTable.onMove): a mark follows its flow to the new slot. */
  follow(moves: FlowMoves): void {
    const bits = this.bits;
    for (let i = 0; i < moves.count; i++) {
      const from = moves.from[i];
      if ((bits[from >>> 5] & (1 << (from & 31))) === 0) continue;
      bits[from >>> 5] &= ~(1 << (from & 31));
      this.mark(moves.to[i]);
    }
  }

  /**
   * The flows marked since the last take, in index order, each once (a view valid until the next take); the
   * marks are cleared.
   */
  take(): Int32Array {
    const bits = this.bits;
    let n = 0;
    for (let word = 0; word < this.top; word++) {
      let w = bits[word];
      if (w === 0) continue;
      bits[word] = 0;
      while (w !== 0) {
        const lowest = w & -w;
        if (n === this.list.length) this.list = growList(this.list);
        this.list[n++] = (word << 5) | (31 - Math.clz32(lowest));
        w ^= lowest;
      }
    }
    this.top = 0;
    return this.list.subarray(0, n);
  }
}

function growList(list: Int32Array): Int32Array<ArrayBuffer> {
  const bigger = new Int32Array(list.length * 2);
  bigger.set(list);
  return bigger;
}
