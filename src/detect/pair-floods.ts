/**
 * One-way floods between a sender and a receiver, counted per directed pair from the per-second pair tallies
 * (pair-traffic.ts): a second counts when the receiver answered less than `maxAnsweredShare` of what it got
 * (a transfer, a query stream or a call is answered: ACKs, replies), and `minPackets` packets or `minBytes`
 * bytes of such seconds within the window raise one incident per pair, naming the sender. The detectors
 * (udp_flood, volume) say which traffic is theirs and word the alert. Pairs live in a bounded table.
 */
import { z } from 'zod';
import { type HostKey } from './addresses.js';
import { count, detectorConfig, seconds } from './detector-config.js';
import { FlowSample } from './flow-sample.js';
import { FollowedPair, type HostPair } from './host-pair.js';
import { FollowedPairs, type PairTally, type PairTraffic } from './pair-traffic.js';
import type { TrackedKeys } from './tracked-keys.js';
import type { AlertSignal, Detector, DetectorContext, DetectorRegistration } from './types.js';
import { PassSchedule, SlidingCounter, formatBytes, formatDuration, formatRate, incidentRate } from './windows.js';

/** The config fields every one-way flood detector has (spread into its detectorConfig). */
export function oneWayFloodConfig(minPackets: number, minBytes: number) {
  return {
    /** Seconds the flood is counted over. */
    window: seconds(2),
    /** One-way packets from one sender to one receiver within the window. */
    minPackets: count(minPackets),
    /** One-way IP bytes from one sender to one receiver within the window. */
    minBytes: count(minBytes),
    /** A second in which the receiver sent back at least this share of the packets is a conversation, not a flood. */
    maxAnsweredShare: z.number().min(0).max(1).default(0.1),
    /** Pairs followed at once. */
    maxPairs: count(20_000),
  };
}

export interface OneWayFloodConfig {
  window: number;
  minPackets: number;
  minBytes: number;
  maxAnsweredShare: number;
  maxPairs: number;
}

/** What a detector counts of a pair's second: its own kind of traffic, and what counts as an answer to it. */
export interface FloodTraffic {
  packets(t: PairTally): number;
  bytes(t: PairTally): number;
  answers(back: PairTally | undefined): number;
}

export interface Flood extends HostPair {
  packets: SlidingCounter;
  bytes: SlidingCounter;
  totalPackets: number;
  totalBytes: number;
  answered: number;
  flows: number;
  first: number;
  last: number;
  peakPackets: number;
  peakBytes: number;
  fired: boolean;
  changed: boolean;
  sample: FlowSample | undefined;
}

/** A followed pair's flood state; its texts are made if it raises. */
class FloodState extends FollowedPair implements Flood {
  readonly packets: SlidingCounter;
  readonly bytes: SlidingCounter;
  totalPackets = 0;
  totalBytes = 0;
  answered = 0;
  flows = 0;
  last: number;
  peakPackets = 0;
  peakBytes = 0;
  fired = false;
  changed = false;
  sample: FlowSample | undefined = undefined;

  constructor(
    key: string,
    src: HostKey,
    dst: HostKey,
    readonly first: number,
    window: number,
  ) {
    super(key, src, dst);
    this.last = first;
    this.packets = new SlidingCounter(window);
    this.bytes = new SlidingCounter(window);
  }
}

export class OneWayFloods {
  private readonly pairs: TrackedKeys<Flood>;

  /** The pairs followed: an answered pair not among them needs no key and no lookup. */
  private readonly followed = new FollowedPairs();

  constructor(
    private readonly cfg: OneWayFloodConfig,
    private readonly ctx: DetectorContext,
    private readonly traffic: FloodTraffic,
    /** The alert for a flood (message, counters), given the common facts filled below. */
    private readonly describe: (f: Flood) => Pick<AlertSignal, 'message' | 'severity'>,
  ) {
    this.pairs = ctx.track<Flood>('pairs', cfg.maxPairs, { protect: (f) => f.fired, release: (f) => this.release(f) });
  }

  /** When the pass over the pairs has something to do (a pair to forget, an incident open). */
  private readonly schedule = new PassSchedule();

  private release(f: Flood): void {
    this.followed.remove(f.src, f.dst);
    if (f.fired) this.schedule.open--;
  }

  /** One detection second's tallies. */
  onPairSecond(now: number, pairs: PairTraffic): void {
    pairs.forEach((t) => this.count(now, t, pairs));
    if (!this.schedule.runs(now - 2 * this.cfg.window)) return;
    this.pairs.forEach((f, key) => {
      if (f.fired && f.changed) {
        f.changed = false;
        this.raise(f, f.last);
      }
      if (now - f.last > 2 * this.cfg.window) this.pairs.delete(key);
      else this.schedule.keep(f.last);
    });
  }

