/**
 * IP bytes per host per second, from flow deltas: each second the flow table's `ipBytes` columns are read
 * against our last-seen copies, and a flow that ends between two reads is read one last time at its end.
 * We chose this over conn records because a conn record arrives only when its flow ends — a long download
 * that spikes would be seen minutes late, or after an hour's active timeout — while the columns say what
 * every flow did this very second, at the cost of one pass over the table per second and nothing per packet.
 */
import type { Connections } from '../analyze/flows/connections.js';
import { growF64 } from '../analyze/flows/flow-table.js';
import { hostKeyOf, type HostKey } from './addresses.js';
import { readFlowFacts } from './flow-sample.js';
import { FlowFacts } from './types.js';

export class HostBytes {
  private seen = new Float64Array(0);
  /** Host keys of each flow's originator and responder, made once per flow. */
  private readonly keys: HostKey[] = [];
  private readonly facts = new FlowFacts();
  private current = new Map<HostKey, number>();

  constructor(private readonly conns: Connections) {
    conns.table.onGrow((n) => {
      this.seen = growF64(this.seen, n * 2);
    });
  }

  onFlowStart(flow: number): void {
    this.seen[flow * 2] = this.seen[flow * 2 + 1] = 0;
    const f = readFlowFacts(this.conns, flow, this.facts);
    this.keys[flow * 2] = hostKeyOf(f.version, f.orig);
    this.keys[flow * 2 + 1] = hostKeyOf(f.version, f.resp);
  }

  /** Before the flow's counters go (or restart after an active timeout). */
  onFlowEnd(flow: number): void {
    this.account(flow);
    this.seen[flow * 2] = this.seen[flow * 2 + 1] = 0;
  }

  /** Bytes per host since the last call (the map is handed over; a fresh one collects the next second). */
  roll(): Map<HostKey, number> {
    const table = this.conns.table;
    const live = table.live;
    const ip = this.conns.ipBytes;
    const seen = this.seen;
    const extent = table.extent;
    for (let flow = 0; flow < extent; flow++) {
      // Most flows did nothing this second: two reads and a compare before any work.
      if (live[flow] === 1 && (ip[flow * 2] !== seen[flow * 2] || ip[flow * 2 + 1] !== seen[flow * 2 + 1])) this.account(flow);
    }
    const out = this.current;
    this.current = new Map();
    return out;
  }

  private account(flow: number): void {
    const ip = this.conns.ipBytes;
    const d = flow * 2;
    const moved = ip[d] - this.seen[d] + (ip[d + 1] - this.seen[d + 1]);
    if (!(moved > 0)) return;
    this.seen[d] = ip[d];
    this.seen[d + 1] = ip[d + 1];
    const a = this.keys[d];
    const b = this.keys[d + 1];
    if (a === undefined || b === undefined) return;
    this.current.set(a, (this.current.get(a) ?? 0) + moved);
    if (b !== a) this.current.set(b, (this.current.get(b) ?? 0) + moved);
  }
}
