/**
 * The SSH analyzer: names the service of a flow whose either side sends an "SSH-" version banner (Zeek's
 * conn.log "ssh"), and keeps what the server's encrypted packet sizes say of the logins (login.ts) for
 * detection, which reads it at the flow's end (factsOf). It emits no record. Once a login succeeded, or the
 * server side stops being readable, the flow is released: a long session or a copy is never reassembled.
 * Runs on the packet loop: per flow one small object, nothing per packet.
 */
import type { AnalyzerContext, AppAnalyzer } from '../types.js';
import { SshLogin } from './login.js';
import { READ_BANNER, READ_DONE, SshStream } from './server-stream.js';
import { moveEntry } from '../../flows/flow-table.js';

/** Encrypted server packets read at most: a failing login takes a few dozen; past it, nothing more to learn. */
const MAX_ENCRYPTED_PACKETS = 64;

class SshFlow {
  readonly client = new SshStream();
  readonly server = new SshStream();
  readonly login = new SshLogin();
  confirmed = false;
  encryptedPackets = 0;
}

export class SshAnalyzer implements AppAnalyzer {
  private readonly flows = new Map<number, SshFlow>();

  constructor(private readonly ctx: AnalyzerContext) {}

  onStream(flowId: number, fromOrig: boolean, data: Buffer, offset: number, length: number): void {
    const flow = this.flow(flowId);
    if (fromOrig) {
      // The client's side tells only that this is SSH: its banner.
      if (flow.client.phase === READ_BANNER) flow.client.data(data, offset, length);
    } else if (flow.server.phase !== READ_DONE) {
      this.serverData(flow, data, offset, length);
    }
    if (!flow.confirmed && (flow.client.sawBanner || flow.server.sawBanner)) {
      flow.confirmed = true;
      this.ctx.confirmService(flowId, 'ssh');
    }
    if (this.finishedWith(flow)) this.ctx.release(flowId);
  }

  private serverData(flow: SshFlow, data: Buffer, offset: number, length: number): void {
    const encrypted = flow.server.data(data, offset, length);
    const login = flow.login;
    login.version = flow.server.version;
    if (encrypted === 0) return;
    login.encrypted = true;
    flow.encryptedPackets++;
    login.serverPacket(encrypted);
  }

  /** Nothing more to learn: the login's outcome is known, the server is unreadable, or enough was read. */
  private finishedWith(flow: SshFlow): boolean {
    if (!flow.confirmed) return flow.client.phase === READ_DONE && flow.server.phase === READ_DONE;
    return flow.login.decided || flow.server.phase === READ_DONE || flow.encryptedPackets >= MAX_ENCRYPTED_PACKETS;
  }

  onGap(flowId: number, fromOrig: boolean): void {
    // Bytes missing from the server's side: packet boundaries before NEWKEYS are lost, and sizes after it are
    // no longer one packet each. What was learned stays; nothing more is read.
    if (!fromOrig) {
      const flow = this.flows.get(flowId);
      if (flow !== undefined) flow.server.phase = READ_DONE;
    }
  }

  /** The login facts of a live SSH flow (detection reads them at the flow's end, before onFlowEnd). */
  factsOf(flowId: number): SshLogin | undefined {
    const flow = this.flows.get(flowId);
    return flow?.confirmed ? flow.login : undefined;
  }

  onFlowEnd(flowId: number): void {
    this.flows.delete(flowId);
  }

  advance(_now: number): void {
    // Nothing expires on its own: a flow's facts wait for its end.
  }

  finish(): void {
    this.flows.clear();
  }

  onFlowMoved(oldId: number, newId: number): void {
    moveEntry(this.flows, oldId, newId);
  }

  private flow(flowId: number): SshFlow {
    let flow = this.flows.get(flowId);
    if (flow === undefined) {
      flow = new SshFlow();
      this.flows.set(flowId, flow);
    }
    return flow;
  }
}