  private count(now: number, t: PairTally, pairs: PairTraffic): void {
    const packets = this.traffic.packets(t);
    if (packets === 0) return;
    const answers = this.traffic.answers(pairs.reverse(t));
    const answered = answers >= packets * this.cfg.maxAnsweredShare;
    // Most pairs, every second: answered, and not followed (no key, no lookup).
    if (answered && !this.followed.mayHave(t)) return;
    const key = t.key;
    let f = this.pairs.get(key);
    if (answered) {
      if (f !== undefined) f.answered += answers;
      return;
    }
    const live = t.someFlow >= 0 && this.ctx.connections.table.isLive(t.someFlow);
    if (f === undefined) {
      if (this.ctx.allowed(t.src, t.dst) || !this.pairs.admit(key, now)) return;
      f = this.pairs.add(key, new FloodState(key, t.src, t.dst, pairs.began(t, now), this.cfg.window));
      this.schedule.keep(f.last);
      this.followed.add(t.src, t.dst);
    }
    const bytes = this.traffic.bytes(t);
    f.packets.add(now, packets);
    f.bytes.add(now, bytes);
    f.totalPackets += packets;
    f.totalBytes += bytes;
    f.answered += answers;
    f.flows += t.flows;
    f.last = Math.max(f.last, t.latest);
    f.peakPackets = Math.max(f.peakPackets, f.packets.value(now));
    f.peakBytes = Math.max(f.peakBytes, f.bytes.value(now));
    if (f.sample === undefined && live) f.sample = this.ctx.sample(t.someFlow);
    if (f.fired) f.changed = true;
    else if (f.peakPackets >= this.cfg.minPackets || f.peakBytes >= this.cfg.minBytes) {
      f.fired = true;
      this.schedule.open++;
      this.raise(f, f.last);
    }
  }

  private raise(f: Flood, ts: number): void {
    const { message, severity } = this.describe(f);
    this.ctx.raise({
      key: f.key,
      ts,
      severity,
      message,
      src: f.srcText,
      dst: f.dstText,
      counters: { packets: f.totalPackets, bytes: f.totalBytes, answered_packets: f.answered, flows: f.flows, in_window_peak_packets: Math.round(f.peakPackets), in_window_peak_bytes: Math.round(f.peakBytes) },
      thresholds: { in_window_peak_packets: this.cfg.minPackets, in_window_peak_bytes: this.cfg.minBytes },
      hosts: [f.srcText, f.dstText],
      first_seen: f.first,
      last_seen: f.last,
      extra: { window: this.cfg.window, max_answered_share: this.cfg.maxAnsweredShare },
      flows: f.sample ? [f.sample] : undefined,
      capture: { pairs: [[f.src, f.dst]] },
    });
  }
}

/** "sent 20,000 UDP packets (1.1 MB) to 10.0.0.9 in 1.4 s (14,286/s, 0.8 MB/s)": the measured part of a message. */
export function floodFacts(f: Flood, what: string): string {
  const seconds = f.last - f.first;
  return `${f.srcText} sent ${f.totalPackets} ${what} (${formatBytes(f.totalBytes)}) to ${f.dstText} in ${formatDuration(seconds)} (${Math.round(incidentRate(f.totalPackets, seconds))}/s, ${formatRate(incidentRate(f.totalBytes, seconds))})`;
}


/** What makes a one-way flood detector: its name, defaults, traffic and wording. */
export interface OneWayFloodKind {
  name: string;
  title: string;
  minPackets: number;
  minBytes: number;
  traffic: FloodTraffic;
  describe: (f: Flood) => Pick<AlertSignal, 'message' | 'severity'>;
}

/** A one-way flood detector's registration (udp_flood, volume): one file each says only what is its own. */
export function oneWayFloodDetector(kind: OneWayFloodKind) {
  const config = detectorConfig(oneWayFloodConfig(kind.minPackets, kind.minBytes));
  const registration: DetectorRegistration<z.infer<typeof config>> = {
    name: kind.name,
    title: kind.title,
    config,
    create: (cfg, ctx): Detector => {
      const floods = new OneWayFloods(cfg, ctx, kind.traffic, kind.describe);
      return { name: kind.name, onPairSecond: (now, pairs) => floods.onPairSecond(now, pairs) };
    },
  };
  return registration;
}
