/**
 * Weirds tied to their flow, so a weird record carries the flow's uid and id.* as Zeek's weird.log does. The
 * engine says which flow it is working on (a packet handed to the flow's analyzer, the flow's end); a weird
 * counted meanwhile is also noted in a fixed ring (name, flow id, time, count, written in place; a repeat of
 * the last entry adds to its count). Beside the packet loop (after each batch, before a flow's end is
 * reported) the ring is drained into one tally per flow and name, reported when the flow ends: one record per
 * flow and name with its count, as Zeek logs a connection's weird once per name (weird.zeek's `weird_ignore`
 * on the connection's id). Weirds with no flow (the packet layers', raised before a flow exists) stay counted
 * by name and are reported at the end of the input, and live once a minute (the counts since the last report). A weird the ring has no room for is counted there too,
 * without its flow, and in `overflow`.
 *
 * add() runs on the packet loop: no allocation, no I/O. drain() and take() allocate, beside it.
 */
import { WeirdCounter, weirdName, type WeirdCount } from '../decode/weirds.js';
import type { FlowMoves } from './flows/flow-table.js';

/** No flow is being worked on. */
export const NO_FLOW = -1;
/** Ring entries between drains: far more than the weirds of one batch's flows, each run of a weird one entry. */
export const FLOW_WEIRD_RING = 4096;

/** One weird of one flow (a report period of it): the time of its first occurrence and how many. */
export interface FlowWeird {
  name: string;
  ts: number;
  count: number;
}

export class FlowWeirds extends WeirdCounter {
  private flowId = NO_FLOW;
  private ts = 0;
  private readonly names: Int32Array;
  private readonly flows: Float64Array;
  private readonly times: Float64Array;
  private readonly ringCounts: Float64Array;
  private used = 0;
  /** Weirds of a flow the ring had no room for (reported without their flow). */
  overflow = 0;
  /** Drained, not yet reported: per flow id, per weird id. */
  private readonly tallies = new Map<number, Map<number, { ts: number; count: number }>>();
  /** Per weird name: how many were tied to a flow (the rest are reported without one). */
  private readonly attributed = new Map<string, number>();
  /** Per weird name: how many without a flow were reported already (takeWithoutFlow). */
  private readonly reportedWithoutFlow = new Map<string, number>();

  constructor(capacity = FLOW_WEIRD_RING) {
    super();
    this.names = new Int32Array(capacity);
    this.flows = new Float64Array(capacity);
    this.times = new Float64Array(capacity);
    this.ringCounts = new Float64Array(capacity);
  }

  /** Weirds counted from now on are flow `flowId`'s, at capture time `ts` (NO_FLOW: none's). Returns the previous flow. */
  enterFlow(flowId: number, ts: number): number {
    const previous = this.flowId;
    this.flowId = flowId;
    this.ts = ts;
    return previous;
  }

  override add(id: number, n = 1): void {
    super.add(id, n);
    if (this.flowId !== NO_FLOW) this.note(id, n);
  }

  /** Moves the ring's entries into the tallies (beside the packet loop). */
  drain(): void {
    for (let i = 0; i < this.used; i++) {
      const flowId = this.flows[i];
      let tally = this.tallies.get(flowId);
      if (tally === undefined) this.tallies.set(flowId, (tally = new Map()));
      const id = this.names[i];
      const kept = tally.get(id);
      if (kept === undefined) tally.set(id, { ts: this.times[i], count: this.ringCounts[i] });
      else kept.count += this.ringCounts[i];
      const name = weirdName(id);
      this.attributed.set(name, (this.attributed.get(name) ?? 0) + this.ringCounts[i]);
    }
    this.used = 0;
  }

  /**
   * A compaction moved flows to other slots under new ids (FlowTable.onMove): their waiting weirds follow.
   * The ring is drained first (beside the packet loop), so no entry of it names an old id.
   */
  follow(moves: FlowMoves): void {
    if (this.used > 0) this.drain();
    if (this.tallies.size === 0) return;
    for (let i = 0; i < moves.count; i++) {
      const tally = this.tallies.get(moves.oldIds[i]);
      if (tally === undefined) continue;
      this.tallies.delete(moves.oldIds[i]);
      this.tallies.set(moves.newIds[i], tally);
    }
  }

  /** The weirds of a flow whose end (or report period) is due, by name, and forgets them. */
  take(flowId: number): FlowWeird[] {
    if (this.used > 0) this.drain();
    const tally = this.tallies.get(flowId);
    if (tally === undefined) return [];
    this.tallies.delete(flowId);
    return [...tally].map(([id, w]) => ({ name: weirdName(id), ts: w.ts, count: w.count })).sort(byCountThenName);
  }

  /** The weirds no flow took (counted by name, most frequent first): the end of the input's weird records. */
  withoutFlow(): WeirdCount[] {
    return this.list()
      .map((w) => ({ name: w.name, count: w.count - (this.attributed.get(w.name) ?? 0) }))
      .filter((w) => w.count > 0)
      .sort(byCountThenName);
  }

  /**
   * The weirds without a flow counted since the last call, by name (the agent reports them once a minute, a
   * file at its end): every such weird is in exactly one report.
   */
  takeWithoutFlow(): WeirdCount[] {
    if (this.used > 0) this.drain();
    const out: WeirdCount[] = [];
    for (const w of this.withoutFlow()) {
      const count = w.count - (this.reportedWithoutFlow.get(w.name) ?? 0);
      if (count <= 0) continue;
      this.reportedWithoutFlow.set(w.name, w.count);
      out.push({ name: w.name, count });
    }
    return out.sort(byCountThenName);
  }

  private note(id: number, n: number): void {
    const last = this.used - 1;
    if (last >= 0 && this.names[last] === id && this.flows[last] === this.flowId) {
      this.ringCounts[last] += n;
      return;
    }
    if (this.used === this.names.length) {
      this.overflow += n;
      return;
    }
    this.names[this.used] = id;
    this.flows[this.used] = this.flowId;
    this.times[this.used] = this.ts;
    this.ringCounts[this.used] = n;
    this.used++;
  }
}

function byCountThenName(a: { name: string; count: number }, b: { name: string; count: number }): number {
  return b.count - a.count || a.name.localeCompare(b.name);
}
