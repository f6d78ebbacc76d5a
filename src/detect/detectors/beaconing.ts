/**
 * Beaconing: one host contacting one destination (a host and port, or a DNS name) again and again at a
 * regular interval, as malware calls home. Each connection attempt (TCP SYN, UDP flow: its start time) and
 * each DNS lookup adds a time to its series (client → destination); past `minEvents` times within the
 * window, the intervals between them are compared: a median between `minInterval` and `maxInterval` and a
 * jitter (mean absolute deviation from the median, over the median) at most `maxJitter` raise one incident
 * per series. People and their programs are irregular; timers are not. Legitimate timers (NTP, monitoring
 * scrapes, health checks) are beacons too: allow-list them. Series live in a bounded table.
 */
import { z } from 'zod';
import type { DnsRecord } from '../../analyze/records.js';
import { hostKeyOf, hostKeyOfText, hostText, type HostKey } from '../addresses.js';
import { count, detectorConfig, seconds } from '../detector-config.js';
import { endpointText } from '../host-pair.js';
import { FlowSample } from '../flow-sample.js';
import type { TrackedKeys } from '../tracked-keys.js';
import { Outcome, type AttemptFacts, type Detector, type DetectorContext, type DetectorRegistration } from '../types.js';
import { formatDuration } from '../windows.js';
import { mix32 } from '../../analyze/mix32.js';

const config = detectorConfig({
  /** Seconds of history a series is judged on. */
  window: seconds(3600),
  /** Contacts within the window (11 intervals) before a series is judged. */
  minEvents: count(12),
  /** Median interval bounds, seconds: faster is a burst or a poll loop, slower needs more than the window. */
  minInterval: seconds(10),
  maxInterval: seconds(900),
  /** Mean absolute deviation of the intervals from their median, as a share of it. */
  maxJitter: z.number().min(0).max(1).default(0.1),
  /** 'outbound': connections to hosts outside localNets only (DNS lookups always count); 'all': every destination. */
  scope: z.enum(['outbound', 'all']).default('outbound'),
  /** Series followed at once. */
  maxSeries: count(50_000),
});
type Config = z.infer<typeof config>;

/** Times kept per series: the judgement looks at the last ones. */
const KEEP = 32;
/** Seconds between two sweeps for series gone quiet (they end after min(window, 2 × maxInterval)). */
const SWEEP_SECONDS = 30;

interface Series {
  /** The second hash of its key (SeriesKey): a lookup whose check differs is another series. */
  check: number;
  client: HostKey;
  clientText: string;
  /** "10.0.0.9:443/tcp", or "dns:update.example.com". */
  what: string;
  server: HostKey | undefined;
  times: Float64Array;
  /** Times recorded (the last KEEP kept). */
  count: number;
  first: number;
  last: number;
  median: number;
  jitter: number;
  fired: boolean;
  changed: boolean;
  sample: FlowSample | undefined;
}

/** Median and relative mean absolute deviation of a series' intervals (regularity's result, reused). */
interface Regularity {
  median: number;
  jitter: number;
}

/** Fills `out` from the intervals between the series' last `n` times (no allocation: it runs per contact). */
function regularity(s: Series, n: number, scratch: Float64Array, out: Regularity): Regularity {
  const m = n - 1;
  for (let i = 0; i < m; i++) {
    const a = s.times[(s.count - n + i) % KEEP];
    const b = s.times[(s.count - n + i + 1) % KEEP];
    scratch[i] = b - a;
  }
  // Insertion sort of at most KEEP - 1 intervals, in place: no view, no call into the runtime.
  for (let i = 1; i < m; i++) {
    const x = scratch[i];
    let j = i - 1;
    for (; j >= 0 && scratch[j] > x; j--) scratch[j + 1] = scratch[j];
    scratch[j + 1] = x;
  }
  const sorted = scratch;
  const median = m % 2 === 1 ? sorted[(m - 1) / 2] : (sorted[m / 2 - 1] + sorted[m / 2]) / 2;
  let deviation = 0;
  for (let i = 0; i < m; i++) deviation += Math.abs(sorted[i] - median);
  out.median = median;
  out.jitter = median > 0 ? deviation / m / median : Infinity;
  return out;
}

/** "10.0.0.9:443/tcp": what a connection series contacts. */
function attemptWhat(a: AttemptFacts): string {
  const proto = a.proto === 6 ? 'tcp' : a.proto === 17 ? 'udp' : 'icmp';
  return `${endpointText(hostText(a.respKey), a.respPort)}/${proto}`;
}

/**
 * A numeric series key: 30 bits of one hash as the table's key (a small integer, which a Map looks up
 * without boxing a number each time, as it must for a 52-bit one) and 32 bits of another kept in the series
 * and compared on every lookup. Two series whose keys meet (about once in a billion pairs) are told apart;
 * the newcomer's events are then not counted.
 */
