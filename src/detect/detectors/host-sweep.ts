/**
 * Horizontal host sweep: one source probing one port (or pinging) across many hosts. Counts, per source and
 * port, the distinct hosts whose attempt was a probe (refused, unanswered, half-open, connected and dropped;
 * an unanswered ICMP echo) in a sliding window. Attempts that carried data do not count, so a busy client
 * talking to many web servers never adds up; and most of the source's attempts on that port must have failed,
 * so a busy resolver whose queries to a few dozen lame name servers go unanswered among thousands answered is
 * not a sweep. Two rules over the same hosts of one port, one incident per source:
 * - slow (and small): a decayed count of distinct hosts (windows.ts DecayedCount) reaching `slowMinHosts`: a
 *   ping or SYN sweep of 20 hosts spread over minutes fires at its 20th host; a few failures now and then never;
 * - fast: `minHosts` distinct hosts within the sliding `window` (reached only when `slowMinHosts` is raised).
 */
import { z } from 'zod';
import { IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_TCP, IPPROTO_UDP } from '../../decode/packet.js';
import { hostText, type HostKey } from '../addresses.js';
import { count, detectorConfig, seconds } from '../detector-config.js';
import { FlowSample } from '../flow-sample.js';
import { PresenceCounts } from '../presence-counts.js';
import { mix32 } from '../../analyze/mix32.js';
import { Outcome, type AttemptFacts, type Detector, type DetectorContext, type DetectorRegistration } from '../types.js';
import type { TrackedKeys } from '../tracked-keys.js';
import { DecayedCount, PassSchedule, SlidingCounter, WindowedSet, formatPace, incidentRate, secondForSources } from '../windows.js';

const config = detectorConfig({
  window: seconds(60),
  /** Distinct hosts probed on one port (or pinged) within the window. */
  minHosts: count(50),
  /** Distinct hosts whose decayed count fires the slow rule (a careful sweep: nmap -sn --scan-delay). */
  slowMinHosts: count(20),
  /** Seconds over which the slow rule's count of hosts halves; hosts are kept three half-lives. */
  slowHalfLife: seconds(300),
  /** Share of the source's attempts on that port in the window that failed, at least. */
  minFailedShare: z.number().min(0).max(1).default(0.5),
  /** Sources followed at once (bounded memory under spoofed floods; see tracked-keys.ts for who is kept). */
  maxSources: count(20_000),
  /** Ports (services) followed per source: a source's probes of more are not kept. */
  maxServicesPerSource: count(256),
  /** Hosts recorded across all sources and ports. */
  maxHostEntries: count(1_000_000),
});
type Config = z.infer<typeof config>;

const MAX_SAMPLES = 10;
/** Slots of the cache of Services that answered connections count in (a power of two). */
const OK_CACHE_SLOTS = 4096;
const OK_CACHE_MASK = OK_CACHE_SLOTS - 1;
/** Service keys: TCP port, UDP port + 0x10000, ICMP echo 0x20000. */
const UDP_BIT = 0x10000;
const ICMP_ECHO = 0x20000;

interface Service {
  /** Hosts probed, by the time their probe started. */
  hosts: WindowedSet<HostKey>;
  /** The slow rule's decayed count of distinct hosts. */
  score: DecayedCount;
  /** Failed and successful attempts in the window (successes counted once the source has failed on this port). */
  failed: SlidingCounter;
  ok: SlidingCounter;
  probes: number;
  /** Probes that found something (half-open or connected): the scanner learnt the host is there. */
  answered: number;
}

interface Source {
  key: HostKey;
  text: string;
  services: Map<number, Service>;
  last: number;
  /** Capture time of the last pruning of its windows. */
  pruned: number;
  fired: boolean;
  changed: boolean;
  samples: FlowSample[];
}

class HostSweepDetector implements Detector {
  readonly name = 'host_sweep';
  private readonly sources: TrackedKeys<Source>;
  /** When the pass over the sources has something to do (a source to forget or prune, an incident open). */
  private readonly schedule = new PassSchedule();
  /**
   * The (IPv4 source, port) pairs that have a Service: an answered connection, most attempts, counts only
   * where its source has failed on that port, and this says "not there" without two Map look-ups.
   */
  private readonly probed: PresenceCounts;
  /**
   * The ok counters answered connections last went to, direct-mapped by (IPv4 source, port): a client that
   * failed once on a port keeps a Service there, and each of its later connections to it would walk the
   * sources' Map, the source, its services' Map and the Service (cold objects all) to reach the one counter
   * it adds to. Words 2i and 2i+1 hold slot i's source and port (-1: empty), beside each other.
   */
  private readonly okKeys = new Int32Array(OK_CACHE_SLOTS * 2).fill(-1);
  private readonly okCounters: Array<SlidingCounter | undefined> = new Array<SlidingCounter | undefined>(OK_CACHE_SLOTS).fill(undefined);

