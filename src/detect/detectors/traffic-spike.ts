/**
 * Traffic spike against a learned per-host baseline. Each second the framework hands over every host's IP
 * bytes (sent + received, from flow-table deltas: see host-bytes.ts). Per host we keep an exponentially
 * weighted mean and mean absolute deviation of bytes/s, idle seconds included; after `learnSeconds` of
 * history, `sustainSeconds` in a row far above both the mean (× minRatio) and its spread (+ k·deviation),
 * and above an absolute floor, raise. Spike seconds are not learned. One incident per host.
 *
 * The mean starts as the plain average of the seconds seen (the EWMA's weight is at least 1/n), so a young
 * baseline is the host's real rate, not a fraction of it biased towards the zero it started from. Reading a
 * file (ctx.fromFile), a baseline counts as learned after `fileLearnSeconds` of the host's own history in the
 * file: a capture rarely holds the ten minutes a live agent learns for, and without it `loopy read` could
 * never raise this alert. Such alerts say their baseline was learned from the file.
 */
import { z } from 'zod';
import type { HostCounters } from '../../analyze/flows/host-counters.js';
import { hostKeyOf, hostText, type HostKey } from '../addresses.js';
import { count, detectorConfig, seconds } from '../detector-config.js';
import type { Detector, DetectorContext, DetectorRegistration } from '../types.js';
import { formatDuration, formatRate } from '../windows.js';
import type { TrackedKeys } from '../tracked-keys.js';

const config = detectorConfig({
  /** Seconds of history a host needs before its spikes count. */
  learnSeconds: seconds(600),
  /** The same when reading a capture file: the baseline is seeded from the host's first seconds in the file. */
  fileLearnSeconds: seconds(60),
  /** Memory of the baseline, seconds (the mean's EWMA time constant). */
  baselineSeconds: seconds(1800),
  /** Rate floor: below this a "spike" does not matter (bytes/s). */
  minBytesPerSecond: z.number().positive().default(10_000_000),
  minRatio: z.number().min(1).default(10),
  deviations: z.number().min(0).default(6),
  sustainSeconds: count(3),
  /** 'local': only hosts in localNets (the site's own); 'all': every host seen. */
  scope: z.enum(['local', 'all']).default('local'),
  maxHosts: count(10_000),
});
type Config = z.infer<typeof config>;

interface Baseline {
  text: string;
  /** The second this host's bytes were last read (hosts without traffic in a second learn a 0). */
  rolled: number;
  mean: number;
  deviation: number;
  seconds: number;
  since: number;
  run: number;
  spikeStart: number;
  peak: number;
  spikeBytes: number;
  usual: number;
}

class TrafficSpikeDetector implements Detector {
  readonly name = 'traffic_spike';
  private readonly hosts: TrackedKeys<Baseline>;
  private readonly alpha: number;
  private readonly learnSeconds: number;
  private readonly words = new Uint32Array(4);

  constructor(
    private readonly cfg: Config,
    private readonly ctx: DetectorContext,
  ) {
    this.alpha = 1 / cfg.baselineSeconds;
    const learnSeconds = (this.learnSeconds = ctx.fromFile ? Math.min(cfg.learnSeconds, cfg.fileLearnSeconds) : cfg.learnSeconds);
    // A learnt baseline is worth more than any newcomer: spoofed hosts never push one out.
    this.hosts = ctx.track<Baseline>('hosts', cfg.maxHosts, { protect: (b) => b.seconds >= learnSeconds || b.run > 0 });
  }

  onHostSecond(now: number, counters: HostCounters, elapsed: number): void {
    // A jump in capture time (joined capture files, a stalled feed) counts as a few seconds, not a year of learning.
    const seconds = Math.min(5, Math.max(0.5, elapsed));
    for (let slot = 0; slot < counters.size; slot++) {
      const version = counters.versionOf(slot);
      const words = counters.addressOf(slot, this.words);
      const key = hostKeyOf(version, words);
      let b = this.hosts.get(key);
      if (b === undefined) {
        if ((this.cfg.scope === 'local' && !this.ctx.isLocal(version, words)) || !this.hosts.admit(key, now)) continue;
        b = this.hosts.add(key, { text: hostText(key), rolled: now, mean: 0, deviation: 0, seconds: 0, since: now, run: 0, spikeStart: 0, peak: 0, spikeBytes: 0, usual: 0 });
      }
      b.rolled = now;
      this.observe(key, b, counters.bytes[slot] / seconds, now, seconds);
    }
    this.hosts.forEach((b, key) => {
      if (b.rolled !== now) this.observe(key as HostKey, b, 0, now, seconds);
    });
  }

  private observe(key: HostKey, b: Baseline, rate: number, now: number, seconds: number): void {
    const learned = b.seconds >= this.learnSeconds;
    const spiking = learned && rate >= this.cfg.minBytesPerSecond && rate >= b.mean * this.cfg.minRatio && rate >= b.mean + this.cfg.deviations * b.deviation;
    if (spiking) {
      if (b.run === 0) {
        b.spikeStart = now - seconds;
        b.peak = 0;
        b.spikeBytes = 0;
        b.usual = b.mean;
      }
      b.run++;
      b.peak = Math.max(b.peak, rate);
      b.spikeBytes += rate * seconds;
      if (b.run >= this.cfg.sustainSeconds) this.raise(key, b, rate, now);
      return;
    }
    b.run = 0;
    // An EWMA per elapsed second (a gap of n seconds counts as n idle-or-busy seconds at this rate), the plain
    // average while the history is shorter than its memory.
    const a = Math.max(1 - Math.pow(1 - this.alpha, seconds), seconds / (b.seconds + seconds));
    const diff = rate - b.mean;
    b.mean += a * diff;
    b.deviation += a * (Math.abs(diff) - b.deviation);
    b.seconds += seconds;
  }

  private raise(key: HostKey, b: Baseline, rate: number, now: number): void {
    const ratio = b.usual > 0 ? Math.round(rate / b.usual) : Infinity;
    this.ctx.raise({
      key: b.text,
      ts: now,
      severity: 'low',
      message: `${b.text} moved ${formatRate(rate)}, ${Number.isFinite(ratio) ? `${ratio}× ` : 'far above '}its usual ${formatRate(b.usual)} (baseline of ${formatDuration(b.seconds)}${this.ctx.fromFile ? ' learned from this file' : ''}), for ${formatDuration(now - b.spikeStart)}`,
      src: b.text,
      counters: { bytes_per_second: Math.round(rate), peak_bytes_per_second: Math.round(b.peak), spike_seconds: b.run, spike_bytes: Math.round(b.spikeBytes) },
      thresholds: { bytes_per_second: Math.round(Math.max(this.cfg.minBytesPerSecond, b.usual * this.cfg.minRatio, b.usual + this.cfg.deviations * b.deviation)), spike_seconds: this.cfg.sustainSeconds },
      hosts: [b.text],
      first_seen: b.spikeStart,
      last_seen: now,
      extra: { baseline_bytes_per_second: Math.round(b.usual), baseline_deviation: Math.round(b.deviation), baseline_seconds: Math.round(b.seconds), baseline_source: this.ctx.fromFile ? 'file' : 'live' },
      capture: { hosts: [key] },
    });
  }
}

export const trafficSpike: DetectorRegistration<Config> = {
  name: 'traffic_spike',
  title: "Traffic spike: a host's bytes/s far above its learned baseline",
  config,
  create: (cfg, ctx) => new TrafficSpikeDetector(cfg, ctx),
  restartOnly: ['baselineSeconds'],
};
