/**
 * Drives a DetectionEngine with hand-built events, no packets: connection attempt outcomes and DNS records
 * as the engine would hand them over, and the clock moved by hand. For detector tests that need exact
 * sequences (fire, update, close, suppression, allow-lists) without building thousands of frames.
 */
import type { AlertRecord, DnsRecord } from '../../analyze/records.js';
import { IPPROTO_TCP, IPPROTO_UDP } from '../../decode/packet.js';
import { hostKeyOf, parseAddress } from '../addresses.js';
import { parseDetectionConfig } from '../config.js';
import { DetectionEngine } from '../detection-engine.js';
import { AttemptFacts, type DetectorRegistration, type OutcomeCode } from '../types.js';

export interface AttemptSpec {
  src: string;
  dst: string;
  dport: number;
  sport?: number;
  proto?: 'tcp' | 'udp' | 'icmp';
  outcome: OutcomeCode;
  /** When the attempt started; `ts` (when its outcome was known) defaults to start + 0.001. */
  start: number;
  ts?: number;
}

export class DetectionHarness {
  readonly alerts: AlertRecord[] = [];
  readonly detection: DetectionEngine;
  private readonly facts = new AttemptFacts();

  constructor(config: unknown = {}, registrations?: readonly DetectorRegistration[]) {
    this.detection = new DetectionEngine({ config: parseDetectionConfig(config, registrations), registrations, onAlert: (a) => this.alerts.push(a) });
  }

  tick(now: number): void {
    this.detection.tick(now);
  }

  attempt(spec: AttemptSpec): void {
    const ts = spec.ts ?? spec.start + 0.001;
    this.tick(ts);
    const f = this.facts;
    const src = parseAddress(spec.src)!;
    const dst = parseAddress(spec.dst)!;
    f.version = src.version;
    f.orig.set(src.words);
    f.resp.set(dst.words);
    f.proto = spec.proto === 'udp' ? IPPROTO_UDP : spec.proto === 'icmp' ? (src.version === 6 ? 58 : 1) : IPPROTO_TCP;
    f.origPort = spec.sport ?? 40000;
    f.respPort = spec.dport;
    f.outcome = spec.outcome;
    f.start = spec.start;
    f.ts = ts;
    f.origKey = hostKeyOf(f.version, f.orig);
    f.respKey = hostKeyOf(f.version, f.resp);
    this.detection.onAttempt(f);
  }

  /** A dns record as the engine emits it (client → resolver:53 over UDP unless given). */
  dns(spec: { ts: number; client: string; resolver?: string; query: string; qtype?: number; qtype_name?: string; rcode?: number; rcode_name?: string; answers?: string[] }): void {
    this.tick(spec.ts);
    const record: DnsRecord = {
      type: 'dns', _path: 'dns',
      ts: spec.ts,
      uid: 'CtestUid0000000000',
      'id.orig_h': spec.client,
      'id.orig_p': 40000,
      'id.resp_h': spec.resolver ?? '10.0.0.1',
      'id.resp_p': 53,
      proto: 'udp',
      trans_id: 1,
      query: spec.query,
      qtype: spec.qtype ?? 1,
      qtype_name: spec.qtype_name ?? 'A',
      rcode: spec.rcode ?? 0,
      rcode_name: spec.rcode_name ?? 'NOERROR',
      AA: false,
      TC: false,
      RD: true,
      RA: true,
      Z: 0,
      rejected: false,
    };
    if (spec.answers) record.answers = spec.answers;
    this.detection.onRecord(record);
  }

  finish(): void {
    this.detection.finish();
  }

  /** Alerts of one state, for assertions. */
  states(state: AlertRecord['state']): AlertRecord[] {
    return this.alerts.filter((a) => a.state === state);
  }
}
