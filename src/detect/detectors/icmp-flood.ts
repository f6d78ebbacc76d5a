/**
 * ICMP flood: ICMP/ICMPv6 packets towards one host far above anything ping or path-MTU discovery sends.
 * Runs per ICMP packet (from the engine's icmp layer observer), so it allocates nothing per packet: hosts
 * are small-integer keys (IPv4 as is, IPv6 hashed), counts are two-bucket sliding counters. One incident per target.
 */
import { z } from 'zod';
import { formatIPv4, formatIPv6 } from '../../analyze/format-address.js';
import type { Packet } from '../../decode/packet.js';
import { type HostKey } from '../addresses.js';
import { count, detectorConfig, seconds } from '../detector-config.js';
import type { Detector, DetectorContext, DetectorRegistration } from '../types.js';
import { SlidingCounter, formatDuration } from '../windows.js';

const config = detectorConfig({
  window: seconds(2),
  /** ICMP packets to one host within the window (1000 in 2 s = 500/s; `ping` sends 1/s). */
  minPackets: count(1000),
  maxTargets: count(20_000),
});
type Config = z.infer<typeof config>;

const MAX_SOURCES = 1000;

interface Target {
  hostKey: HostKey;
  text: string;
  counter: SlidingCounter;
  total: number;
  echoRequests: number;
  sources: Set<number>;
  firstSource: string;
  firstSourceKey: HostKey;
  first: number;
  last: number;
  peak: number;
  fired: boolean;
  changed: boolean;
  /** On the detector's allow-list of targets: counted for nothing. */
  allowed: boolean;
}

function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
  return (x ^ (x >>> 16)) >>> 0;
}

/**
 * A small-integer key for an address, so per-packet Map lookups box nothing: IPv4 as a signed 32-bit number
 * (V8 keeps those unboxed), IPv6 as a 32-bit hash kept in its own map (a collision merges two targets' counts,
 * which only makes a flood look bigger: acceptable for a threshold on floods).
 */
function v6Hash(w: Uint32Array): number {
  return mix32(w[0] ^ mix32(w[1] ^ mix32(w[2] ^ mix32(w[3])))) | 0;
}

class IcmpFloodDetector implements Detector {
  readonly name = 'icmp_flood';
  private readonly targets = new Map<number, Target>();
  private readonly targets6 = new Map<number, Target>();

  constructor(
    private readonly cfg: Config,
    private readonly ctx: DetectorContext,
  ) {}

  onIcmp(pkt: Packet): void {
    const v6 = pkt.ipVersion === 6;
    const map = v6 ? this.targets6 : this.targets;
    const key = v6 ? v6Hash(pkt.dst) : pkt.dst[0] | 0;
    let t = map.get(key);
    if (t === undefined) {
      if (this.targets.size + this.targets6.size >= this.cfg.maxTargets) return;
      const text = v6 ? formatIPv6(pkt.dst) : formatIPv4(pkt.dst[0]);
      const firstSource = v6 ? formatIPv6(pkt.src) : formatIPv4(pkt.src[0]);
      t = {
        hostKey: v6 ? text : pkt.dst[0] | 0, text, counter: new SlidingCounter(this.cfg.window), total: 0, echoRequests: 0, sources: new Set(),
        firstSource, firstSourceKey: v6 ? firstSource : pkt.src[0] | 0, first: pkt.ts, last: pkt.ts, peak: 0, fired: false, changed: false, allowed: false,
      };
      t.allowed = this.ctx.allowed(undefined, t.hostKey);
      map.set(key, t);
    }
    if (t.allowed) {
      t.last = pkt.ts;
      return;
    }
    t.counter.add(pkt.ts);
    t.total++;
    t.last = pkt.ts;
    if (pkt.icmpType === 8 || pkt.icmpType === 128) t.echoRequests++;
    if (t.sources.size < MAX_SOURCES) t.sources.add(v6 ? v6Hash(pkt.src) : pkt.src[0] | 0);
    if (t.fired) {
      t.changed = true;
      return;
    }
    if (t.counter.upperBound() < this.cfg.minPackets) return;
    const n = t.counter.value(pkt.ts);
    if (n > t.peak) t.peak = n;
    if (n >= this.cfg.minPackets) {
      t.fired = true;
      this.raise(t, pkt.ts);
    }
  }

  second(now: number): void {
    this.sweep(this.targets, now);
    this.sweep(this.targets6, now);
  }

  private sweep(targets: Map<number, Target>, now: number): void {
    for (const [key, t] of targets) {
      const n = t.counter.value(now);
      if (n > t.peak) t.peak = n;
      if (t.fired && t.changed) {
        t.changed = false;
        this.raise(t, t.last);
      }
      if (now - t.last > 2 * this.cfg.window) targets.delete(key);
    }
  }

  private raise(t: Target, ts: number): void {
    const single = t.sources.size === 1;
    const from = single ? t.firstSource : t.sources.size >= MAX_SOURCES ? `${MAX_SOURCES}+ sources` : `${t.sources.size} sources`;
    this.ctx.raise({
      key: t.text,
      ts,
      severity: 'medium',
      message: `${t.text} received ${t.total} ICMP packets from ${from} in ${formatDuration(t.last - t.first)} (peak ${Math.round(t.peak / this.cfg.window)}/s)`,
      src: single ? t.firstSource : undefined,
      dst: t.text,
      counters: { packets: t.total, in_window_peak: Math.round(t.peak), echo_requests: t.echoRequests, sources: t.sources.size },
      thresholds: { in_window_peak: this.cfg.minPackets },
      hosts: single ? [t.text, t.firstSource] : [t.text],
      first_seen: t.first,
      last_seen: t.last,
      extra: { window: this.cfg.window },
      capture: single ? { pairs: [[t.firstSourceKey, t.hostKey]] } : { hosts: [t.hostKey] },
    });
  }
}

export const icmpFlood: DetectorRegistration<Config> = {
  name: 'icmp_flood',
  title: 'ICMP flood: ICMP packets to one host far above ping rates',
  config,
  create: (cfg, ctx) => new IcmpFloodDetector(cfg, ctx),
};
