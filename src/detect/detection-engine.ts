/**
 * Detection beside the engine: fans the engine's events out to the detectors, derives what several of them
 * need (connection attempt outcomes, per-host bytes per second) once, keeps capture time, and owns the alert
 * lifecycle (AlertBook), the evidence ring and the evidence files.
 *
 *   const detection = new DetectionEngine({ config, onAlert });
 *   detection.attach(pipeline); // after the outputs: an alert goes out after the record that raised it
 *   await pipeline.run(source);
 *   pipeline.finish();          // alerts close before the summary record goes out
 *   await detection.close();    // evidence files written, watchers stopped
 *
 * Time is capture time (packets' timestamps), moved by the pipeline's clock when no packet comes.
 */
import type { Engine, FlowEndReason } from '../analyze/engine.js';
import type { FlowDeltas } from '../analyze/flows/flow-deltas.js';
import type { Pipeline } from '../analyze/pipeline.js';
import type { DnsRecord, LoopyRecord } from '../analyze/records.js';
import type { AlertRecord } from '../analyze/records.js';
import type { Packet } from '../decode/packet.js';
import type { SocketEvent } from '../host/process-attribution.js';
import { LocalNets } from '../stats/local-nets.js';
import { AddressSet } from './addresses.js';
import { AlertBook } from './alerts.js';
import { readArpFacts } from './arp-facts.js';
import { AttemptTracker, DEFAULT_ATTEMPT_TIMING, type AttemptTiming } from './attempts.js';
import { defaultDetectionConfig, type DetectionConfig } from './config.js';
import { changedKeys } from './config-diff.js';
import { DETECTORS } from './detectors/index.js';
import { EvidenceRecorder, type EvidenceSink } from './evidence/evidence-recorder.js';
import { PacketRing } from './evidence/packet-ring.js';
import { FlowSample, LazyFlowFacts } from './flow-sample.js';
import { HostBytes } from './host-bytes.js';
import { PairTraffic } from './pair-traffic.js';
import type { Suppression, SuppressionRule } from './suppressions.js';
import { ArpFacts, Outcome, type AlertSignal, type AttemptFacts, type CaptureSecond, type Detector, type DetectorCommonConfig, type DetectorContext, type DetectorDeps, type DetectorRegistration } from './types.js';
import { SlotTable, type SlotTableOptions } from './slot-table.js';
import { TrackedKeys, type TrackedKeysOptions, type TrackedKeysReport } from './tracked-keys.js';

export interface DetectionOptions {
  /** Parsed config (parseDetectionConfig); default: every default. */
  config?: DetectionConfig;
  /** The detectors to run (default: all of detectors/index.ts that the config enables). */
  registrations?: readonly DetectorRegistration[];
  /** Receives each alert record (open, update, closed). */
  onAlert: (alert: AlertRecord) => void;
  /** Where evidence pcaps go; without one no packet ring is kept. */
  evidence?: EvidenceSink;
  deps?: DetectorDeps;
  attemptTiming?: AttemptTiming;
  /** The input is a capture file (loopy read): baseline detectors learn from its first minutes (ctx.fromFile). */
  fromFile?: boolean;
}

interface Running {
  name: string;
  detector: Detector;
  config: DetectorCommonConfig;
  allowSources: AddressSet;
  allowTargets: AddressSet;
}

