/**
 * "New since the baseline": after a learning period, a local host talking to a port or an application
 * service it never used, and a local host answering on a port it never answered on (a new listening
 * service). Only conversations that carried data count (attempt outcome Ok; the flow's confirmed service), so a
 * scan's probes teach and report nothing. Ports above `maxPort` (ephemeral ranges: P2P, RTP, passive FTP)
 * are left out. One incident per host and direction; each new port or service updates it.
 */
import { z } from 'zod';
import { IPPROTO_TCP, IPPROTO_UDP } from '../../decode/packet.js';
import { hostKeyOf, hostText, type HostKey } from '../addresses.js';
import { count, detectorConfig, seconds } from '../detector-config.js';
import { FlowSample } from '../flow-sample.js';
import { Outcome, type AttemptFacts, type Detector, type DetectorContext, type DetectorRegistration, type FlowRef } from '../types.js';
import { formatDuration } from '../windows.js';
import { mix32 } from '../../analyze/mix32.js';

const config = detectorConfig({
  /** Seconds of capture time spent learning before anything counts as new ("new since yesterday"). */
  learnSeconds: seconds(86_400),
  /** Destination/listening ports above this are ignored. */
  maxPort: z.number().int().min(0).max(65535).default(32_767),
  clients: z.boolean().default(true),
  listeners: z.boolean().default(true),
  services: z.boolean().default(true),
  /** Learned pairs kept at most (each direction). */
  maxEntries: count(1_000_000),
});
type Config = z.infer<typeof config>;

interface Incident {
  host: string;
  hostKey: HostKey;
  role: 'client' | 'listener';
  what: string[];
  first: number;
  last: number;
  changed: boolean;
  samples: FlowSample[];
}

/** What a host used or offered: TCP port, UDP port + 0x10000, application service 0x20000 + its id. */
const UDP_BIT = 0x10000;
const SERVICE_BIT = 0x20000;
/** A free slot of PairSet's table (no port or service is negative). */
const EMPTY = -1;

/**
 * host → what it used. IPv4 hosts' pairs sit in one open-addressing table of typed arrays (linear probing,
 * never deleted: the set only learns), so the check made for nearly every connection reads a slot or two
 * and no Map of Sets; IPv6 hosts (text keys) keep a Set per host.
 */
class PairSet {
  private hosts = new Int32Array(1024);
  /** What each slot holds, EMPTY when free. */
  private whats = new Int32Array(1024).fill(EMPTY);
  private mask = 1023;
  private inTable = 0;
  private readonly byText = new Map<string, Set<number>>();
  size = 0;

  /** Adds the pair; false when it was there already or the set is full. */
  add(host: HostKey, what: number, max: number): boolean {
    if (typeof host !== 'number') return this.addText(host, what, max);
    const i = this.slot(host, what);
    if (this.whats[i] !== EMPTY || this.size >= max) return false;
    this.whats[i] = what;
    this.hosts[i] = host;
    this.size++;
    if (++this.inTable * 2 > this.mask) this.grow();
    return true;
  }

  /** The pair's slot, or the free one where it would go. */
  private slot(host: number, what: number): number {
    const mask = this.mask;
    let i = mix32(host ^ Math.imul(what + 1, 0x9e3779b1)) & mask;
    for (;;) {
      const w = this.whats[i];
      if (w === EMPTY || (w === what && this.hosts[i] === host)) return i;
      i = (i + 1) & mask;
    }
  }

  private grow(): void {
    const { hosts, whats } = this;
    this.hosts = new Int32Array(hosts.length * 2);
    this.whats = new Int32Array(whats.length * 2).fill(EMPTY);
    this.mask = this.whats.length - 1;
    for (let i = 0; i < whats.length; i++) {
      if (whats[i] === EMPTY) continue;
      const j = this.slot(hosts[i], whats[i]);
      this.whats[j] = whats[i];
      this.hosts[j] = hosts[i];
    }
  }

  private addText(host: string, what: number, max: number): boolean {
    let set = this.byText.get(host);
    if (set === undefined) {
      if (this.size >= max) return false;
      set = new Set();
      this.byText.set(host, set);
    }
    if (set.has(what) || this.size >= max) return false;
    set.add(what);
    this.size++;
    return true;
  }
}

function portName(k: number): string {
  return `${k & UDP_BIT ? 'udp' : 'tcp'}/${k & 0xffff}`;
}

class NewServiceDetector implements Detector {
  readonly name = 'new_service';
  private readonly used = new PairSet();
  private readonly listening = new PairSet();
  private readonly incidents = new Map<string, Incident>();
  private readonly serviceIds = new Map<string, number>();
  /**
   * Seconds of capture observed: at most one per second() call, so a capture file that jumps a year between
   * two packets (several corpus files are joined captures) does not finish the learning in one step.
   */
  private observed = 0;
  private lastSecond = Number.NaN;

