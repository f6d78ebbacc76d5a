/**
 * Vertical port scan: one source probing many ports of a host. Counts, per source and target, the distinct
 * TCP/UDP ports whose connection attempt was a probe (refused, unanswered, half-open, or connected and
 * dropped without a byte: nmap -sS, -sT and -sU alike; and TCP probes without a SYN, its -sF, -sN, -sX, -sA
 * and -sW, see attempts.ts). Two rules on the same ports, one incident per source:
 * - fast: `minPorts` distinct ports within the sliding `window`;
 * - slow: a decayed count of distinct ports (each new port adds 1, the count halves every `slowHalfLife`
 *   seconds) reaching `slowMinPorts`: 20 ports at one every 500 ms fire at the 20th, a scan spread over many
 *   minutes still adds up, and a few refused ports now and then never do.
 * A UDP probe to a closed port is known at once from the ICMP port unreachable that quotes it (not after the
 * unanswered-datagram grace time). Runs per ICMP packet there: nothing is allocated before a source is admitted.
 */
import { z } from 'zod';
import { IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, type Packet } from '../../decode/packet.js';
import { hostKeyOf, hostText, type HostKey } from '../addresses.js';
import { count, detectorConfig, seconds } from '../detector-config.js';
import { FlowSample } from '../flow-sample.js';
import { Outcome, PROBE_OUTCOMES, type AttemptFacts, type OutcomeCode, type Detector, type DetectorContext, type DetectorRegistration } from '../types.js';
import type { TrackedKeys } from '../tracked-keys.js';
import { DecayedCount, PassSchedule, WindowedSet, formatPace, incidentRate, secondForSources } from '../windows.js';

const portRange = z.tuple([z.number().int().min(0).max(65535), z.number().int().min(0).max(65535)]);