export class DetectionEngine {
  readonly config: DetectionConfig;
  readonly book: AlertBook;
  readonly ring: PacketRing | undefined;
  readonly evidence: EvidenceRecorder | undefined;
  private readonly running: Running[] = [];
  private engine: Engine | undefined;
  private attempts: AttemptTracker | undefined;
  private hostBytes: HostBytes | undefined;
  private pairTraffic: PairTraffic | undefined;
  /** The pipeline's flow deltas, when hosts or pairs are counted: passed once a detection second. */
  private deltas: FlowDeltas | undefined;
  private localNets: LocalNets;
  /** The ids of the suppressions the config gave (a reload replaces them; a client's stay). */
  private configSuppressions: number[] = [];
  /** The flow of a flow start or end, read from the table only if a detector asks (made when attached). */
  private flowRef: LazyFlowFacts | undefined;
  private readonly arpFacts = new ArpFacts();
  private clock = Number.NaN;
  private nextSecond = Number.NaN;
  private lastRoll = Number.NaN;
  private finished = false;
  /** Signals an allow-list dropped, by detector. */
  readonly allowed = new Map<string, number>();
  /** Every detector's bounded per-key tables (ctx.track), for the agent's status. */
  private readonly tables: Array<{ report(): TrackedKeysReport }> = [];

  // Detectors by the events they take, so an event nobody wants costs nothing.
  private readonly onFlowStartList: Detector[] = [];
  private readonly onFlowEndList: Detector[] = [];
  private readonly onAttemptList: Detector[] = [];
  /** The detectors that take each outcome code (most attempts are Ok, which the scan and flood detectors skip). */
  private readonly byOutcome: Detector[][] = Object.values(Outcome).map(() => []);
  private readonly onDnsList: Detector[] = [];
  private readonly onRecordList: Detector[] = [];
  private readonly onIcmpList: Detector[] = [];
  private readonly onArpList: Detector[] = [];
  private readonly onIpv4List: Detector[] = [];
  private readonly onHostSecondList: Detector[] = [];
  private readonly onPairSecondList: Detector[] = [];
  private readonly onSecondList: Detector[] = [];
  private readonly onCaptureSecondList: Detector[] = [];
  private readonly onSocketList: Detector[] = [];

  constructor(private readonly options: DetectionOptions) {
    const config = (this.config = options.config ?? defaultDetectionConfig(options.registrations));
    this.localNets = new LocalNets(config.localNets);
    if (options.evidence) {
      this.ring = new PacketRing({ bytes: config.evidence.ringMiB * 1024 * 1024, snaplen: config.evidence.snaplen });
      this.evidence = new EvidenceRecorder(this.ring, options.evidence, config.evidence);
    }
    const evidence = this.evidence;
    this.book = new AlertBook({
      ...config.alerts,
      onAlert: options.onAlert,
      onOpen: evidence ? (id, signal) => evidence.request(id, signal) : undefined,
      onUpdate: evidence ? (id, signal) => evidence.widen(id, signal) : undefined,
    });
    this.configSuppressions = config.suppressions.map((s) => this.book.suppressions.add(s));
    for (const reg of options.registrations ?? DETECTORS) {
      const cfg = config.detectors[reg.name] as DetectorCommonConfig | undefined;
      if (!cfg || !cfg.enabled) continue;
      const running: Running = { name: reg.name, config: cfg, allowSources: AddressSet.of(cfg.allowSources), allowTargets: AddressSet.of(cfg.allowTargets), detector: undefined as unknown as Detector };
      running.detector = reg.create(cfg, this.contextFor(running), options.deps ?? {});
      this.running.push(running);
      const d = running.detector;
      if (d.onFlowStart) this.onFlowStartList.push(d);
      if (d.onFlowEnd) this.onFlowEndList.push(d);
      if (d.onAttempt) {
        this.onAttemptList.push(d);
        for (const outcome of d.attemptOutcomes ?? Object.values(Outcome)) this.byOutcome[outcome - 1].push(d);
      }
      if (d.onDns) this.onDnsList.push(d);
      if (d.onRecord) this.onRecordList.push(d);
      if (d.onCaptureSecond) this.onCaptureSecondList.push(d);
      if (d.onSocket) this.onSocketList.push(d);
      if (d.onIcmp) this.onIcmpList.push(d);
      if (d.onArp) this.onArpList.push(d);
      if (d.onIpv4) this.onIpv4List.push(d);
      if (d.onHostSecond) this.onHostSecondList.push(d);
      if (d.onPairSecond) this.onPairSecondList.push(d);
      if (d.second) this.onSecondList.push(d);
    }
  }

