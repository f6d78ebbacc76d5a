/**
 * Large transfer: one host sending another more than `minBytes` (IP bytes, every protocol) within the
 * window, whatever their usual traffic (no baseline: the same on the first second as after a week, offline
 * and live). Counted per directed pair (sender → receiver) from the per-second pair tallies, so a copy
 * between two local hosts is one alert naming who sent how much to whom, not one per endpoint. What a
 * backup or a deploy moves is expected: allow-list it (allowSources / allowTargets) or raise minBytes.
 */
import { z } from 'zod';
import { count, detectorConfig, seconds } from '../detector-config.js';
import type { FlowSample } from '../flow-sample.js';
import { hostPair, type HostPair } from '../host-pair.js';
import { FollowedPairs, type PairTally, type PairTraffic } from '../pair-traffic.js';
import type { TrackedKeys } from '../tracked-keys.js';
import type { Detector, DetectorContext, DetectorRegistration } from '../types.js';
import { PassSchedule, SlidingCounter, formatBytes, formatDuration, formatRate, incidentRate } from '../windows.js';

const config = detectorConfig({
  /** Seconds the bytes are summed over. */
  window: seconds(600),
  /** IP bytes from one host to another within the window (1 GB: a disk image, a database dump). */
  minBytes: count(1_000_000_000),
  /** Pairs followed at once. */
  maxPairs: count(20_000),
});
type Config = z.infer<typeof config>;

interface Transfer extends HostPair {
  bytes: SlidingCounter;
  total: number;
  packets: number;
  first: number;
  last: number;
  fired: boolean;
  changed: boolean;
  sample: FlowSample | undefined;
}

/** Bytes in a second below which the second does not count (a tenth of the average rate minBytes needs). */
function floorPerSecond(cfg: Config): number {
  return cfg.minBytes / cfg.window / 10;
}

class LargeTransferDetector implements Detector {
  readonly name = 'large_transfer';
  private readonly pairs: TrackedKeys<Transfer>;

  constructor(
    private readonly cfg: Config,
    private readonly ctx: DetectorContext,
  ) {
    this.pairs = ctx.track<Transfer>('pairs', cfg.maxPairs, { protect: (t) => t.fired, release: (t) => this.release(t) });
  }

  /** When the pass over the pairs has something to do (a pair to forget, an incident open). */
  private readonly schedule = new PassSchedule();

  private release(t: Transfer): void {
    this.followed.remove(t.src, t.dst);
    if (t.fired) this.schedule.open--;
  }

  /** The pairs followed (their transfers). */
  private readonly followed = new FollowedPairs();

  onPairSecond(now: number, pairs: PairTraffic): void {
    pairs.forEach((t) => this.count(now, t, pairs));
    if (!this.schedule.runs(now - this.cfg.window)) return;
    this.pairs.forEach((x, key) => {
      if (x.fired && x.changed) {
        x.changed = false;
        this.raise(x, x.last);
      }
      if (now - x.last > this.cfg.window) this.pairs.delete(key);
      else this.schedule.keep(x.last);
    });
  }

  private count(now: number, t: PairTally, pairs: PairTraffic): void {
    // A second below a tenth of the rate minBytes needs starts nothing, and costs no key unless its pair is
    // already followed (most pairs, every second; all of a spoofed flood's).
    const small = t.bytes < floorPerSecond(this.cfg);
    if (small && !this.followed.mayHave(t)) return;
    const key = t.key;
    let x = this.pairs.get(key);
    if (x === undefined) {
      if (small || this.ctx.allowed(t.src, t.dst) || !this.pairs.admit(key, now)) return;
      this.followed.add(t.src, t.dst);
      const first = pairs.began(t, now);
      x = this.pairs.add(key, { ...hostPair(t.src, t.dst), bytes: new SlidingCounter(this.cfg.window), total: 0, packets: 0, first, last: first, fired: false, changed: false, sample: undefined });
      this.schedule.keep(first);
    }
    x.bytes.add(now, t.bytes);
    x.total += t.bytes;
    x.packets += t.packets;
    x.last = Math.max(x.last, t.latest);
    if (x.sample === undefined && t.someFlow >= 0 && this.ctx.connections.table.isLive(t.someFlow)) x.sample = this.ctx.sample(t.someFlow);
    if (x.fired) x.changed = true;
    else if (x.bytes.value(now) >= this.cfg.minBytes) {
      x.fired = true;
      this.schedule.open++;
      this.raise(x, x.last);
    }
  }

  private raise(x: Transfer, ts: number): void {
    const seconds = x.last - x.first;
    const flow = x.sample ? ` (e.g. ${x.sample.proto === 6 ? 'tcp' : x.sample.proto === 17 ? 'udp' : `proto ${x.sample.proto}`}/${x.sample.respPort})` : '';
    this.ctx.raise({
      key: x.key,
      ts,
      severity: 'low',
      message: `${x.srcText} sent ${formatBytes(x.total)} to ${x.dstText}${flow} in ${formatDuration(seconds)} (${formatRate(incidentRate(x.total, seconds))})`,
      src: x.srcText,
      dst: x.dstText,
      counters: { bytes: x.total, packets: x.packets },
      thresholds: { bytes: this.cfg.minBytes },
      hosts: [x.srcText, x.dstText],
      first_seen: x.first,
      last_seen: x.last,
      extra: { window: this.cfg.window },
      flows: x.sample ? [x.sample] : undefined,
      capture: { pairs: [[x.src, x.dst]] },
    });
  }
}

export const largeTransfer: DetectorRegistration<Config> = {
  name: 'large_transfer',
  title: 'Large transfer: one host sending another more than a set volume (1 GB in 10 min), no baseline needed',
  config,
  create: (cfg, ctx) => new LargeTransferDetector(cfg, ctx),
};
