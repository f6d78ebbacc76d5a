/**
 * SYN flood / half-open surge: many TCP connection attempts to one host that never complete a handshake
 * (unanswered, answered with SYN-ACK and left half-open, or refused) within a few seconds, from one source or
 * thousands of spoofed ones. Two rules, one incident per target host:
 * - per port: `minFailed` failed handshakes to one host:port within the window (a scan, a few probes per port,
 *   never adds up);
 * - host-wide: `minFailedHost` failed handshakes to the host over all its ports within the window, from at
 *   least `minSourcesHost` distinct sources: a flood that sprays random destination ports (hping3 --flood
 *   --rand-source -p ++1) reaches no per-port count. The sources condition leaves a one-source vertical scan
 *   to port_scan.
 * Targets live in a bounded table (ctx.track); sources and ports are counted in fixed memory (distinct-count.ts).
 */
import { z } from 'zod';
import { IPPROTO_TCP } from '../../decode/packet.js';
import { hostText, type HostKey } from '../addresses.js';
import { count, detectorConfig, seconds } from '../detector-config.js';
import { DistinctKeys, groupDigits } from '../distinct-count.js';
import { FlowSample } from '../flow-sample.js';
import type { TrackedKeys } from '../tracked-keys.js';
import { Outcome, type AttemptFacts, type Detector, type DetectorContext, type DetectorRegistration } from '../types.js';
import { SlidingCounter, formatDuration, incidentRate } from '../windows.js';

const config = detectorConfig({
  window: seconds(5),
  /** Failed handshakes to one host:port within the window. */
  minFailed: count(400),
  /** Failed handshakes to one host over all its ports within the window (default: twice minFailed). */
  minFailedHost: z.number().int().min(1).optional(),
  /** Distinct sources (estimated) the host-wide rule needs besides its count: one source is a scan, not a flood. */
  minSourcesHost: count(50),
  maxTargets: count(20_000),
  /** Ports followed per target host at most (the host-wide rule still counts the others). */
  maxPortsPerTarget: count(256),
});
type Config = z.infer<typeof config>;

const MAX_SAMPLES = 10;
/** Sources (and ports) kept exactly per port and per target, for the alert's hosts and the single-source case. */
const KEEP = 20;
/** Bitmap bits of a port's distinct-source counter (128 bytes, allocated past KEEP sources; "3,500+" when full). */
const PORT_COUNTER_BITS = 1024;
/** Bitmap bits of a target's host-wide source and port counters (512 bytes each; good to about 14,000). */
const HOST_COUNTER_BITS = 4096;

interface Tally {
  total: number;
  halfOpen: number;
  unanswered: number;
  refused: number;
}

interface Port extends Tally {
  counter: SlidingCounter;
  sources: DistinctKeys;
  last: number;
}

interface Target extends Tally {
  key: HostKey;
  text: string;
  ports: Map<number, Port>;
  /** Failed handshakes over all ports (including those beyond maxPortsPerTarget). */
  counter: SlidingCounter;
  sources: DistinctKeys;
  distinctPorts: DistinctKeys<number>;
  first: number;
  last: number;
  fired: boolean;
  /** Which rule raised the incident (decides its wording). */
  scope: 'port' | 'host';
  changed: boolean;
  /** Highest in-window count of one port, and of the whole host. */
  peak: number;
  hostPeak: number;
  samples: FlowSample[];
}

function count1(t: Tally, outcome: number): void {
  t.total++;
  if (outcome === Outcome.HalfOpen) t.halfOpen++;
  else if (outcome === Outcome.Unanswered) t.unanswered++;
  else t.refused++;
}

class SynFloodDetector implements Detector {
  readonly name = 'syn_flood';
  private readonly targets: TrackedKeys<Target>;

  constructor(
    private readonly cfg: Config,
    private readonly ctx: DetectorContext,
  ) {
    this.targets = ctx.track<Target>('targets', cfg.maxTargets, { protect: (t) => t.fired });
  }
  /** Read at each use: a reloaded config (SIGHUP) changes it at once. */
  private get minFailedHost(): number {
    return this.cfg.minFailedHost ?? this.cfg.minFailed * 2;
  }


  readonly attemptOutcomes = [Outcome.Unanswered, Outcome.HalfOpen, Outcome.Rejected];