  constructor(
    private readonly cfg: Config,
    private readonly ctx: DetectorContext,
  ) {
    this.sources = ctx.track<Source>('sources', cfg.maxSources, {
      protect: (src) => src.fired,
      release: (src) => {
        src.services.forEach((s, service) => {
          s.hosts.clear();
          this.forget(src, service);
        });
        if (src.fired) this.schedule.open--;
      },
      items: cfg.maxHostEntries,
    });
    this.probed = new PresenceCounts(cfg.maxSources);
  }

  private forget(src: Source, service: number): void {
    if (typeof src.key !== 'number') return;
    const key = probedKey(src.key, service);
    this.probed.remove(key);
    const slot = mix32(key) & OK_CACHE_MASK;
    if (this.okKeys[slot * 2] === src.key && this.okKeys[slot * 2 + 1] === service) this.okCounters[slot] = undefined;
  }

  /** An answered connection: counted where its source has failed on that port (the window's share of failures). */
  private answered(a: AttemptFacts, service: number): void {
    const source = a.origKey;
    if (typeof source !== 'number') {
      this.sources.peek(source)?.services.get(service)?.ok.add(a.ts);
      return;
    }
    const key = probedKey(source, service);
    // The cache first: in ordinary traffic most answered connections (nine in ten in the office mix) come from
    // a client that once failed on that port, and find their counter there; the filter is asked on a miss.
    const slot = mix32(key) & OK_CACHE_MASK;
    const keys = this.okKeys;
    let ok = keys[slot * 2] === source && keys[slot * 2 + 1] === service ? this.okCounters[slot] : undefined;
    if (ok === undefined) {
      if (!this.probed.mayHave(key)) return;
      ok = this.sources.peek(source)?.services.get(service)?.ok;
      if (ok === undefined) return;
      keys[slot * 2] = source;
      keys[slot * 2 + 1] = service;
      this.okCounters[slot] = ok;
    }
    ok.add(a.ts);
  }

  onAttempt(a: AttemptFacts): void {
    let service: number;
    if (a.proto === IPPROTO_TCP) service = a.respPort;
    else if (a.proto === IPPROTO_UDP) service = UDP_BIT | a.respPort;
    else if (a.proto === IPPROTO_ICMP || a.proto === IPPROTO_ICMPV6) service = ICMP_ECHO;
    else return;
    if (a.outcome === Outcome.Ok) {
      this.answered(a, service);
      return;
    }
    if (this.ctx.allowed(a.origKey, a.respKey)) return;
    let src = this.sources.get(a.origKey);
    if (src === undefined) {
      if (!this.sources.admit(a.origKey, a.ts)) return;
      src = this.sources.add(a.origKey, { key: a.origKey, text: hostText(a.origKey), services: new Map(), last: a.ts, pruned: a.ts, fired: false, changed: false, samples: [] });
    }
    let s = src.services.get(service);
    if (s === undefined) {
      if (src.services.size >= this.cfg.maxServicesPerSource && !this.dropNarrowestService(src)) return;
      s = { hosts: new WindowedSet(this.sources.items), score: new DecayedCount(), failed: new SlidingCounter(this.cfg.window), ok: new SlidingCounter(this.cfg.window), probes: 0, answered: 0 };
      src.services.set(service, s);
      if (typeof src.key === 'number') this.probed.add(probedKey(src.key, service));
    }
    const hosts = s.hosts;
    s.failed.add(a.ts);
    const fresh = !hosts.has(a.respKey);
    if (!hosts.add(a.respKey, a.start)) return;
    src.last = a.ts;
    this.schedule.keep(a.ts);
    s.probes++;
    if (a.outcome === Outcome.HalfOpen || a.outcome === Outcome.Empty) s.answered++;
    const n = hosts.size;
    const score = fresh ? s.score.add(a.start, this.cfg.slowHalfLife) : s.score.value;
    if ((n >= this.cfg.minHosts - MAX_SAMPLES || score >= this.cfg.slowMinHosts - MAX_SAMPLES) && src.samples.length < MAX_SAMPLES) src.samples.push(FlowSample.ofFacts(a));
    if (src.fired) {
      src.changed = true;
      return;
    }
    const slow = Math.round(score) >= this.cfg.slowMinHosts;
    if (!slow && n < this.cfg.minHosts) return;
    if (!slow) hosts.prune(a.ts - this.cfg.window);
    const failed = s.failed.value(a.ts);
    if ((slow || hosts.size >= this.cfg.minHosts) && failed >= this.cfg.minFailedShare * (failed + s.ok.value(a.ts))) {
      src.fired = true;
      this.schedule.open++;
      this.raise(src, a.ts);
    }
  }

