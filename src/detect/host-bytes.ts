/**
 * IP bytes per host per second, from the pipeline's flow deltas (shared with the statistics): what every
 * flow moved since the last read, summed per host. We chose this over conn records because a conn record
 * arrives only when its flow ends — a long download that spikes would be seen minutes late, or after an
 * hour's active timeout — while the deltas say what every flow did this very second, at the cost of one pass
 * over the table per second and nothing per packet. The sums are a bounded HostCounters: a flood of spoofed
 * sources costs it its capacity, no more.
 */
import type { FlowDeltaConsumer, FlowDeltas } from '../analyze/flows/flow-deltas.js';
import type { Connections } from '../analyze/flows/connections.js';
import { HostCounters } from '../analyze/flows/host-counters.js';

/** Hosts summed per second at most (past it, the smallest give way: see HostCounters). */
export const HOST_BYTES_CAPACITY = 65_536;

export class HostBytes implements FlowDeltaConsumer {
  readonly hosts = new HostCounters(HOST_BYTES_CAPACITY);
  /** Hosts folded into others by the bound, since the start. */
  replaced = 0;
  private readonly orig = new Uint32Array(4);
  private readonly resp = new Uint32Array(4);

  constructor(
    private readonly conns: Connections,
    deltas: FlowDeltas,
  ) {
    deltas.subscribe(this);
  }

  onFlowDelta(flow: number, _origPkts: number, origBytes: number, _respPkts: number, respBytes: number): void {
    const moved = origBytes + respBytes;
    if (!(moved > 0)) return;
    const table = this.conns.table;
    const version = table.versionOf(flow);
    const a = table.origAddress(flow, this.orig);
    const b = table.respAddress(flow, this.resp);
    this.hosts.add(version, a, 0, moved, 0, 0, false);
    if (a[0] !== b[0] || a[1] !== b[1] || a[2] !== b[2] || a[3] !== b[3]) this.hosts.add(version, b, 0, moved, 0, 0, false);
  }

  /** Hands the bytes per host since the last roll (the flow deltas passed since) to `use`, then starts the next second. */
  roll(use: (hosts: HostCounters) => void): void {
    use(this.hosts);
    this.replaced += this.hosts.replaced;
    this.hosts.clear();
  }
}