  onAttempt(a: AttemptFacts): void {
    // A probe that asked for no connection (a FIN or ACK scan) is a scan's, not a flood of handshakes.
    if (a.proto !== IPPROTO_TCP || !a.handshake || (a.outcome !== Outcome.Unanswered && a.outcome !== Outcome.HalfOpen && a.outcome !== Outcome.Rejected)) return;
    if (this.ctx.allowed(a.origKey, a.respKey)) return;
    const key = a.respKey;
    let t = this.targets.get(key);
    if (t === undefined) {
      if (!this.targets.admit(key, a.ts)) return;
      t = this.targets.add(key, {
        key, text: hostText(key), ports: new Map(), counter: new SlidingCounter(this.cfg.window), sources: new DistinctKeys(KEEP, HOST_COUNTER_BITS),
        distinctPorts: new DistinctKeys<number>(KEEP, HOST_COUNTER_BITS), total: 0, halfOpen: 0, unanswered: 0, refused: 0,
        first: a.start, last: a.ts, fired: false, scope: 'port', changed: false, peak: 0, hostPeak: 0, samples: [],
      });
    }
    // Host-wide: every failed handshake counts, whatever its port.
    t.counter.add(a.ts);
    count1(t, a.outcome);
    t.sources.add(a.origKey);
    t.distinctPorts.add(a.respPort);
    t.last = a.ts;
    const nHost = t.counter.value(a.ts);
    if (nHost > t.hostPeak) t.hostPeak = nHost;
    let sample = nHost >= this.minFailedHost - MAX_SAMPLES;

    // Per port, for the ports followed.
    let n = 0;
    let p = t.ports.get(a.respPort);
    if (p === undefined && t.ports.size < this.cfg.maxPortsPerTarget) {
      p = { counter: new SlidingCounter(this.cfg.window), total: 0, halfOpen: 0, unanswered: 0, refused: 0, sources: new DistinctKeys(KEEP, PORT_COUNTER_BITS), last: a.ts };
      t.ports.set(a.respPort, p);
    }
    if (p !== undefined) {
      p.counter.add(a.ts);
      count1(p, a.outcome);
      p.last = a.ts;
      p.sources.add(a.origKey);
      n = p.counter.upperBound() < this.cfg.minFailed - MAX_SAMPLES ? 0 : p.counter.value(a.ts);
      if (n > t.peak) t.peak = n;
      if (n >= this.cfg.minFailed - MAX_SAMPLES) sample = true;
    }
    if (sample && t.samples.length < MAX_SAMPLES) t.samples.push(FlowSample.ofFacts(a));

    if (t.fired) t.changed = true;
    else if (n >= this.cfg.minFailed) {
      t.fired = true;
      t.scope = 'port';
      this.raise(t, a.ts);
    } else if (nHost >= this.minFailedHost && t.sources.count >= this.cfg.minSourcesHost) {
      t.fired = true;
      t.scope = 'host';
      this.raise(t, a.ts);
    }
  }

  second(now: number): void {
    const idle = 2 * this.cfg.window;
    this.targets.forEach((t, key) => {
      for (const [port, p] of t.ports) if (now - p.last > idle) t.ports.delete(port);
      if (t.fired && t.changed) {
        t.changed = false;
        this.raise(t, t.last);
      }
      if (now - t.last > idle) this.targets.delete(key);
    });
  }

  private raise(t: Target, ts: number): void {
    let top: [number, Port] | undefined;
    for (const entry of t.ports) if (!top || entry[1].total > top[1].total) top = entry;
    // Worded as the rule that raised it: the busiest port, or the host over all its ports.
    const port = t.scope === 'port' ? top : undefined;
    const tally: Tally = port ? port[1] : t;
    const sources = port ? port[1].sources : t.sources;
    const ports = t.distinctPorts;
    const what = port
      ? `${t.text.includes(':') ? `[${t.text}]` : t.text}:${port[0]} got ${tally.total} TCP SYNs without a completed handshake`
      : `${t.text} got ${tally.total} TCP SYNs without a completed handshake on ${ports.estimated ? ports.describe() : groupDigits(ports.count)} ports`;
    const single = sources.count === 1 ? hostText(sources.first[0]) : undefined;
    const from = single ?? `${sources.describe()} sources`;
    const peak = port ? t.peak : t.hostPeak;
    const rate = Math.round(incidentRate(tally.total, t.last - t.first));
    this.ctx.raise({
      key: t.text,
      ts,
      severity: 'high',
      message: `${what} from ${from} in ${formatDuration(t.last - t.first)} (${rate}/s)`,
      src: single,
      dst: t.text,
      counters: {
        failed_handshakes: tally.total,
        half_open: tally.halfOpen,
        unanswered: tally.unanswered,
        refused: tally.refused,
        sources: sources.count,
        in_window_peak: Math.round(peak),
        host_failed_handshakes: t.total,
        host_in_window_peak: Math.round(t.hostPeak),
        host_sources: t.sources.count,
        distinct_ports: ports.count,
      },
      thresholds: { in_window_peak: port ? this.cfg.minFailed : this.minFailedHost, host_in_window_peak: this.minFailedHost, host_sources: this.cfg.minSourcesHost },
      hosts: [t.text, ...sources.first.map(hostText)],
      ports: [...t.ports.keys()].slice(0, 50),
      first_seen: t.first,
      last_seen: t.last,
      extra: { window: this.cfg.window, rule: port ? 'per_port' : 'host_wide', sources_estimated: sources.estimated, sources_saturated: sources.saturated },
      flows: t.samples.splice(0),
      capture: single ? { pairs: [[sources.first[0], t.key]] } : { hosts: [t.key] },
    });
  }
}

export const synFlood: DetectorRegistration<Config> = {
  name: 'syn_flood',
  title: 'SYN flood / half-open surge: many handshakes to one host (one port or spread over many) that never complete',
  config,
  create: (cfg, ctx) => new SynFloodDetector(cfg, ctx),
};