  /** Names of the detectors running. */
  get detectors(): string[] {
    return this.running.map((r) => r.name);
  }

  /**
   * Observes the pipeline: every batch (the evidence ring), flow events, records, ICMP and ARP layers, its
   * clock and the end of input. Attach it after the outputs, so an alert goes out after the record that
   * raised it.
   */
  attach(pipeline: Pipeline): void {
    const engine = (this.engine = pipeline.engine);
    this.flowRef = new LazyFlowFacts(engine.connections);
    if (this.onAttemptList.length) this.attempts = new AttemptTracker(engine.connections, (a) => this.onAttempt(a), this.options.attemptTiming ?? DEFAULT_ATTEMPT_TIMING);
    if (this.onHostSecondList.length) this.hostBytes = new HostBytes(engine.connections, pipeline.flowDeltas);
    if (this.onPairSecondList.length) this.pairTraffic = new PairTraffic(engine.connections, pipeline.flowDeltas);
    if (this.hostBytes || this.pairTraffic) this.deltas = pipeline.flowDeltas;
    const layers: Record<string, (pkt: Packet) => void> = {};
    if (this.onIcmpList.length) layers.icmp = layers.icmpv6 = (pkt) => this.onIcmp(pkt);
    if (this.onArpList.length) layers.arp = (pkt) => this.onArp(pkt);
    if (this.onIpv4List.length === 1) {
      const only = this.onIpv4List[0];
      layers.ipv4 = (pkt) => only.onIpv4!(pkt);
    }
    else if (this.onIpv4List.length) layers.ipv4 = (pkt) => {
      for (let i = 0; i < this.onIpv4List.length; i++) this.onIpv4List[i].onIpv4!(pkt);
    };
    const ring = this.ring;
    pipeline.observe({
      onBatch: ring ? (batch) => ring.addBatch(batch) : undefined,
      onFlowStart: (flow, pkt) => this.onFlowStart(flow, pkt),
      onFlowEnd: (flow, reason) => this.onFlowEnd(flow, reason),
      onRecord: (record) => this.onRecord(record),
      // Flows come through onFlowEnd as facts; a conn record object per flow would be made for nothing.
      connRecords: false,
      onAdvance: (now) => this.advance(now),
      onFinish: () => this.finish(),
      layers,
    });
  }

  /** Live: the kernel's counters for the second ending at `now` (the agent, once a second). */
  captureSecond(now: number, interfaces: readonly CaptureSecond[]): void {
    for (const d of this.onCaptureSecondList) d.onCaptureSecond!(now, interfaces);
  }

  /** Live, with process attribution: a local socket and its owner (src/host/). */
  socketEvent(event: SocketEvent): void {
    for (const d of this.onSocketList) d.onSocket!(event);
  }

  /** Live: wall-clock (capture-clock) time passes with no packet. */
  tick(now: number): void {
    this.advance(now);
  }

  /** Capture time as far as detection has seen it (NaN before the first event). */
  now(): number {
    return this.clock;
  }

  suppress(rule: SuppressionRule): number {
    return this.book.suppress(rule, Number.isNaN(this.clock) ? 0 : this.clock);
  }

  unsuppress(id: number): boolean {
    return this.book.suppressions.remove(id);
  }

  suppressions(): Suppression[] {
    return this.book.suppressions.list();
  }

  openAlerts(): AlertRecord[] {
    return this.book.openAlerts();
  }

