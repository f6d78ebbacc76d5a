/**
 * SYN flood / half-open surge: many TCP connection attempts to one port of one host that never complete a
 * handshake (unanswered, answered with SYN-ACK and left half-open, or refused) within a few seconds, from one
 * source or thousands of spoofed ones. Counted per destination port, so a scan (a few probes per port) never
 * adds up; one incident per target host.
 */
import { z } from 'zod';
import { IPPROTO_TCP } from '../../decode/packet.js';
import { hostText, type HostKey } from '../addresses.js';
import { count, detectorConfig, seconds } from '../detector-config.js';
import { FlowSample } from '../flow-sample.js';
import { Outcome, type AttemptFacts, type Detector, type DetectorContext, type DetectorRegistration } from '../types.js';
import { SlidingCounter, formatDuration } from '../windows.js';

const config = detectorConfig({
  window: seconds(5),
  /** Failed handshakes to one host:port within the window. */
  minFailed: count(400),
  maxTargets: count(20_000),
  /** Ports followed per target host at most. */
  maxPortsPerTarget: count(256),
});
type Config = z.infer<typeof config>;

const MAX_SAMPLES = 10;
/** Distinct sources counted per port up to this many (a spoofed flood has thousands; the count says "1000+"). */
const MAX_SOURCES = 1000;

interface Port {
  counter: SlidingCounter;
  total: number;
  halfOpen: number;
  unanswered: number;
  refused: number;
  sources: Set<HostKey>;
  last: number;
}

interface Target {
  key: HostKey;
  text: string;
  ports: Map<number, Port>;
  first: number;
  last: number;
  fired: boolean;
  changed: boolean;
  peak: number;
  samples: FlowSample[];
}

class SynFloodDetector implements Detector {
  readonly name = 'syn_flood';
  private readonly targets = new Map<HostKey, Target>();

  constructor(
    private readonly cfg: Config,
    private readonly ctx: DetectorContext,
  ) {}

  onAttempt(a: AttemptFacts): void {
    if (a.proto !== IPPROTO_TCP || (a.outcome !== Outcome.Unanswered && a.outcome !== Outcome.HalfOpen && a.outcome !== Outcome.Rejected)) return;
    if (this.ctx.allowed(a.origKey, a.respKey)) return;
    let t = this.targets.get(a.respKey);
    if (t === undefined) {
      if (this.targets.size >= this.cfg.maxTargets) return;
      t = { key: a.respKey, text: hostText(a.respKey), ports: new Map(), first: a.start, last: a.ts, fired: false, changed: false, peak: 0, samples: [] };
      this.targets.set(a.respKey, t);
    }
    let p = t.ports.get(a.respPort);
    if (p === undefined) {
      if (t.ports.size >= this.cfg.maxPortsPerTarget) return;
      p = { counter: new SlidingCounter(this.cfg.window), total: 0, halfOpen: 0, unanswered: 0, refused: 0, sources: new Set(), last: a.ts };
      t.ports.set(a.respPort, p);
    }
    p.counter.add(a.ts);
    p.total++;
    p.last = a.ts;
    if (a.outcome === Outcome.HalfOpen) p.halfOpen++;
    else if (a.outcome === Outcome.Unanswered) p.unanswered++;
    else p.refused++;
    if (p.sources.size < MAX_SOURCES) p.sources.add(a.origKey);
    t.last = a.ts;
    const n = p.counter.upperBound() < this.cfg.minFailed - MAX_SAMPLES ? 0 : p.counter.value(a.ts);
    if (n > t.peak) t.peak = n;
    if (n >= this.cfg.minFailed - MAX_SAMPLES && t.samples.length < MAX_SAMPLES) t.samples.push(FlowSample.ofFacts(a));
    if (t.fired) t.changed = true;
    else if (n >= this.cfg.minFailed) {
      t.fired = true;
      this.raise(t, a.ts);
    }
  }

  second(now: number): void {
    for (const [key, t] of this.targets) {
      for (const [port, p] of t.ports) if (now - p.last > 2 * this.cfg.window) t.ports.delete(port);
      if (t.fired && t.changed) {
        t.changed = false;
        this.raise(t, t.last);
      }
      if (t.ports.size === 0) this.targets.delete(key);
    }
  }

  private raise(t: Target, ts: number): void {
    let top: [number, Port] | undefined;
    for (const entry of t.ports) if (!top || entry[1].total > top[1].total) top = entry;
    if (!top) return;
    const [port, p] = top;
    const sources = p.sources.size >= MAX_SOURCES ? `${MAX_SOURCES}+ sources` : p.sources.size === 1 ? hostText([...p.sources][0]) : `${p.sources.size} sources`;
    const where = t.text.includes(':') ? `[${t.text}]:${port}` : `${t.text}:${port}`;
    const rate = Math.round(t.peak / this.cfg.window);
    const single = p.sources.size === 1 ? hostText([...p.sources][0]) : undefined;
    this.ctx.raise({
      key: t.text,
      ts,
      severity: 'high',
      message: `${where} got ${p.total} TCP SYNs without a completed handshake from ${sources} in ${formatDuration(t.last - t.first)} (peak ${rate}/s)`,
      src: single,
      dst: t.text,
      counters: { failed_handshakes: p.total, in_window_peak: Math.round(t.peak), half_open: p.halfOpen, unanswered: p.unanswered, refused: p.refused, sources: p.sources.size },
      thresholds: { in_window_peak: this.cfg.minFailed },
      hosts: [t.text, ...[...p.sources].slice(0, 20).map(hostText)],
      ports: [...t.ports.keys()].slice(0, 50),
      first_seen: t.first,
      last_seen: t.last,
      extra: { window: this.cfg.window },
      flows: t.samples.splice(0),
      capture: single ? { pairs: [[[...p.sources][0], t.key]] } : { hosts: [t.key] },
    });
  }
}

export const synFlood: DetectorRegistration<Config> = {
  name: 'syn_flood',
  title: 'SYN flood / half-open surge: many handshakes to one host:port that never complete',
  config,
  create: (cfg, ctx) => new SynFloodDetector(cfg, ctx),
};
