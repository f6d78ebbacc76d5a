/**
 * IP bytes per host per second, from the pipeline's flow deltas (shared with the statistics): what every
 * flow moved since the last read, summed per host. We chose this over conn records because a conn record
 * arrives only when its flow ends — a long download that spikes would be seen minutes late, or after an
 * hour's active timeout — while the deltas say what every flow did this very second, at the cost of one pass
 * over the table per second and nothing per packet.
 */
import type { FlowDeltaConsumer, FlowDeltas } from '../analyze/flows/flow-deltas.js';
import type { Connections } from '../analyze/flows/connections.js';
import { hostKeyOf, type HostKey } from './addresses.js';
import { readFlowFacts } from './flow-sample.js';
import { FlowFacts } from './types.js';

export class HostBytes implements FlowDeltaConsumer {
  /** Host keys of each flow's originator and responder, made once per flow. */
  private readonly keys: HostKey[] = [];
  private readonly facts = new FlowFacts();
  private current = new Map<HostKey, number>();

  constructor(
    private readonly conns: Connections,
    private readonly deltas: FlowDeltas,
  ) {
    deltas.subscribe(this);
  }

  onFlowStart(flow: number): void {
    const f = readFlowFacts(this.conns, flow, this.facts);
    this.keys[flow * 2] = hostKeyOf(f.version, f.orig);
    this.keys[flow * 2 + 1] = hostKeyOf(f.version, f.resp);
  }

  onFlowDelta(flow: number, _origPkts: number, origBytes: number, _respPkts: number, respBytes: number): void {
    const moved = origBytes + respBytes;
    if (!(moved > 0)) return;
    const a = this.keys[flow * 2];
    const b = this.keys[flow * 2 + 1];
    if (a === undefined || b === undefined) return;
    this.current.set(a, (this.current.get(a) ?? 0) + moved);
    if (b !== a) this.current.set(b, (this.current.get(b) ?? 0) + moved);
  }

  /** Bytes per host since the last call (the map is handed over; a fresh one collects the next second). */
  roll(): Map<HostKey, number> {
    this.deltas.pass();
    const out = this.current;
    this.current = new Map();
    return out;
  }
}
