/**
 * The detector framework's contracts. A detector is one file under detectors/ exporting a
 * DetectorRegistration (name, zod config with defaults, factory), listed once in detectors/index.ts. It
 * receives the engine's events through the DetectionEngine and reports incidents with `ctx.raise`; the
 * framework owns everything after that (one alert per incident, updates, closing, suppression, allow-lists,
 * evidence, Community IDs).
 *
 * Event objects are reused structs (like the decoder's Packet): read them during the call, copy what you keep.
 */
import type { z } from 'zod';
import type { AppFlowFacts } from '../analyze/apps/types.js';
import type { Connections } from '../analyze/flows/connections.js';
import type { HostCounters } from '../analyze/flows/host-counters.js';
import type { DnsRecord, LoopyRecord } from '../analyze/records.js';
import type { Packet } from '../decode/packet.js';
import type { SocketEvent } from '../host/process-attribution.js';
import type { HostKey } from './addresses.js';
import type { FlowSample } from './flow-sample.js';
import type { PairTraffic } from './pair-traffic.js';
import type { SlotTable, SlotTableOptions } from './slot-table.js';
import type { TrackedKeys, TrackedKeysOptions } from './tracked-keys.js';

export type Severity = 'low' | 'medium' | 'high' | 'critical';

/** How a connection attempt ended, judged from the flow table's endpoint states (see attempts.ts). */
export const Outcome = {
  /** The responder reset it before any handshake (TCP REJ: a closed port). */
  Rejected: 1,
  /** No answer at all within the grace time (TCP S0 / RSTOS0, a UDP or ICMP echo without reply). */
  Unanswered: 2,
  /** SYN-ACK came back, the handshake was never completed (nmap -sS on an open port, a SYN flood). */
  HalfOpen: 3,
  /** Handshake completed but no payload either way before it closed (a connect() scan). */
  Empty: 4,
  /** Payload went through, or a healthy connection outlived the grace time: a real conversation. */
  Ok: 5,
} as const;
export type OutcomeCode = (typeof Outcome)[keyof typeof Outcome];

/** Every outcome but Ok: what a probe (a scan's, a flood's) can end as. */
export const PROBE_OUTCOMES: readonly OutcomeCode[] = [Outcome.Rejected, Outcome.Unanswered, Outcome.HalfOpen, Outcome.Empty];

/** The identity of a flow, in originator → responder order. */
export class FlowFacts {
  /** Flow index in `connections` (valid during the call only). */
  flow = -1;
  version = 4;
  /** IP protocol: 6, 17, 1, 58. */
  proto = 0;
  readonly orig = new Uint32Array(4);
  readonly resp = new Uint32Array(4);
  origPort = 0;
  respPort = 0;
}

/**
 * A flow event's flow: its index, and its identity read from the flow table only when a detector asks (most
 * flows that start or end interest no detector: a blocklist with no address, a flow with no service).
 */
export interface FlowRef {
  /** Flow index in `connections` (valid during the call only). */
  readonly flow: number;
  /** The flow's identity, read on the first call of the event (a reused struct: copy what you keep). */
  facts(): FlowFacts;
}

export class AttemptFacts extends FlowFacts {
  outcome: OutcomeCode = Outcome.Ok;
  /** Capture time of the flow's first packet. */
  start = 0;
  /** Capture time the outcome was known. */
  ts = 0;
  origKey: HostKey = 0;
  respKey: HostKey = 0;
  /**
   * False for a TCP probe that asked for no connection (nmap's FIN, NULL, Xmas, ACK and Window scans:
   * no SYN), which only scan detectors take; true for every other attempt.
   */
  handshake = true;
}

/** An Ethernet/IPv4 ARP message (other hardware/protocol types are not reported). */
export class ArpFacts {
  ts = 0;
  /** 1 request, 2 reply. */
  opcode = 0;
  /** MACs as 48-bit numbers. */
  senderMac = 0;
  senderIp = 0;
  targetMac = 0;
  targetIp = 0;
  /** The Ethernet source of the frame, or -1 when the frame had no Ethernet header. */
  frameSourceMac = -1;
}

