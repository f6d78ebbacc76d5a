/**
 * ICMP flood: ICMP/ICMPv6 packets towards one host far above anything ping or path-MTU discovery sends.
 * Runs per ICMP packet (from the engine's icmp layer observer), so it allocates nothing per packet once a
 * target is known: hosts are small-integer keys (IPv4 as is, IPv6 hashed), counts are two-bucket sliding
 * counters, sources the first 20 plus a fixed-size distinct counter. Targets live in bounded tables (ctx.track,
 * one per address family). One incident per target.
 */
import { z } from 'zod';
import { formatIPv4, formatIPv6 } from '../../analyze/format-address.js';
import type { Packet } from '../../decode/packet.js';
import { type HostKey } from '../addresses.js';
import { count, detectorConfig, seconds } from '../detector-config.js';
import { DistinctKeys } from '../distinct-count.js';
import type { TrackedKeys } from '../tracked-keys.js';
import type { Detector, DetectorContext, DetectorRegistration } from '../types.js';
import { SlidingCounter, formatDuration, incidentRate } from '../windows.js';
import { mix32 } from '../../analyze/mix32.js';

const config = detectorConfig({
  window: seconds(2),
  /** ICMP packets to one host within the window (1000 in 2 s = 500/s; `ping` sends 1/s). */
  minPackets: count(1000),
  /** Targets followed at most, per address family (IPv4, IPv6). */
  maxTargets: count(20_000),
});
type Config = z.infer<typeof config>;

/** Sources kept exactly per target (the alert's hosts); beyond them a 1024-bit counter ("3,500+" when full). */
const KEEP_SOURCES = 20;
const SOURCE_COUNTER_BITS = 1024;

interface Target {
  hostKey: HostKey;
  text: string;
  counter: SlidingCounter;
  total: number;
  echoRequests: number;
  /** Sources as small-integer keys (IPv4 as is, IPv6 hashed); the texts of the first ones kept. */
  sources: DistinctKeys<number>;
  sourceTexts: string[];
  firstSourceKey: HostKey;
  first: number;
  last: number;
  peak: number;
  fired: boolean;
  changed: boolean;
  /** On the detector's allow-list of targets: counted for nothing. */
  allowed: boolean;
}


/**
 * A small-integer key for an address, so per-packet Map lookups box nothing: IPv4 as a signed 32-bit number
 * (V8 keeps those unboxed), IPv6 as a 32-bit hash kept in its own map (a collision merges two targets' counts,
 * which only makes a flood look bigger: acceptable for a threshold on floods).
 */
function v6Hash(w: Uint32Array): number {
  return mix32(w[0] ^ mix32(w[1] ^ mix32(w[2] ^ mix32(w[3])))) | 0;
}

/** When a host last sent an echo request (capture time): the echo replies it gets are its answers. */
interface Requester {
  last: number;
}

const ECHO_REQUEST = 8;
const ECHO_REPLY = 0;
const ECHO6_REQUEST = 128;
const ECHO6_REPLY = 129;

/** ICMP error types: unreachable, source quench, redirect, time exceeded, parameter problem; ICMPv6 1-4. */
const ICMP_ERRORS = new Uint8Array(256);
for (const t of [3, 4, 5, 11, 12]) ICMP_ERRORS[t] = 1;
const ICMP6_ERRORS = new Uint8Array(256);
for (const t of [1, 2, 3, 4]) ICMP6_ERRORS[t] = 2;

/**
 * An ICMP error that quotes a packet its recipient sent to its sender (RFC 792/4443: the offending packet's
 * IP header follows the ICMP header): the receiver of a flood answering port unreachable to each packet, a
 * router's time-exceeded. That is backscatter about the recipient's own traffic, not a flood on it (a UDP
 * flood's sender would otherwise get an icmp_flood from its victim's refusals). An error flood that forged
 * such quotes would pass as backscatter: errors quoting anything else still count.
 */
function isErrorAboutOwnPacket(pkt: Packet, v6: boolean): boolean {
  if ((v6 ? ICMP6_ERRORS : ICMP_ERRORS)[pkt.icmpType] === 0) return false;
  const q = pkt.payloadOffset;
  const d = pkt.data;
  if (!v6) return pkt.payloadLength >= 20 && d[q] >> 4 === 4 && d.readUInt32BE(q + 12) === pkt.dst[0] >>> 0 && d.readUInt32BE(q + 16) === pkt.src[0] >>> 0;
  if (pkt.payloadLength < 40 || d[q] >> 4 !== 6) return false;
  for (let i = 0; i < 4; i++) {
    if (d.readUInt32BE(q + 8 + 4 * i) !== pkt.dst[i] >>> 0 || d.readUInt32BE(q + 24 + 4 * i) !== pkt.src[i] >>> 0) return false;
  }
  return true;
}

class IcmpFloodDetector implements Detector {
  readonly name = 'icmp_flood';
  private readonly targets: TrackedKeys<Target>;
  private readonly targets6: TrackedKeys<Target>;
  /** Hosts that sent echo requests lately, by family: a ping flood is one alert on its victim, not a second on its sender. */
  private readonly requesters: TrackedKeys<Requester>;
  private readonly requesters6: TrackedKeys<Requester>;

