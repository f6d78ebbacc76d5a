/**
 * A flow remembered for an alert: its tuple, enough for the Community ID, which is computed only when the
 * alert is written (a SHA-1 per flow that ends up in an alert, never per flow seen).
 */
import { communityId } from '../analyze/flows/community-id.js';
import type { Connections } from '../analyze/flows/connections.js';
import { FlowFacts, type FlowRef } from './types.js';

export class FlowSample {
  private id: string | undefined;

  constructor(
    readonly version: number,
    readonly proto: number,
    readonly orig: Uint32Array,
    readonly resp: Uint32Array,
    readonly origPort: number,
    readonly respPort: number,
  ) {}

  static ofFacts(f: FlowFacts): FlowSample {
    return new FlowSample(f.version, f.proto, f.orig.slice(), f.resp.slice(), f.origPort, f.respPort);
  }

  static ofFlow(conns: Connections, flow: number): FlowSample {
    const f = readFlowFacts(conns, flow, new FlowFacts());
    return FlowSample.ofFacts(f);
  }

  communityId(): string {
    if (this.id === undefined) {
      const n = this.version === 6 ? 16 : 4;
      // As conn records compute it (ICMP ports are the flow table's type/counterpart equivalents).
      this.id = communityId(this.proto, bytesOf(this.orig, n), bytesOf(this.resp, n), this.origPort, this.respPort);
    }
    return this.id;
  }
}

function bytesOf(words: Uint32Array, n: number): Uint8Array {
  const out = Buffer.alloc(n);
  for (let i = 0; i < n / 4; i++) out.writeUInt32BE(words[i] >>> 0, i * 4);
  return out;
}

/** Fills `into` with a live flow's identity from the flow table (no allocation). */
export function readFlowFacts<T extends FlowFacts>(conns: Connections, flow: number, into: T): T {
  const table = conns.table;
  table.origAddress(flow, into.orig);
  table.respAddress(flow, into.resp);
  into.flow = flow;
  into.version = table.versionOf(flow);
  into.proto = table.protoOf(flow);
  into.origPort = table.origPort(flow);
  into.respPort = table.respPort(flow);
  return into;
}

/** A flow event's FlowRef, reused from event to event: the table is read once, if a detector asks. */
export class LazyFlowFacts implements FlowRef {
  flow = -1;
  private read = false;
  private readonly out = new FlowFacts();

  constructor(private readonly conns: Connections) {}

  /** The event's flow: what an earlier event read is forgotten. */
  at(flow: number): this {
    this.flow = flow;
    this.read = false;
    return this;
  }

  facts(): FlowFacts {
    if (!this.read) {
      readFlowFacts(this.conns, this.flow, this.out);
      this.read = true;
    }
    return this.out;
  }
}