interface SeriesKey {
  key: HostKey;
  check: number;
}

function setKey(out: SeriesKey, h1: number, h2: number): SeriesKey {
  out.key = mix32(h1) & 0x3fffffff;
  out.check = mix32(h2 ^ 0x27d4eb2f);
  return out;
}

/**
 * A connection series' key without a string when both ends are IPv4 (the common case, once per connection):
 * hashes of client, server, port and protocol. IPv6 keys are their text.
 */
function attemptKey(a: AttemptFacts, out: SeriesKey): SeriesKey {
  if (typeof a.origKey !== 'number' || typeof a.respKey !== 'number') {
    out.key = `${hostText(a.origKey)}>${attemptWhat(a)}`;
    out.check = 0;
    return out;
  }
  const tail = (a.respPort << 8) | a.proto;
  return setKey(out, a.origKey ^ mix32(a.respKey ^ 0x9e3779b9) ^ tail, a.respKey ^ mix32(a.origKey + 0x85ebca6b) ^ (tail * 31));
}


/**
 * A necessary condition for a jitter of at most `j`, in one pass without sorting (most series are judged at
 * every contact and are nowhere near regular). The median lies within j of the mean (|mean - median| is at
 * most the mean absolute deviation from the median), so in [mean / (1 + j), mean / (1 - j)]; each interval
 * is at least its distance to that range from the median, and their sum is at most j × m × median.
 */
function couldBeRegular(s: Series, n: number, mean: number, j: number): boolean {
  if (j >= 0.5) return true;
  const lo = mean / (1 + j);
  const hi = mean / (1 - j);
  const budget = j * (n - 1) * hi;
  let outside = 0;
  for (let i = 0; i < n - 1; i++) {
    const x = s.times[(s.count - n + i + 1) % KEEP] - s.times[(s.count - n + i) % KEEP];
    if (x < lo) outside += lo - x;
    else if (x > hi) outside += x - hi;
  }
  // A hair of slack for rounding: the full judgement decides the borderline.
  return outside <= budget * (1 + 1e-9);
}

/**
 * A lookup series' key without a string (once per DNS record): hashes of the client's text and the name,
 * ASCII letters folded to lower case as they are read.
 */
function lookupKey(client: string, name: string, out: SeriesKey): SeriesKey {
  let h1 = 0x811c9dc5;
  let h2 = 0x5bd1e995;
  for (let i = 0; i < client.length; i++) {
    const c = client.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995) ^ (h2 >>> 13);
  }
  // A separator no address contains, so ("1.2.3.4", "5x") and ("1.2.3.45", "x") differ.
  h1 = Math.imul(h1 ^ 0x3e, 0x01000193);
  h2 = Math.imul(h2 ^ 0x3e, 0x5bd1e995) ^ (h2 >>> 13);
  for (let i = 0; i < name.length; i++) {
    let c = name.charCodeAt(i);
    if (c >= 65 && c <= 90) c |= 32;
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995) ^ (h2 >>> 13);
  }
  return setKey(out, h1, h2);
}