const config = detectorConfig({
  /** Seconds of the sliding window. */
  window: seconds(60),
  /** Distinct ports probed on one host within the window. nmap's default scan probes 1000. */
  minPorts: count(100),
  /** Distinct ports whose decayed count fires the slow rule (a careful scanner's --scan-delay). */
  slowMinPorts: count(20),
  /** Seconds over which the slow rule's count of ports halves; ports are kept three half-lives. */
  slowHalfLife: seconds(300),
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
  /** The slow rule's decayed count of distinct ports. */
  score: DecayedCount;
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
  /** Of them, TCP probes that asked for no connection (no SYN: FIN, NULL, Xmas, ACK scans). */
  noSyn: number;
  byOutcome: number[];
  fired: boolean;
  changed: boolean;
  samples: FlowSample[];
}

class PortScanDetector implements Detector {
  readonly name = 'port_scan';
  private readonly sources: TrackedKeys<Source>;
  /** When the pass over the sources has something to do (a source to forget or prune, an incident open). */
  private readonly schedule = new PassSchedule();

  constructor(
    private readonly cfg: Config,
    private readonly ctx: DetectorContext,
  ) {
    this.sources = ctx.track<Source>('sources', cfg.maxSources, {
      protect: (src) => src.fired,
      release: (src) => {
        src.targets.forEach((t) => t.ports.clear());
        if (src.fired) this.schedule.open--;
      },
      items: cfg.maxPortEntries,
    });
  }

  readonly attemptOutcomes = PROBE_OUTCOMES;

  onAttempt(a: AttemptFacts): void {
    if (a.outcome === Outcome.Ok || (a.proto !== IPPROTO_TCP && a.proto !== IPPROTO_UDP)) return;
    if (a.proto === IPPROTO_UDP && this.ignoredUdp(a.origPort, a.respPort)) return;
    this.probe(a.origKey, a.respKey, a.proto === IPPROTO_UDP ? UDP_BIT | a.respPort : a.respPort, a.start, a.ts, a.outcome, a);
  }

  /**
   * An ICMP port unreachable quoting a UDP datagram its recipient sent: a refused UDP probe, known now. The
   * quote must be of a datagram from the ICMP's recipient to its sender (as isErrorAboutOwnPacket in
   * icmp-flood.ts); IPv4 type 3 code 3, ICMPv6 type 1 code 4.
   */
  onIcmp(pkt: Packet): void {
    const v6 = pkt.transport !== IPPROTO_ICMP;
    if (v6 ? pkt.icmpType !== 1 || pkt.icmpCode !== 4 : pkt.icmpType !== 3 || pkt.icmpCode !== 3) return;
    const d = pkt.data;
    const q = pkt.payloadOffset;
    let l4: number;
    if (!v6) {
      if (pkt.payloadLength < 28 || d[q] >> 4 !== 4 || d[q + 9] !== IPPROTO_UDP) return;
      if (d.readUInt32BE(q + 12) !== pkt.dst[0] >>> 0 || d.readUInt32BE(q + 16) !== pkt.src[0] >>> 0) return;
      l4 = q + (d[q] & 15) * 4;
    } else {
      if (pkt.payloadLength < 48 || d[q] >> 4 !== 6 || d[q + 6] !== IPPROTO_UDP) return;
      for (let i = 0; i < 4; i++) if (d.readUInt32BE(q + 8 + 4 * i) !== pkt.dst[i] >>> 0 || d.readUInt32BE(q + 24 + 4 * i) !== pkt.src[i] >>> 0) return;
      l4 = q + 40;
    }
    if (l4 + 4 > q + pkt.payloadLength) return;
    const sport = d.readUInt16BE(l4);
    const dport = d.readUInt16BE(l4 + 2);
    if (this.ignoredUdp(sport, dport)) return;
    const version = v6 ? 6 : 4;
    this.probe(hostKeyOf(version, pkt.dst), hostKeyOf(version, pkt.src), UDP_BIT | dport, pkt.ts, pkt.ts, Outcome.Rejected, undefined);
  }

  private probe(origKey: HostKey, respKey: HostKey, port: number, start: number, ts: number, outcome: OutcomeCode, facts: AttemptFacts | undefined): void {
    if (this.ctx.allowed(origKey, respKey)) return;
    let src = this.sources.get(origKey);
    // A source quiet for a window after its alert: that incident is over (the alert book closes it), and what
    // comes next is counted afresh, as a new one (its old ports would otherwise be news for a closed alert).
    if (src !== undefined && src.fired && ts - src.last > this.cfg.window) {
      this.sources.delete(origKey);
      src = undefined;
    }
    if (src === undefined) {
      if (!this.sources.admit(origKey, ts)) return;
      src = this.sources.add(origKey, { key: origKey, text: hostText(origKey), targets: new Map(), moreTargets: 0, last: ts, pruned: ts, probes: 0, noSyn: 0, byOutcome: [0, 0, 0, 0, 0, 0], fired: false, changed: false, samples: [] });
      this.schedule.keep(ts);
    }
    let target = src.targets.get(respKey);
    if (target === undefined) {
      if (src.targets.size >= this.cfg.maxTargetsPerSource) {
        src.moreTargets++;
        return;
      }
      target = { key: respKey, ports: new WindowedSet(this.sources.items), score: new DecayedCount() };
      src.targets.set(respKey, target);
    }
    const fresh = !target.ports.has(port);
    if (!target.ports.add(port, start)) return;
    src.last = Math.max(src.last, ts);
    // A port seen again (the ICMP refusal, then the attempt's own outcome; nmap's retries) is one probe, but
    // news for an incident (a scan that repeats after its alert closed opens a new one).
    if (!fresh) {
      if (src.fired) src.changed = true;
      return;
    }
    src.probes++;
    if (facts !== undefined && !facts.handshake) src.noSyn++;
    src.byOutcome[outcome]++;
    const score = target.score.add(start, this.cfg.slowHalfLife);
    const n = target.ports.size;
    if (facts !== undefined && src.samples.length < MAX_SAMPLES && (n >= this.cfg.minPorts - MAX_SAMPLES || score >= this.cfg.slowMinPorts - MAX_SAMPLES)) src.samples.push(FlowSample.ofFacts(facts));
    if (src.fired) {
      src.changed = true;
    } else if (Math.round(score) >= this.cfg.slowMinPorts) {
      src.fired = true;
      this.schedule.open++;
      this.raise(src, ts);
    } else if (n >= this.cfg.minPorts) {
      target.ports.prune(ts - this.cfg.window);
      if (target.ports.size >= this.cfg.minPorts) {
        src.fired = true;
        this.schedule.open++;
        this.raise(src, ts);
      }
    }
  }

  /** Ports kept per target: the fast window, or three half-lives of the slow count, whichever is longer. */
  private get horizon(): number {
    return Math.max(this.cfg.window, 3 * this.cfg.slowHalfLife);
  }

  second(now: number): void {
    secondForSources(this.sources, this.schedule, now, this.horizon, (src, ts) => this.raise(src, ts), (src, since) => {
      for (const [tkey, target] of src.targets) {
        target.ports.prune(since);
        if (target.ports.size === 0) src.targets.delete(tkey);
      }
    });
  }

  /**
   * traceroute's ports, and a datagram from a service port (below 1024) to a high port: an answer whose
   * question was not seen (a DNS or NTP reply to a client whose socket had closed), not a probe.
   */
  private ignoredUdp(sport: number, dport: number): boolean {
    if (sport < 1024 && dport >= 1024) return true;
    for (const [lo, hi] of this.cfg.ignoreUdpPorts) if (dport >= lo && dport <= hi) return true;
    return false;
  }

  private raise(src: Source, ts: number): void {
    const targets = [...src.targets.values()].sort((a, b) => b.ports.size - a.ports.size);
    if (targets.length === 0) return;
    // Targets over the threshold; after firing, at least the biggest even if the window has thinned it.
    const over = targets.filter((t) => t.ports.size >= this.cfg.minPorts || Math.round(t.score.value) >= this.cfg.slowMinPorts);
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
    // Named when most of its probes were: a scan meant to slip past loggers of connection attempts.
    const how = src.noSyn * 2 > src.probes ? ' with probes that open no connection (FIN, NULL, Xmas or ACK)' : '';
    const others = scanned.length - 1 + src.moreTargets;
    const more = others > 0 ? ` and ${others} more host${others > 1 ? 's' : ''}` : '';
    const dst = hostText(top.key);
    const o = src.byOutcome;
    const first = top.ports.oldest();
    const rate = incidentRate(tcp + udp, src.last - first);
    this.ctx.raise({
      key: src.text,
      ts,
      severity: 'medium',
      message: `${src.text} scanned ${tcp + udp} ${kinds} on ${dst}${more}${how}${formatPace(src.last - first, rate, 'ports')}`,
      src: src.text,
      dst,
      counters: { distinct_ports: top.ports.size, hosts_scanned: scanned.length, probes: src.probes, refused: o[Outcome.Rejected], unanswered: o[Outcome.Unanswered], half_open: o[Outcome.HalfOpen], connected_empty: o[Outcome.Empty], no_syn: src.noSyn, decayed_ports: Math.round(top.score.value * 10) / 10 },
      thresholds: { distinct_ports: this.cfg.minPorts, decayed_ports: this.cfg.slowMinPorts },
      hosts: [src.text, ...scanned.map((t) => hostText(t.key))],
      ports: ports.sort((a, b) => a - b).slice(0, 50),
      first_seen: first,
      last_seen: src.last,
      extra: { window: this.cfg.window, half_life: this.cfg.slowHalfLife, tcp_ports: tcp, udp_ports: udp, ports_per_second: Math.round(rate * 100) / 100 },
      flows: src.samples.splice(0),
      capture: { pairs: scanned.map((t) => [src.key, t.key] as [HostKey, HostKey]) },
    });
  }
}

export const portScan: DetectorRegistration<Config> = {
  name: 'port_scan',
  title: 'Vertical port scan: one source probing many ports of a host (TCP SYN, connect, FIN/NULL/Xmas/ACK, UDP)',
  config,
  create: (cfg, ctx) => new PortScanDetector(cfg, ctx),
};