  constructor(
    private readonly cfg: Config,
    private readonly ctx: DetectorContext,
  ) {
    this.targets = ctx.track<Target>('targets', cfg.maxTargets, { protect: (t) => t.fired });
    this.targets6 = ctx.track<Target>('targets6', cfg.maxTargets, { protect: (t) => t.fired });
    this.requesters = ctx.track<Requester>('echo_requesters', cfg.maxTargets);
    this.requesters6 = ctx.track<Requester>('echo_requesters6', cfg.maxTargets);
  }

  /**
   * Echo requests mark their sender as a pinger; an echo reply to a host that pinged within the window is its
   * answer and counts for nothing. Replies to a host that sent none (a smurf's reflected flood) still count.
   */
  private isAnswer(pkt: Packet, v6: boolean): boolean {
    const type = pkt.icmpType;
    if (type === (v6 ? ECHO6_REQUEST : ECHO_REQUEST)) {
      const requesters = v6 ? this.requesters6 : this.requesters;
      const key = v6 ? v6Hash(pkt.src) : pkt.src[0] | 0;
      const r = requesters.get(key);
      if (r !== undefined) r.last = pkt.ts;
      else if (requesters.admit(key, pkt.ts)) requesters.add(key, { last: pkt.ts });
      return false;
    }
    if (type !== (v6 ? ECHO6_REPLY : ECHO_REPLY)) return false;
    const asked = (v6 ? this.requesters6 : this.requesters).peek(v6 ? v6Hash(pkt.dst) : pkt.dst[0] | 0);
    return asked !== undefined && pkt.ts - asked.last <= this.cfg.window;
  }

  onIcmp(pkt: Packet): void {
    const v6 = pkt.ipVersion === 6;
    if (this.isAnswer(pkt, v6) || isErrorAboutOwnPacket(pkt, v6)) return;
    const table = v6 ? this.targets6 : this.targets;
    const key = v6 ? v6Hash(pkt.dst) : pkt.dst[0] | 0;
    let t = table.get(key);
    if (t === undefined) {
      if (!table.admit(key, pkt.ts)) return;
      const text = v6 ? formatIPv6(pkt.dst) : formatIPv4(pkt.dst[0]);
      t = {
        hostKey: v6 ? text : pkt.dst[0] | 0, text, counter: new SlidingCounter(this.cfg.window), total: 0, echoRequests: 0,
        sources: new DistinctKeys<number>(KEEP_SOURCES, SOURCE_COUNTER_BITS), sourceTexts: [], firstSourceKey: v6 ? formatIPv6(pkt.src) : pkt.src[0] | 0,
        first: pkt.ts, last: pkt.ts, peak: 0, fired: false, changed: false, allowed: false,
      };
      t.allowed = this.ctx.allowed(undefined, t.hostKey);
      table.add(key, t);
    }
    if (t.allowed) {
      t.last = pkt.ts;
      return;
    }
    t.counter.add(pkt.ts);
    t.total++;
    t.last = pkt.ts;
    if (pkt.icmpType === ECHO_REQUEST || pkt.icmpType === ECHO6_REQUEST) t.echoRequests++;
    if (t.sources.add(v6 ? v6Hash(pkt.src) : pkt.src[0] | 0)) t.sourceTexts.push(v6 ? formatIPv6(pkt.src) : formatIPv4(pkt.src[0]));
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
    for (const requesters of [this.requesters, this.requesters6]) {
      requesters.forEach((r, key) => {
        if (now - r.last > this.cfg.window) requesters.delete(key);
      });
    }
  }

  private sweep(targets: TrackedKeys<Target>, now: number): void {
    targets.forEach((t, key) => {
      const n = t.counter.value(now);
      if (n > t.peak) t.peak = n;
      if (t.fired && t.changed) {
        t.changed = false;
        this.raise(t, t.last);
      }
      if (now - t.last > 2 * this.cfg.window) targets.delete(key);
    });
  }

  private raise(t: Target, ts: number): void {
    const single = t.sources.count === 1;
    const firstSource = t.sourceTexts[0];
    const from = single ? firstSource : `${t.sources.describe()} sources`;
    this.ctx.raise({
      key: t.text,
      ts,
      severity: 'medium',
      message: `${t.text} received ${t.total} ICMP packets from ${from} in ${formatDuration(t.last - t.first)} (${Math.round(incidentRate(t.total, t.last - t.first))}/s)`,
      src: single ? firstSource : undefined,
      dst: t.text,
      counters: { packets: t.total, in_window_peak: Math.round(t.peak), echo_requests: t.echoRequests, sources: t.sources.count },
      thresholds: { in_window_peak: this.cfg.minPackets },
      hosts: [t.text, ...t.sourceTexts],
      first_seen: t.first,
      last_seen: t.last,
      extra: { window: this.cfg.window, sources_estimated: t.sources.estimated, sources_saturated: t.sources.saturated },
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