export interface Detector {
  readonly name: string;
  /** First packet of a flow (pkt holds it: TCP flags, ports). */
  onFlowStart?(flow: FlowRef, pkt: Packet): void;
  /**
   * A flow is about to be dropped (or reported by an active timeout), with the application service an
   * analyzer confirmed for it (conn.service), if any, and what that analyzer learned of it beyond its records
   * (an SSH flow's logins: analyze/apps/ssh, isSshLogin). Its columns are still readable.
   */
  onFlowEnd?(flow: FlowRef, service: string | undefined, app: AppFlowFacts | undefined): void;
  /**
   * A connection attempt's outcome: TCP flows that began with a SYN, UDP flows, ICMP echo requests, and TCP
   * probes without a handshake (`handshake` false).
   */
  onAttempt?(attempt: AttemptFacts): void;
  /** The outcomes onAttempt takes (default: all): an attempt is handed only to the detectors that take its outcome. */
  readonly attemptOutcomes?: readonly OutcomeCode[];
  onDns?(dns: DnsRecord): void;
  /** Live capture's kernel counters for the second that just ended, per interface (never when reading a file). */
  onCaptureSecond?(now: number, interfaces: readonly CaptureSecond[]): void;
  /** Every other record the engine emits (tls, http, weird...); flows come as onFlowEnd facts, never as conn records. */
  onRecord?(record: LoopyRecord): void;
  /** Each ICMP or ICMPv6 packet (keep this cheap: it runs per packet). */
  onIcmp?(pkt: Packet): void;
  onArp?(arp: ArpFacts): void;
  /** Each IPv4 packet, outer or tunnelled (keep this cheap: it runs per packet; pkt.macOffset gives its frame). */
  onIpv4?(pkt: Packet): void;
  /**
   * IP bytes each host sent plus received since the last call (hosts with traffic only: `hosts.bytes[slot]`
   * for slot < hosts.size), `elapsed` seconds of capture time ago (1 normally; more after a gap in the
   * capture). The counters are the framework's: read them during the call, keep nothing of them.
   */
  onHostSecond?(now: number, hosts: HostCounters, elapsed: number): void;
  /**
   * A local socket's owner was found (live agent with process attribution only): a listener, a bound UDP
   * port, an accepted or an outgoing connection, with the process.
   */
  onSocket?(event: SocketEvent): void;

  /**
   * Packets and bytes per directed host pair since the last call (pair-traffic.ts: pairs with traffic only,
   * `pairs.reverse(tally)` for the way back), once per detection second. Read during the call, keep nothing.
   */
  onPairSecond?(now: number, pairs: PairTraffic): void;
  /** Once per second of capture time (or of wall-clock time when live and idle). */
  second?(now: number): void;
  /** Stops watchers (a blocklist file) when detection ends. */
  close?(): void;
}

/** The counters that crossed a threshold, with the thresholds, for the alert's evidence. */
export interface AlertSignal {
  /** Identifies the incident within the detector (e.g. the scanner's address): same key, same alert. */
  key: string;
  /**
   * Capture time of the latest activity this signal reports (not the time of the check that sent it): the
   * quiet period that closes the alert counts from it.
   */
  ts: number;
  severity: Severity;
  /** One line a person understands: who did what to whom, how much, how fast. */
  message: string;
  /** The main actor and target as addresses (for suppression and allow-lists); omit when not an address. */
  src?: string;
  dst?: string;
  /** The unit or container of the process behind it (the process detectors): what a suppression per unit matches. */
  unit?: string;
  counters: Record<string, number>;
  thresholds: Record<string, number>;
  hosts?: string[];
  ports?: number[];
  names?: string[];
  first_seen: number;
  last_seen: number;
  /**
   * Seconds without a signal that close the incident, when longer than the alert book's quiet period (60 s
   * by default): an incident whose signals come slowly (a beacon every 10 min) stays one incident.
   */
  quiet?: number;
  /** Detector-specific facts (window, rates, MACs...). */
  extra?: Record<string, unknown>;
  /** Some flows of the incident, for Community IDs (a few suffice: the framework keeps at most 20). */
  flows?: FlowSample[];
  /** Which packets belong in the evidence pcap: pairs (a, b) between two hosts, or every packet of a host. */
  capture?: EvidenceScope;
}