  constructor(
    private readonly cfg: Config,
    private readonly ctx: DetectorContext,
  ) {}

  private learning(): boolean {
    return this.observed < this.cfg.learnSeconds;
  }

  readonly attemptOutcomes = [Outcome.Ok];

  onAttempt(a: AttemptFacts): void {
    if (a.outcome !== Outcome.Ok || (a.proto !== IPPROTO_TCP && a.proto !== IPPROTO_UDP) || a.respPort > this.cfg.maxPort) return;
    const learning = this.learning();
    const k = a.proto === IPPROTO_UDP ? UDP_BIT | a.respPort : a.respPort;
    if (this.cfg.clients && this.ctx.isLocal(a.version, a.orig) && this.used.add(a.origKey, k, this.cfg.maxEntries) && !learning) {
      this.report('client', a.origKey, portName(k), a.ts, FlowSample.ofFacts(a));
    }
    if (this.cfg.listeners && this.ctx.isLocal(a.version, a.resp) && this.listening.add(a.respKey, k, this.cfg.maxEntries) && !learning) {
      this.report('listener', a.respKey, portName(k), a.ts, FlowSample.ofFacts(a));
    }
  }

  /** The application service of a finished flow (conn.service): the services a host speaks, by name. */
  onFlowEnd(ref: FlowRef, service: string | undefined): void {
    if (!service || !this.cfg.services) return;
    const f = ref.facts();
    if (!this.ctx.isLocal(f.version, f.orig)) return;
    let id = this.serviceIds.get(service);
    if (id === undefined) this.serviceIds.set(service, (id = this.serviceIds.size));
    const host = hostKeyOf(f.version, f.orig);
    if (this.used.add(host, SERVICE_BIT + id, this.cfg.maxEntries) && !this.learning()) this.report('client', host, service, this.ctx.now(), FlowSample.ofFacts(f));
  }

  private report(role: Incident['role'], hostKey: HostKey, what: string, ts: number, sample?: FlowSample): void {
    const host = hostText(hostKey);
    const key = `${role}:${host}`;
    let inc = this.incidents.get(key);
    if (inc === undefined) {
      inc = { host, hostKey, role, what: [], first: ts, last: ts, changed: false, samples: [] };
      this.incidents.set(key, inc);
    }
    if (inc.what.length < 50) inc.what.push(what);
    inc.last = ts;
    if (sample && inc.samples.length < 10) inc.samples.push(sample);
    if (inc.what.length === 1) this.raise(key, inc, ts);
    else inc.changed = true;
  }

  second(now: number): void {
    if (!Number.isNaN(this.lastSecond)) this.observed += Math.min(1, Math.max(0, now - this.lastSecond));
    this.lastSecond = now;
    for (const [key, inc] of this.incidents) {
      if (inc.changed) {
        inc.changed = false;
        this.raise(key, inc, inc.last);
      } else if (now - inc.last > 300) {
        this.incidents.delete(key);
      }
    }
  }

  private raise(key: string, inc: Incident, ts: number): void {
    const list = inc.what.slice(0, 5).join(', ') + (inc.what.length > 5 ? ', ...' : '');
    const learnt = formatDuration(this.cfg.learnSeconds);
    const message =
      inc.role === 'client'
        ? `${inc.host} used ${inc.what.length === 1 ? list : `${inc.what.length} new ports/services: ${list}`} for the first time since a ${learnt} baseline`
        : `${inc.host} answered on ${inc.what.length === 1 ? list : `${inc.what.length} new ports: ${list}`} for the first time since a ${learnt} baseline (new listening service)`;
    const ports = inc.what.map((w) => Number(w.split('/')[1])).filter((p) => Number.isInteger(p));
    this.ctx.raise({
      key,
      ts,
      severity: 'low',
      message,
      src: inc.role === 'client' ? inc.host : undefined,
      dst: inc.role === 'listener' ? inc.host : undefined,
      counters: { new_items: inc.what.length },
      thresholds: { new_items: 1 },
      hosts: [inc.host],
      ports: ports.length ? ports : undefined,
      names: inc.what,
      first_seen: inc.first,
      last_seen: inc.last,
      extra: { role: inc.role, learned_seconds: this.cfg.learnSeconds },
      flows: inc.samples.splice(0),
      capture: { hosts: [inc.hostKey] },
    });
  }
}

export const newService: DetectorRegistration<Config> = {
  name: 'new_service',
  title: 'New since the baseline: a host using a port/service it never used, a new listening service',
  config,
  create: (cfg, ctx) => new NewServiceDetector(cfg, ctx),
};
