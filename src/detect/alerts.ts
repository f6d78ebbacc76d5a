/**
 * The alert lifecycle: one alert per incident, keyed by (detector, key). The first signal opens it; later
 * signals update it (counters, last_seen, hosts...) and are written at most once per `updateInterval`; an
 * incident with no new signal for `quietPeriod` closes. Suppressed incidents never open, and an open one that a
 * new suppression covers closes at once. Time is always capture time passed in by the caller.
 */
import { uidFor } from '../analyze/flows/uid.js';
import type { AlertEvidence, AlertRecord } from '../analyze/records.js';
import type { FlowSample } from './flow-sample.js';
import { Suppressions, type SuppressionRule } from './suppressions.js';
import type { AlertSignal, Severity } from './types.js';

/** Hosts, ports and names listed per alert at most (the counters say how many there were in all). */
const MAX_LISTED = 50;
const SEVERITY_RANK: Record<Severity, number> = { low: 0, medium: 1, high: 2, critical: 3 };

export interface AlertBookOptions {
  quietPeriod: number;
  updateInterval: number;
  maxCommunityIds: number;
  idSeed: number;
  onAlert: (alert: AlertRecord) => void;
  /** An alert opened: returns the evidence pcap's path when evidence is being kept. */
  onOpen?: (alertId: string, signal: AlertSignal) => string | undefined;
  /** The incident went on: the evidence may widen to new hosts. */
  onUpdate?: (alertId: string, signal: AlertSignal) => void;
}

interface Incident {
  id: string;
  detector: string;
  key: string;
  firedTs: number;
  severity: Severity;
  message: string;
  src?: string;
  dst?: string;
  unit?: string;
  counters: Record<string, number>;
  thresholds: Record<string, number>;
  hosts: string[];
  ports: number[];
  names: string[];
  firstSeen: number;
  lastSeen: number;
  extra: Record<string, unknown>;
  flows: FlowSample[];
  pcap?: string;
  /** Capture time of the last signal (what the quiet period counts from). */
  lastActivity: number;
  /** Seconds without a signal that close it: the book's quiet period, or longer where the signal asked. */
  quiet: number;
  lastEmitted: number;
  dirty: boolean;
}

export class AlertBook {
  readonly suppressions = new Suppressions();
  private readonly open = new Map<string, Incident>();
  private serial = 0;
  /** Signals dropped by a suppression, by detector. */
  readonly suppressed = new Map<string, number>();
  opened = 0;

  constructor(private readonly options: AlertBookOptions) {}

  /** New lifecycle settings (a reload): open incidents keep going under them. */
  retune(settings: Pick<AlertBookOptions, 'quietPeriod' | 'updateInterval' | 'maxCommunityIds'>): void {
    this.options.quietPeriod = settings.quietPeriod;
    this.options.updateInterval = settings.updateInterval;
    this.options.maxCommunityIds = settings.maxCommunityIds;
  }

  get openCount(): number {
    return this.open.size;
  }

  /** Open alerts as records (current state), for a UI that connects mid-incident. */
  openAlerts(): AlertRecord[] {
    return [...this.open.values()].map((i) => this.record(i, 'update', i.lastActivity));
  }

  raise(detector: string, signal: AlertSignal): void {
    const key = `${detector}\u0000${signal.key}`;
    const incident = this.open.get(key);
    if (incident === undefined) {
      const rule = this.suppressions.match({ detector, src: signal.src, dst: signal.dst, unit: signal.unit }, signal.ts);
      if (rule) {
        this.suppressed.set(detector, (this.suppressed.get(detector) ?? 0) + 1);
        return;
      }
      this.openIncident(key, detector, signal);
      return;
    }
    merge(incident, signal, this.options.maxCommunityIds);
    if (signal.quiet !== undefined) incident.quiet = Math.max(incident.quiet, signal.quiet);
    this.options.onUpdate?.(incident.id, signal);
    incident.dirty = true;
    if (signal.ts - incident.lastEmitted >= this.options.updateInterval) this.emit(incident, 'update', signal.ts);
  }

  /** Once per second of capture time: due updates, quiet incidents closed, expired suppressions dropped. */
  second(now: number): void {
    this.suppressions.expire(now);
    for (const [key, incident] of this.open) {
      if (now - incident.lastActivity >= incident.quiet) {
        this.close(key, incident, now, 'quiet');
      } else if (incident.dirty && now - incident.lastEmitted >= this.options.updateInterval) {
        this.emit(incident, 'update', now);
      }
    }
  }