class BeaconingDetector implements Detector {
  readonly name = 'beaconing';
  private readonly series: TrackedKeys<Series>;
  private readonly scratch = new Float64Array(KEEP);
  private readonly judged: Regularity = { median: 0, jitter: 0 };
  private readonly made: SeriesKey = { key: 0, check: 0 };
  /** Series that raised their alert: their later contacts update it, each second. */
  private readonly fired = new Set<Series>();
  private lastSweep = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly cfg: Config,
    private readonly ctx: DetectorContext,
  ) {
    this.series = ctx.track<Series>('series', cfg.maxSeries, { protect: (s) => s.fired });
  }

  onAttempt(a: AttemptFacts): void {
    // A beacon talks to something that answers; unanswered and refused attempts are scans' and floods' (and a
    // spoofed flood would otherwise make a series, and its strings, per forged source).
    if (a.outcome !== Outcome.Ok) return;
    if (this.cfg.scope === 'outbound' && this.ctx.isLocal(a.version, a.resp)) return;
    const { key, check } = attemptKey(a, this.made);
    const s = this.series.get(key) ?? this.admit(key, check, a.origKey, a.start, () => ({ what: attemptWhat(a), server: a.respKey }));
    if (s !== undefined && s.check === check) this.contact(s, a.start, a);
  }

  onDns(d: DnsRecord): void {
    if (!d.query) return;
    // Keyed by a hash of the record's own texts: the client's address is parsed, and the name's text made,
    // only for a series not seen before.
    const { key, check } = lookupKey(d['id.orig_h'], d.query, this.made);
    let s = this.series.get(key);
    if (s === undefined) {
      const client = hostKeyOfText(d['id.orig_h']);
      if (client === undefined) return;
      const query = d.query;
      s = this.admit(key, check, client, d.ts, () => ({ what: `dns:${query.toLowerCase()}`, server: undefined }));
    }
    if (s !== undefined && s.check === check) this.contact(s, d.ts);
  }

  /** A series for a key not followed yet, when the client is not allowed and the table admits it. */
  private admit(key: HostKey, check: number, client: HostKey, ts: number, describe: () => { what: string; server: HostKey | undefined }): Series | undefined {
    if (this.ctx.allowed(client, undefined) || !this.series.admit(key, ts)) return undefined;
    const { what, server } = describe();
    if (server !== undefined && this.ctx.allowed(client, server)) return undefined;
    return this.series.add(key, { check, client, clientText: hostText(client), what, server, times: new Float64Array(KEEP), count: 0, first: ts, last: ts, median: 0, jitter: 0, fired: false, changed: false, sample: undefined });
  }

  private contact(s: Series, ts: number, flow?: AttemptFacts): void {
    // Retries and parallel lookups of one moment are one contact.
    if (s.count > 0 && ts - s.last < Math.min(1, this.cfg.minInterval / 2)) return;
    s.times[s.count % KEEP] = ts;
    s.count++;
    s.last = ts;
    if (flow && s.sample === undefined) s.sample = FlowSample.ofFacts(flow);
    this.judge(s, ts);
  }

  private judge(s: Series, ts: number): void {
    // The times within the window, at most KEEP.
    let n = Math.min(s.count, KEEP);
    while (n > 0 && s.times[(s.count - n) % KEEP] < ts - this.cfg.window) n--;
    if (n < this.cfg.minEvents) return;
    if (s.fired) {
      s.changed = true;
      return;
    }
    // A median interval of at least minInterval needs half the intervals that long, so a mean under half of
    // it rules the series out without sorting (a name looked up every few seconds, judged at each lookup).
    const mean = (ts - s.times[(s.count - n) % KEEP]) / (n - 1);
    if (mean < this.cfg.minInterval / 2) return;
    if (!couldBeRegular(s, n, mean, this.cfg.maxJitter)) return;
    const { median, jitter } = regularity(s, n, this.scratch, this.judged);
    if (!(median >= this.cfg.minInterval && median <= this.cfg.maxInterval && jitter <= this.cfg.maxJitter)) return;
    s.fired = true;
    this.fired.add(s);
    s.median = median;
    s.jitter = jitter;
    s.first = s.times[(s.count - n) % KEEP];
    this.raise(s, ts);
  }

  second(now: number): void {
    for (const s of this.fired) {
      if (!s.changed) continue;
      s.changed = false;
      this.raise(s, s.last);
    }
    // Every series is looked at only now and then: the quiet ones end after many minutes, not seconds.
    if (now - this.lastSweep < SWEEP_SECONDS) return;
    this.lastSweep = now;
    const quiet = Math.min(this.cfg.window, 2 * this.cfg.maxInterval);
    this.series.forEach((s, key) => {
      // Quiet for longer than two intervals at the slowest: the series is over (or never was one).
      if (now - s.last <= quiet) return;
      this.series.delete(key);
      this.fired.delete(s);
    });
  }

  private raise(s: Series, ts: number): void {
    const dst = s.server === undefined ? undefined : hostText(s.server);
    const target = s.what.startsWith('dns:') ? `looked up ${s.what.slice(4)}` : `contacted ${s.what}`;
    this.ctx.raise({
      key: `${s.clientText}>${s.what}`,
      ts,
      severity: 'medium',
      message: `${s.clientText} ${target} ${s.count} times, every ${formatDuration(s.median)} (jitter ${Math.round(s.jitter * 100)} %) for ${formatDuration(s.last - s.first)}`,
      src: s.clientText,
      dst,
      counters: { contacts: s.count, interval_ms: Math.round(s.median * 1000), jitter_percent: Math.round(s.jitter * 1000) / 10 },
      thresholds: { contacts: this.cfg.minEvents, jitter_percent: this.cfg.maxJitter * 100 },
      hosts: dst ? [s.clientText, dst] : [s.clientText],
      names: s.what.startsWith('dns:') ? [s.what.slice(4)] : undefined,
      first_seen: s.first,
      last_seen: s.last,
      extra: { window: this.cfg.window, destination: s.what },
      // One incident while the beacon goes on: a missed beat or two does not close it.
      quiet: 3 * s.median,
      flows: s.sample ? [s.sample] : undefined,
      capture: s.server === undefined ? { hosts: [s.client] } : { pairs: [[s.client, s.server]] },
    });
  }
}

export const beaconing: DetectorRegistration<Config> = {
  name: 'beaconing',
  title: 'Beaconing: one host contacting one destination (host:port or DNS name) at a regular interval',
  config,
  create: (cfg, ctx) => new BeaconingDetector(cfg, ctx),
};