export interface EvidenceScope {
  hosts?: HostKey[];
  pairs?: Array<[HostKey, HostKey]>;
}

/** One interface's capture counters over one second: packets the kernel received (drops included) and dropped. */
export interface CaptureSecond {
  name: string;
  received: number;
  dropped: number;
}

export interface DetectorContext {
  raise(signal: AlertSignal): void;
  /** The engine's flow table (per-flow columns); available once the detection engine is attached. */
  readonly connections: Connections;
  /** Copies what is needed of a live flow to compute its Community ID later. */
  sample(flow: number): FlowSample;
  /** "This site": the networks whose hosts are ours (for baseline detectors). */
  isLocal(version: number, words: Uint32Array, offset?: number): boolean;
  /** Capture time as far as detection has seen it. */
  now(): number;
  /**
   * Input is a capture file (`loopy read`), not a live capture: learned baselines are seeded from the file's
   * own first minutes (a file rarely holds the hours a live baseline takes), and alerts say so.
   */
  readonly fromFile: boolean;
  /**
   * A bounded table of per-key state (sources, targets, clients) for this detector: every such table in a
   * detector must come from here, so that its bound, and what the bound cost, are shown (tracked-keys.ts).
   */
  track<S>(table: string, capacity: number, options?: TrackedKeysOptions<S>): TrackedKeys<S>;
  /** The same bound for state kept in typed arrays by slot, for numeric keys met at every event (slot-table.ts). */
  trackSlots(table: string, capacity: number, options: SlotTableOptions): SlotTable;
  /**
   * Whether this detector's allow-lists cover the source or the target (either makes the event not count).
   * Check at intake so an allowed party never adds up; the framework checks alerts' src/dst again.
   */
  allowed(src: HostKey | undefined, dst: HostKey | undefined): boolean;
}

export interface DetectorRegistration<C extends DetectorCommonConfig = DetectorCommonConfig> {
  readonly name: string;
  /** One line for `--help`-style listings and docs. */
  readonly title: string;
  /** Strict zod object with a default for every field; must include the common fields (see config.ts). */
  readonly config: z.ZodType<C>;
  create(config: C, ctx: DetectorContext, deps: DetectorDeps): Detector;
  /**
   * Its settings that only a restart changes: those the detector reads once, when it is made (capacities,
   * `max*`, always are). A reload (SIGHUP) changes every other setting in place, the detector's state kept.
   */
  readonly restartOnly?: readonly string[];
}

/** Every detector's config has these (added by `detectorConfig` in config.ts). */
export interface DetectorCommonConfig {
  enabled: boolean;
  /** Overrides the detector's own severity. */
  severity?: Severity;
  /** Sources (addresses/CIDRs) that never raise this detector's alerts. */
  allowSources: string[];
  /** Targets (addresses/CIDRs) that never raise this detector's alerts. */
  allowTargets: string[];
}

/** I/O a detector may need, injected so tests pass fakes. */
export interface DetectorDeps {
  /** Where the blocklist comes from and how its changes are announced. */
  blocklistSource?: (path: string) => TextSource;
}

/** A text file that can change: read it now, and hear when it changed (returns the stop function). */
export interface TextSource {
  read(): string;
  watch(onChange: () => void): () => void;
}