  /** Hosts kept per port: the fast window, or three half-lives of the slow count, whichever is longer. */
  private get horizon(): number {
    return Math.max(this.cfg.window, 3 * this.cfg.slowHalfLife);
  }

  /**
   * Full: lets go of the port probed on the fewest hosts (a port scan from the same source brings a port per
   * probe, one host each), unless every port has more hosts than a new one would. False when none went.
   */
  private dropNarrowestService(src: Source): boolean {
    let narrowest: number | undefined;
    let fewest = Infinity;
    for (const [service, s] of src.services) {
      if (s.hosts.size < fewest) {
        fewest = s.hosts.size;
        narrowest = service;
      }
    }
    if (narrowest === undefined || fewest > 1) return false;
    src.services.get(narrowest)!.hosts.clear();
    src.services.delete(narrowest);
    this.forget(src, narrowest);
    return true;
  }

  second(now: number): void {
    secondForSources(this.sources, this.schedule, now, this.horizon, (src, ts) => this.raise(src, ts), (src, since) => {
      for (const [service, s] of src.services) {
        s.hosts.prune(since);
        if (s.hosts.size === 0) {
          src.services.delete(service);
          this.forget(src, service);
        }
      }
    });
  }

  private raise(src: Source, ts: number): void {
    const all = [...src.services].sort((a, b) => b[1].hosts.size - a[1].hosts.size);
    if (all.length === 0) return;
    const over = all.filter(([, s]) => s.hosts.size >= this.cfg.minHosts || Math.round(s.score.value) >= this.cfg.slowMinHosts);
    const swept = over.length ? over : all.slice(0, 1);
    const [service, s] = swept[0];
    const hosts = s.hosts;
    const what = service === ICMP_ECHO ? `pinged ${hosts.size} hosts` : `probed ${hosts.size} hosts on ${service & UDP_BIT ? 'UDP' : 'TCP'} port ${service & 0xffff}`;
    const more = swept.length > 1 ? ` (and ${swept.length - 1} more port${swept.length > 2 ? 's' : ''})` : '';
    const targets = [...hosts.keys()].slice(0, 50).map(hostText);
    const first = hosts.oldest();
    const rate = incidentRate(hosts.size, src.last - first);
    this.ctx.raise({
      key: src.text,
      ts,
      severity: 'medium',
      message: `${src.text} ${what}${more}${formatPace(src.last - first, rate, 'hosts')}, ${s.answered} answered`,
      src: src.text,
      counters: { distinct_hosts: hosts.size, ports_swept: swept.length, probes: s.probes, answered: s.answered, decayed_hosts: Math.round(s.score.value * 10) / 10 },
      thresholds: { distinct_hosts: this.cfg.minHosts, decayed_hosts: this.cfg.slowMinHosts },
      hosts: [src.text, ...targets],
      ports: swept.filter(([s]) => s !== ICMP_ECHO).map(([s]) => s & 0xffff),
      first_seen: first,
      last_seen: src.last,
      extra: { window: this.cfg.window, half_life: this.cfg.slowHalfLife, hosts_per_second: Math.round(rate * 100) / 100, protocol: service === ICMP_ECHO ? 'icmp' : service & UDP_BIT ? 'udp' : 'tcp' },
      flows: src.samples.splice(0),
      capture: { hosts: [src.key] },
    });
  }
}

/** The PresenceCounts key of an IPv4 source's port. */
function probedKey(source: number, service: number): number {
  return source ^ Math.imul(service + 1, 0x9e3779b1);
}

export const hostSweep: DetectorRegistration<Config> = {
  name: 'host_sweep',
  title: 'Horizontal sweep: one source probing one port (or pinging) across many hosts',
  config,
  create: (cfg, ctx) => new HostSweepDetector(cfg, ctx),
};