  /** End of input: every open alert closes with its final evidence. */
  finish(now: number): void {
    for (const [key, incident] of this.open) this.close(key, incident, Math.max(now, incident.lastActivity), 'end_of_input');
  }

  /** Adds a suppression (from the UI or config); open alerts it covers close now. Returns its id. */
  suppress(rule: SuppressionRule, now: number): number {
    const id = this.suppressions.add(rule);
    for (const [key, incident] of this.open) {
      if (this.suppressions.match(incident, now, false)?.id === id) this.close(key, incident, now, 'suppressed');
    }
    return id;
  }

  private openIncident(key: string, detector: string, signal: AlertSignal): void {
    this.serial++;
    this.opened++;
    const incident: Incident = {
      id: `A${uidFor(this.serial, this.options.idSeed).slice(1)}`,
      detector,
      key: signal.key,
      firedTs: signal.ts,
      severity: signal.severity,
      message: signal.message,
      src: signal.src,
      dst: signal.dst,
      unit: signal.unit,
      counters: {},
      thresholds: {},
      hosts: [],
      ports: [],
      names: [],
      firstSeen: signal.first_seen,
      lastSeen: signal.last_seen,
      extra: {},
      flows: [],
      lastActivity: signal.ts,
      quiet: Math.max(this.options.quietPeriod, signal.quiet ?? 0),
      lastEmitted: signal.ts,
      dirty: false,
    };
    merge(incident, signal, this.options.maxCommunityIds);
    incident.pcap = this.options.onOpen?.(incident.id, signal);
    this.open.set(key, incident);
    this.emit(incident, 'open', signal.ts);
  }

  private close(key: string, incident: Incident, now: number, reason: NonNullable<AlertRecord['closed_reason']>): void {
    this.open.delete(key);
    this.options.onAlert(this.record(incident, 'closed', now, reason));
  }

  private emit(incident: Incident, state: 'open' | 'update', now: number): void {
    incident.dirty = false;
    incident.lastEmitted = now;
    this.options.onAlert(this.record(incident, state, now));
  }

  private record(i: Incident, state: AlertRecord['state'], now: number, reason?: AlertRecord['closed_reason']): AlertRecord {
    const evidence: AlertEvidence = {
      counters: { ...i.counters },
      thresholds: { ...i.thresholds },
      hosts: [...i.hosts],
      first_seen: round6(i.firstSeen),
      last_seen: round6(i.lastSeen),
      ...i.extra,
    };
    if (i.ports.length) evidence.ports = [...i.ports].sort((a, b) => a - b);
    if (i.names.length) evidence.names = [...i.names];
    if (i.pcap) evidence.pcap = i.pcap;
    const record: AlertRecord = {
      type: 'alert', _path: 'notice',
      ts: round6(i.firedTs),
      alert_id: i.id,
      state,
      state_ts: round6(now),
      detector: i.detector,
      severity: i.severity,
      message: i.message,
      evidence,
      community_ids: [...new Set(i.flows.map((f) => f.communityId()))],
    };
    if (i.src !== undefined) record.src = i.src;
    if (i.dst !== undefined) record.dst = i.dst;
    if (reason) record.closed_reason = reason;
    return record;
  }
}

function merge(i: Incident, s: AlertSignal, maxFlows: number): void {
  i.message = s.message;
  if (SEVERITY_RANK[s.severity] > SEVERITY_RANK[i.severity]) i.severity = s.severity;
  i.counters = { ...s.counters };
  i.thresholds = { ...s.thresholds };
  i.firstSeen = Math.min(i.firstSeen, s.first_seen);
  i.lastSeen = Math.max(i.lastSeen, s.last_seen);
  i.lastActivity = Math.max(i.lastActivity, s.ts);
  addAll(i.hosts, s.hosts);
  addAll(i.ports, s.ports);
  addAll(i.names, s.names);
  if (s.extra) Object.assign(i.extra, s.extra);
  for (const f of s.flows ?? []) {
    if (i.flows.length >= maxFlows) break;
    i.flows.push(f);
  }
}

function addAll<T>(into: T[], items: readonly T[] | undefined): void {
  if (!items) return;
  for (const item of items) {
    if (into.length >= MAX_LISTED) return;
    if (!into.includes(item)) into.push(item);
  }
}

function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
