import type { Packet } from '../../decode/packet.js';
import type { WeirdCounter } from '../../decode/weirds.js';
import type { ConnId, LoopyRecord } from '../records.js';

/**
 * Application analyzers (DNS, TLS, HTTP...) sit on top of the flow table. Each lives in its own folder
 * under analyze/apps/ and is registered once in analyze/apps/index.ts; the engine hands it the payload of
 * the flows its ports (or its probe) claim.
 */
export interface AppContext {
  /** Sends a record out of the engine (strings are fine here: the record leaves the hot path). */
  emit(record: LoopyRecord): void;
  /** uid, id.* and proto of a live flow, for building records. */
  connId(flowId: number): ConnId;
  /** Marks the flow's `service` (conn.service) once the analyzer has recognised its protocol. */
  confirmService(flowId: number, service: string): void;
  readonly weirds: WeirdCounter;
}

export interface AppAnalyzer {
  /** Payload of one packet of a claimed flow: pkt.data[pkt.payloadOffset, +pkt.payloadLength). For TCP, pkt.seq is the segment's sequence number. */
  onPayload(flowId: number, fromOrig: boolean, pkt: Packet): void;
  /** The flow ended (closed, timed out, evicted): emit what is pending for it and forget it. */
  onFlowEnd(flowId: number): void;
  /** Capture time moved on: expire pending state (e.g. DNS queries with no answer). */
  advance(now: number): void;
  /** End of input: report everything still pending. */
  finish(): void;
}

export interface AppRegistration {
  /** Service name as Zeek writes it in conn.service ("dns", "ssl", "http"). */
  readonly name: string;
  readonly tcpPorts?: readonly number[];
  readonly udpPorts?: readonly number[];
  /** For flows no port claimed: looks at the first payload of the flow; true claims it. */
  probe?(data: Buffer, offset: number, length: number, transport: number): boolean;
  create(ctx: AppContext): AppAnalyzer;
}