  /** End of input (the pipeline calls it before its summary): last checks, every alert closes. */
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    const now = Math.max(Number.isNaN(this.clock) ? 0 : this.clock, this.engine?.lastTs ?? 0) || 0;
    this.clock = now;
    this.runSecond(now);
    this.book.finish(now);
    this.evidence?.finish();
  }

  /** Waits for evidence files and stops detectors' watchers. */
  async close(): Promise<void> {
    for (const r of this.running) r.detector.close?.();
    await this.evidence?.settle();
  }

  // ---- event fan-out

  onFlowStart(flow: number, pkt: Packet): void {
    this.advance(pkt.ts);
    this.attempts?.onFlowStart(flow, pkt);
    if (this.onFlowStartList.length === 0) return;
    const ref = this.flowRef!.at(flow);
    for (const d of this.onFlowStartList) d.onFlowStart!(ref, pkt);
  }

  onFlowEnd(flow: number, _reason: FlowEndReason): void {
    const now = this.engine ? this.engine.lastTs : this.clock;
    this.attempts?.onFlowEnd(flow, Math.max(now, Number.isNaN(this.clock) ? now : this.clock));
    if (this.onFlowEndList.length === 0 || !this.engine) return;
    const ref = this.flowRef!.at(flow);
    const service = this.engine.serviceOf(flow);
    const app = this.engine.appFactsOf(flow);
    for (const d of this.onFlowEndList) d.onFlowEnd!(ref, service, app);
  }

  onRecord(record: LoopyRecord): void {
    // Alerts (ours, emitted beside the engine's records) and the summary are not traffic.
    if (record.type === 'alert' || record.type === 'summary') return;
    if (this.engine) this.advance(this.engine.lastTs);
    if (record.type === 'dns') {
      for (const d of this.onDnsList) d.onDns!(record as DnsRecord);
      return;
    }
    for (const d of this.onRecordList) d.onRecord!(record);
  }

  onAttempt(attempt: AttemptFacts): void {
    const list = this.byOutcome[attempt.outcome - 1];
    for (let i = 0; i < list.length; i++) list[i].onAttempt!(attempt);
  }

  private onIcmp(pkt: Packet): void {
    if (pkt.ts >= this.nextSecond || Number.isNaN(this.nextSecond)) this.advance(pkt.ts);
    for (let i = 0; i < this.onIcmpList.length; i++) this.onIcmpList[i].onIcmp!(pkt);
  }

  private onArp(pkt: Packet): void {
    this.advance(pkt.ts);
    if (!readArpFacts(pkt, this.arpFacts)) return;
    for (const d of this.onArpList) d.onArp!(this.arpFacts);
  }

  // ---- time

  private advance(t: number): void {
    if (!(t <= this.clock)) this.clock = t;
    if (Number.isNaN(this.nextSecond)) {
      if (!Number.isNaN(this.clock)) {
        this.nextSecond = Math.floor(this.clock) + 1;
        this.lastRoll = this.clock;
      }
      return;
    }
    if (this.clock >= this.nextSecond) this.runSecond(this.clock);
  }

  private runSecond(now: number): void {
    this.nextSecond = Math.floor(now) + 1;
    this.attempts?.second(now);
    // One pass over the flow table's counters feeds both the hosts' and the pairs' sums.
    this.deltas?.pass();
    if (this.hostBytes) {
      const elapsed = Number.isNaN(this.lastRoll) ? 1 : Math.max(now - this.lastRoll, 1e-3);
      this.hostBytes.roll((hosts) => {
        for (const d of this.onHostSecondList) d.onHostSecond!(now, hosts, elapsed);
      });
    }
    this.pairTraffic?.roll(now, (pairs) => {
      for (const d of this.onPairSecondList) d.onPairSecond!(now, pairs);
    });
    this.lastRoll = now;
    for (const d of this.onSecondList) d.second!(now);
    this.book.second(now);
    this.evidence?.second(now);
  }

  /**
   * A new config for the running engine (SIGHUP): every setting read at use is changed in place, so open
   * alerts, windows and baselines stay; settings fixed when a detector was made (its `restartOnly`, its
   * capacities `max*`, evidence, alert ids, turning on a detector that is not running) keep their running value
   * and are reported. `delivery` is the caller's (the engine sends nothing).
   */
  reconfigure(next: DetectionConfig, registrations: readonly DetectorRegistration[] = this.options.registrations ?? DETECTORS): { applied: string[]; needRestart: string[] } {
    const applied: string[] = [];
    const needRestart: string[] = [];
    for (const key of changedKeys(this.config, next)) {
      if (key.startsWith('delivery')) continue;
      (this.applySetting(key, next, registrations) ? applied : needRestart).push(key);
    }
    return { applied, needRestart };
  }

  private applySetting(key: string, next: DetectionConfig, registrations: readonly DetectorRegistration[]): boolean {
    const [section, name, setting] = key.split('.');
    if (section === 'suppressions') {
      for (const id of this.configSuppressions) this.book.suppressions.remove(id);
      this.configSuppressions = next.suppressions.map((s) => this.book.suppressions.add(s));
      this.config.suppressions = next.suppressions;
      return true;
    }
    if (section === 'localNets') {
      this.localNets = new LocalNets(next.localNets);
      this.config.localNets = next.localNets;
      return true;
    }
    if (section === 'alerts' && name !== 'idSeed') {
      const alerts = { ...this.config.alerts, [name]: next.alerts[name as keyof DetectionConfig['alerts']] };
      this.book.retune(alerts);
      this.config.alerts = alerts;
      return true;
    }
    if (section !== 'detectors') return false;
    const running = this.running.find((r) => r.name === name);
    const fixed = registrations.find((r) => r.name === name)?.restartOnly ?? [];
    if (!running || setting === undefined || setting.startsWith('max') || fixed.includes(setting)) return false;
    const value = next.detectors[name][setting];
    (running.config as unknown as Record<string, unknown>)[setting] = value;
    if (setting === 'allowSources') running.allowSources = AddressSet.of(value as string[]);
    if (setting === 'allowTargets') running.allowTargets = AddressSet.of(value as string[]);
    return true;
  }

  /** Each detector table's size, capacity and what its bound cost (keys declined, keys let go). */
  stateReport(): TrackedKeysReport[] {
    return this.tables.map((t) => t.report());
  }

  // ---- what detectors see

  private contextFor(running: Running): DetectorContext {
    const self = this;
    return {
      raise: (signal) => self.raise(running, signal),
      get connections() {
        if (!self.engine) throw new Error('detection is not attached to an engine yet (call attach)');
        return self.engine.connections;
      },
      sample: (flow) => FlowSample.ofFlow(self.engine!.connections, flow),
      isLocal: (version, words, offset = 0) => self.localNets.contains(version, words, offset),
      now: () => self.clock,
      fromFile: this.options.fromFile === true,
      track: <S>(table: string, capacity: number, options?: TrackedKeysOptions<S>) => {
        const keys = new TrackedKeys<S>(running.name, table, capacity, options);
        self.tables.push(keys);
        return keys;
      },
      trackSlots: (table: string, capacity: number, options: SlotTableOptions) => {
        const slots = new SlotTable(running.name, table, capacity, options);
        self.tables.push(slots);
        return slots;
      },
      allowed: (src, dst) =>
        (src !== undefined && running.allowSources.size > 0 && running.allowSources.containsKey(src)) ||
        (dst !== undefined && running.allowTargets.size > 0 && running.allowTargets.containsKey(dst)),
    };
  }

  private raise(running: Running, signal: AlertSignal): void {
    // Turned off by a reload: it still runs (its state kept, should it be turned on again) but raises nothing.
    if (!running.config.enabled) return;
    if ((signal.src !== undefined && running.allowSources.size > 0 && running.allowSources.containsText(signal.src)) || (signal.dst !== undefined && running.allowTargets.size > 0 && running.allowTargets.containsText(signal.dst))) {
      this.allowed.set(running.name, (this.allowed.get(running.name) ?? 0) + 1);
      return;
    }
    if (running.config.severity) signal.severity = running.config.severity;
    this.book.raise(running.name, signal);
  }
}
