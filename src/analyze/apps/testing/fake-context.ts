/**
 * Test doubles for app analyzer tests: the engine's side of the AppContext, recording what the analyzer does
 * (hand it to AppDriver, which adds the dispatch's side), and TCP Packets filled by hand the way the decoders
 * fill them.
 */
import { Packet, TCP_ACK, TCP_PSH, TCP_SYN } from '../../../decode/packet.js';
import { WeirdCounter, type WeirdCount } from '../../../decode/weirds.js';
import type { ConnId, LoopyRecord } from '../../records.js';
import type { AppContext } from '../types.js';

export class FakeAppContext implements AppContext {
  readonly records: LoopyRecord[] = [];
  readonly services: Array<[number, string]> = [];
  /** Inactivity limits asked for, by flow id (limitIdle). */
  readonly idleLimits = new Map<number, number>();
  readonly weirds = new WeirdCounter();
  /** connId per flow id; unknown ids get a made-up one naming the flow. */
  readonly ids = new Map<number, ConnId>();

  emit(record: LoopyRecord): void {
    this.records.push(record);
  }
  connId(flowId: number): ConnId {
    return this.ids.get(flowId) ?? { uid: `C${flowId}`, 'id.orig_h': '10.0.0.1', 'id.orig_p': 40000 + flowId, 'id.resp_h': '10.0.0.2', 'id.resp_p': 443, proto: 'tcp' };
  }
  confirmService(flowId: number, service: string): void {
    this.services.push([flowId, service]);
  }
  limitIdle(flowId: number, seconds: number): void {
    this.idleLimits.set(flowId, seconds);
  }

  /** Where the output stands now, for `outputSince`. */
  mark(): OutputMark {
    return { records: this.records.length, services: this.services.length, weirds: this.weirds.list() };
  }

  /** What was emitted, confirmed and counted since `from`: one flow's output, to compare with another run's. */
  outputSince(from: OutputMark): FlowOutput {
    const before = new Map(from.weirds.map((w) => [w.name, w.count]));
    const weirds = this.weirds.list().map((w) => ({ name: w.name, count: w.count - (before.get(w.name) ?? 0) }));
    return { records: this.records.slice(from.records), services: this.services.slice(from.services), weirds: weirds.filter((w) => w.count > 0) };
  }
}

export interface OutputMark {
  records: number;
  services: number;
  weirds: WeirdCount[];
}

export interface FlowOutput {
  records: LoopyRecord[];
  services: Array<[number, string]>;
  weirds: WeirdCount[];
}

export interface SegmentSpec {
  seq: number;
  payload?: Buffer;
  flags?: number;
  ts?: number;
  /** The acknowledgment number. Without one the packet acknowledges nothing: its ACK flag is cleared. */
  ack?: number;
}

/**
 * Fills the reused Packet as the TCP decoder would: the payload sits after 54 bytes of filler (where
 * Ethernet/IP/TCP headers would be), so analyzers that ignore payloadOffset would read the wrong bytes.
 * Analyzers take an ACK as proof of what the peer received, so a fake packet carries the ACK flag only with
 * a real acknowledgment number (spec.ack), never a made-up one.
 */
export function fillTcpPacket(pkt: Packet, spec: SegmentSpec): Packet {
  const payload = spec.payload ?? Buffer.alloc(0);
  const frame = Buffer.alloc(54 + payload.length, 0xee);
  payload.copy(frame, 54);
  pkt.reset(frame, new DataView(frame.buffer, frame.byteOffset, frame.length), 0, frame.length, frame.length, spec.ts ?? 0, 1, 0);
  pkt.transport = 6;
  const flags = spec.flags ?? (payload.length > 0 ? TCP_ACK | TCP_PSH : TCP_ACK);
  pkt.tcpFlags = spec.ack === undefined ? flags & ~TCP_ACK : flags | TCP_ACK;
  pkt.ack = (spec.ack ?? 0) >>> 0;
  pkt.seq = spec.seq >>> 0;
  pkt.payloadOffset = 54;
  pkt.payloadLength = payload.length;
  pkt.payloadWireLength = payload.length;
  return pkt;
}

/** A UDP datagram carrying `payload`, filled like fillTcpPacket's segments. */
export function fillUdpPacket(pkt: Packet, payload: Buffer, ts = 0): Packet {
  fillTcpPacket(pkt, { seq: 0, payload, ts });
  pkt.transport = 17;
  pkt.tcpFlags = 0;
  return pkt;
}

/** A SYN, or with `ack` (the client's ISN + 1) a SYN-ACK. */
export function synPacket(pkt: Packet, isn: number, ts = 0, ack?: number): Packet {
  return fillTcpPacket(pkt, { seq: isn, flags: ack === undefined ? TCP_SYN : TCP_SYN | TCP_ACK, ts, ack });
}

/** Hex with spaces/newlines/comments allowed ("16 03 01 # record header"). */
export function hex(text: string): Buffer {
  return Buffer.from(text.replace(/#[^\n]*/g, '').replace(/\s+/g, ''), 'hex');
}
