/**
 * Vertical port scan: one source probing many ports of a host. Counts, per source and target, the distinct
 * TCP/UDP ports whose connection attempt was a probe (refused, unanswered, half-open, or connected and
 * dropped without a byte: nmap -sS, -sT and -sU alike) within a sliding window. One incident per source.
 */
import { z } from 'zod';
import { IPPROTO_TCP, IPPROTO_UDP } from '../../decode/packet.js';
import { hostText, type HostKey } from '../addresses.js';
import { count, detectorConfig, seconds } from '../detector-config.js';
import { FlowSample } from '../flow-sample.js';
import { Outcome, type AttemptFacts, type Detector, type DetectorContext, type DetectorRegistration } from '../types.js';
import type { TrackedKeys } from '../tracked-keys.js';
import { WindowedSet, formatDuration, secondForSources } from '../windows.js';

const portRange = z.tuple([z.number().int().min(0).max(65535), z.number().int().min(0).max(65535)]);

const config = detectorConfig({
  /** Seconds of the sliding window. */
  window: seconds(60),
  /** Distinct ports probed on one host within the window. nmap's default scan probes 1000. */
  minPorts: count(100),
  /** UDP destination ports left out: traceroute's probes (33434 and up) look like a UDP scan. */
  ignoreUdpPorts: z.array(portRange).default([[33434, 33534]]),
  /** Sources followed at once (bounded memory under spoofed floods; see tracked-keys.ts for who is kept). */
  maxSources: count(20_000),
  /** Hosts followed per source: its scan of more is counted, not kept. */
  maxTargetsPerSource: count(64),
  /** Ports recorded across all sources and hosts: many real scanners at once cannot grow detection without end. */
  maxPortEntries: count(1_000_000),
});
type Config = z.infer<typeof config>;

const MAX_SAMPLES = 10;
const UDP_BIT = 0x10000;

interface Target {
  key: HostKey;
  /** Ports probed, by the time their probe started. */
  ports: WindowedSet<number>;
}

interface Source {
  key: HostKey;
  text: string;
  targets: Map<HostKey, Target>;
  /** Hosts probed past maxTargetsPerSource (not kept). */
  moreTargets: number;
  last: number;
  /** Capture time of the last pruning of its windows. */
  pruned: number;
  probes: number;
  byOutcome: number[];
  fired: boolean;
  changed: boolean;
  samples: FlowSample[];
}

class PortScanDetector implements Detector {
  readonly name = 'port_scan';
  private readonly sources: TrackedKeys<Source>;

  constructor(
    private readonly cfg: Config,
    private readonly ctx: DetectorContext,
  ) {
    this.sources = ctx.track<Source>('sources', cfg.maxSources, {
      protect: (src) => src.fired,
      release: (src) => src.targets.forEach((t) => t.ports.clear()),
      items: cfg.maxPortEntries,
    });
  }

  onAttempt(a: AttemptFacts): void {
    if (a.outcome === Outcome.Ok || (a.proto !== IPPROTO_TCP && a.proto !== IPPROTO_UDP)) return;
    if (a.proto === IPPROTO_UDP && this.ignoredUdp(a.respPort)) return;
    if (this.ctx.allowed(a.origKey, a.respKey)) return;
    let src = this.sources.get(a.origKey);
    if (src === undefined) {
      if (!this.sources.admit(a.origKey, a.ts)) return;
      src = this.sources.add(a.origKey, { key: a.origKey, text: hostText(a.origKey), targets: new Map(), moreTargets: 0, last: a.ts, pruned: a.ts, probes: 0, byOutcome: [0, 0, 0, 0, 0, 0], fired: false, changed: false, samples: [] });
    }
    let target = src.targets.get(a.respKey);
    if (target === undefined) {
      if (src.targets.size >= this.cfg.maxTargetsPerSource) {
        src.moreTargets++;
        return;
      }
      target = { key: a.respKey, ports: new WindowedSet(this.sources.items) };
      src.targets.set(a.respKey, target);
    }
    if (!target.ports.add(a.proto === IPPROTO_UDP ? UDP_BIT | a.respPort : a.respPort, a.start)) return;
    src.last = a.ts;
    src.probes++;
    src.byOutcome[a.outcome]++;
    const n = target.ports.size;
    if (n >= this.cfg.minPorts - MAX_SAMPLES && src.samples.length < MAX_SAMPLES) src.samples.push(FlowSample.ofFacts(a));
    if (src.fired) {
      src.changed = true;
    } else if (n >= this.cfg.minPorts) {
      target.ports.prune(a.ts - this.cfg.window);
      if (target.ports.size >= this.cfg.minPorts) {
        src.fired = true;
        this.raise(src, a.ts);
      }
    }
  }

  second(now: number): void {
    secondForSources(this.sources, now, this.cfg.window, (src, ts) => this.raise(src, ts), (src, since) => {
      for (const [tkey, target] of src.targets) {
        target.ports.prune(since);
        if (target.ports.size === 0) src.targets.delete(tkey);
      }
    });
  }

  private ignoredUdp(port: number): boolean {
    for (const [lo, hi] of this.cfg.ignoreUdpPorts) if (port >= lo && port <= hi) return true;
    return false;
  }

  private raise(src: Source, ts: number): void {
    const targets = [...src.targets.values()].sort((a, b) => b.ports.size - a.ports.size);
    if (targets.length === 0) return;
    // Targets over the threshold; after firing, at least the biggest even if the window has thinned it.
    const over = targets.filter((t) => t.ports.size >= this.cfg.minPorts);
    const scanned = over.length ? over : targets.slice(0, 1);
    const top = scanned[0];
    let tcp = 0;
    let udp = 0;
    const ports: number[] = [];
    for (const p of top.ports.keys()) {
      if (p & UDP_BIT) udp++;
      else tcp++;
      ports.push(p & 0xffff);
    }
    const kinds = tcp && udp ? `ports (${tcp} TCP, ${udp} UDP)` : tcp ? 'TCP ports' : 'UDP ports';
    const others = scanned.length - 1 + src.moreTargets;
    const more = others > 0 ? ` and ${others} more host${others > 1 ? 's' : ''}` : '';
    const dst = hostText(top.key);
    const o = src.byOutcome;
    const first = top.ports.oldest();
    this.ctx.raise({
      key: src.text,
      ts,
      severity: 'medium',
      message: `${src.text} scanned ${tcp + udp} ${kinds} on ${dst}${more} in ${formatDuration(src.last - first)}`,
      src: src.text,
      dst,
      counters: { distinct_ports: top.ports.size, hosts_scanned: scanned.length, probes: src.probes, refused: o[Outcome.Rejected], unanswered: o[Outcome.Unanswered], half_open: o[Outcome.HalfOpen], connected_empty: o[Outcome.Empty] },
      thresholds: { distinct_ports: this.cfg.minPorts },
      hosts: [src.text, ...scanned.map((t) => hostText(t.key))],
      ports: ports.sort((a, b) => a - b).slice(0, 50),
      first_seen: first,
      last_seen: src.last,
      extra: { window: this.cfg.window, tcp_ports: tcp, udp_ports: udp },
      flows: src.samples.splice(0),
      capture: { pairs: scanned.map((t) => [src.key, t.key] as [HostKey, HostKey]) },
    });
  }
}

export const portScan: DetectorRegistration<Config> = {
  name: 'port_scan',
  title: 'Vertical port scan: one source probing many ports of a host (TCP SYN, connect, UDP)',
  config,
  create: (cfg, ctx) => new PortScanDetector(cfg, ctx),
};
