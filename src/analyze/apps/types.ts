import type { WeirdCounter } from '../../decode/weirds.js';
import type { ConnId, LoopyRecord } from '../records.js';

/**
 * Application analyzers (DNS, TLS, HTTP...) sit on top of the flow table. Each lives in its own folder
 * under analyze/apps/ and is registered once in analyze/apps/index.ts; the app dispatch hands it the flows its
 * ports (or its probe) claim: a UDP flow datagram by datagram, a TCP flow as two reassembled byte streams
 * (the dispatch's TCP stream adapter does SYN, sequence order, retransmissions and lost segments once for
 * every analyzer, as Zeek's DeliverStream / Undelivered do). Every call below runs on the packet loop: an
 * analyzer does no I/O there and never throws on traffic (bad bytes are a named, counted weird).
 */

/** What the engine offers every analyzer. */
export interface AppContext {
  /** Sends a record out of the engine (strings are fine here: the record leaves the hot path). */
  emit(record: LoopyRecord): void;
  /** uid, id.* and proto of a live flow, for building records. */
  connId(flowId: number): ConnId;
  /** Marks the flow's `service` (conn.service) once the analyzer has recognised its protocol; saying it again costs a store. */
  confirmService(flowId: number, service: string): void;
  /** The flow ends after `seconds` without a packet instead of its transport's default (see udpIdleTimeout). */
  limitIdle(flowId: number, seconds: number): void;
  readonly weirds: WeirdCounter;
}

/** What an analyzer is created with: the engine's services, and a say in how its flows are delivered. */
export interface AnalyzerContext extends AppContext {
  /**
   * The analyzer is done reading this flow (a TLS record is out, an HTTP connection became a tunnel): from
   * now on the dispatch neither reassembles nor delivers it, and drops what it kept behind holes unread.
   * onFlowEnd still comes, without a flush, for what the analyzer keeps of the flow. Unknown or ended flows
   * are ignored.
   */
  release(flowId: number): void;
  /**
   * True when the capture joined this direction of a TCP flow mid-way (no SYN before its first byte), so its
   * first bytes may fall inside a message. Meaningful from the direction's first onStream or onGap on.
   */
  joinedMidStream(flowId: number, fromOrig: boolean): boolean;
}

export interface AppAnalyzer {
  /** One UDP datagram's payload (non-empty): data[offset, +length), captured at `ts`. Left out by TCP-only analyzers. */
  onDatagram?(flowId: number, fromOrig: boolean, data: Buffer, offset: number, length: number, ts: number): void;
  /**
   * The next in-order bytes of one direction of a TCP flow, data[offset, +length) (valid only during the call:
   * copy what you keep). `ts` is the capture time of the segment they came in; bytes the reassembler kept
   * behind a hole keep their own segment's time.
   */
  onStream(flowId: number, fromOrig: boolean, data: Buffer, offset: number, length: number, ts: number): void;
  /** `bytes` of that direction the capture never showed (a content gap): the next onStream starts past them. */
  onGap(flowId: number, fromOrig: boolean, bytes: number): void;
  /**
   * At a TCP flow's end both directions are flushed (what was kept behind holes is delivered, the holes
   * reported) before onFlowEnd: the originator's first, unless this says otherwise (HTTP: requests first,
   * whichever side sent them). Optional.
   */
  originatorFlushesFirst?(flowId: number): boolean;
  /**
   * The flow ended (closed, timed out, evicted, end of input): emit what is pending for it and forget it.
   * Comes for a released flow too.
   */
  onFlowEnd(flowId: number): void;
  /**
   * What the analyzer learned of a live flow that no record says (SSH: its logins' outcome, inferred from
   * encrypted sizes), for detection at the flow's end; called before onFlowEnd. Optional.
   */
  factsOf?(flowId: number): AppFlowFacts | undefined;
  /** Capture time moved on: expire pending state (e.g. DNS queries with no answer). */
  advance(now: number): void;
  /**
   * True when releasing a flow (AnalyzerContext.release) leaves the analyzer nothing of it: its record is out
   * and no onFlowEnd or factsOf needs it. The flow table may then move such a flow to another slot, under
   * another id (FlowTable.onMove), when it gives a burst's pages back. Absent: false.
   */
  readonly forgetsOnRelease?: boolean;
  /**
   * The flow `oldId` goes on as `newId` (the flow table moved it when it gave a burst's pages back): what the
   * analyzer keeps of it is the new id's from now on. An analyzer without it keeps its flows where they are.
   */
  onFlowMoved?(oldId: number, newId: number): void;
  /** End of input, after every flow's onFlowEnd: report everything still pending. */
  finish(): void;
}

/** A flow's facts from its analyzer (see AppAnalyzer.factsOf); each analyzer exports its own shape and guard. */
export interface AppFlowFacts {
  /** The service of the analyzer that made them (conn.service). */
  readonly service: string;
}

export interface AppRegistration {
  /** Service name as Zeek writes it in conn.service ("dns", "ssl", "http"). */
  readonly name: string;
  readonly tcpPorts?: readonly number[];
  readonly udpPorts?: readonly number[];
  /**
   * Out-of-order bytes kept per direction of a TCP flow while waiting for a hole to fill; past it the hole is
   * given up (an onGap). Default MAX_PENDING_BYTES (64 KiB).
   */
  readonly maxPendingBytes?: number;
  /**
   * Seconds without a packet after which a UDP flow this analyzer was given ends, instead of UDP's minute:
   * Zeek's dns_session_timeout (10 s), so that a server's thousands of one-query flows a second are not all
   * held for a minute. Set when the flow is handed to the analyzer.
   */
  readonly udpIdleTimeout?: number;
  /** For flows no port claimed: looks at the first payload of the flow; true claims it. */
  probe?(data: Buffer, offset: number, length: number, transport: number): boolean;
  create(ctx: AnalyzerContext): AppAnalyzer;
}
