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
import { hostKeyOfText, hostKeyWords, hostText, type HostKey } from '../addresses.js';
import { count, detectorConfig, seconds } from '../detector-config.js';
import { endpointText } from '../host-pair.js';
import { FlowSample } from '../flow-sample.js';
import type { TrackedKeys } from '../tracked-keys.js';
import { Outcome, type AttemptFacts, type Detector, type DetectorContext, type DetectorRegistration } from '../types.js';
import { PassSchedule, formatDuration } from '../windows.js';
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
/** Lookup clients whose keys are kept by their text. */
const CLIENT_CACHE = 4096;
/** Seconds between two sweeps for series gone quiet (they end after min(window, 2 × maxInterval)). */
const SWEEP_SECONDS = 30;

/**
 * A series' destination and first flow are kept as numbers and the texts made when it raises: most series
 * never do, and a string or a typed array per series was most of what a new series cost.
 */
interface Series {
  /** The second hash of its key (SeriesKey): a lookup whose check differs is another series. */
  check: number;
  client: HostKey;
  /** A lookup series' name (already lower case, as records write it); undefined for a connection series. */
  query: string | undefined;
  /** A connection series' server, port and protocol, and its first flow's version and client port (its sample). */
  server: HostKey | undefined;
  respPort: number;
  proto: number;
  version: number;
  origPort: number;
  /** Its ring in TimeRings. */
  ring: number;
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

/**
 * Every series' last KEEP times in one array, a ring of KEEP slots per series (a series holds its ring's
 * number; a ring let go is taken by the next new series): no typed array per series, and no garbage.
 */
class TimeRings {
  times = new Float64Array(KEEP * 256);
  private readonly free: number[] = [];
  private made = 0;

  take(): number {
    const ring = this.free.pop();
    if (ring !== undefined) return ring;
    if ((this.made + 1) * KEEP > this.times.length) {
      const bigger = new Float64Array(this.times.length * 2);
      bigger.set(this.times);
      this.times = bigger;
    }
    return this.made++;
  }

  give(ring: number): void {
    this.free.push(ring);
  }
}

/** The i-th of a series' kept times, oldest first counting back from its latest (`back` = count - n + i). */
function timeAt(times: Float64Array, s: Series, back: number): number {
  return times[s.ring * KEEP + (back % KEEP)];
}

/** Fills `out` from the intervals between the series' last `n` times (no allocation: it runs per contact). */
function regularity(times: Float64Array, s: Series, n: number, scratch: Float64Array, out: Regularity): Regularity {
  const m = n - 1;
  for (let i = 0; i < m; i++) {
    const a = timeAt(times, s, s.count - n + i);
    const b = timeAt(times, s, s.count - n + i + 1);
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

/** "10.0.0.9:443/tcp": what a connection series contacts; "dns:update.example.com": what a lookup series looks up. */
function seriesWhat(s: Series): string {
  if (s.query !== undefined) return `dns:${s.query}`;
  return endpointWhat(s.server!, s.respPort, s.proto);
}

function endpointWhat(server: HostKey, port: number, proto: number): string {
  return `${endpointText(hostText(server), port)}/${proto === 6 ? 'tcp' : proto === 17 ? 'udp' : 'icmp'}`;
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
    out.key = `${hostText(a.origKey)}>${endpointWhat(a.respKey, a.respPort, a.proto)}`;
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
function couldBeRegular(times: Float64Array, s: Series, n: number, mean: number, j: number): boolean {
  if (j >= 0.5) return true;
  const lo = mean / (1 + j);
  const hi = mean / (1 - j);
  const budget = j * (n - 1) * hi;
  let outside = 0;
  for (let i = 0; i < n - 1; i++) {
    const x = timeAt(times, s, s.count - n + i + 1) - timeAt(times, s, s.count - n + i);
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
  private readonly rings = new TimeRings();
  /**
   * Lookup clients' keys by their text, so a new series does not parse an address the last one parsed
   * (clients are few; the cache is emptied past CLIENT_CACHE).
   */
  private readonly clientKeys = new Map<string, HostKey>();
  /** Series that raised their alert: their later contacts update it, each second. */
  private readonly fired = new Set<Series>();
  private lastSweep = Number.NEGATIVE_INFINITY;
  /** When a sweep has something to do: a series quiet long enough to end. */
  private readonly sweep = new PassSchedule();

  constructor(
    private readonly cfg: Config,
    private readonly ctx: DetectorContext,
  ) {
    this.series = ctx.track<Series>('series', cfg.maxSeries, { protect: (s) => s.fired, release: (s) => this.rings.give(s.ring) });
  }

  readonly attemptOutcomes = [Outcome.Ok];

  onAttempt(a: AttemptFacts): void {
    // A beacon talks to something that answers; unanswered and refused attempts are scans' and floods' (and a
    // spoofed flood would otherwise make a series, and its strings, per forged source).
    if (a.outcome !== Outcome.Ok) return;
    if (this.cfg.scope === 'outbound' && this.ctx.isLocal(a.version, a.resp)) return;
    const { key, check } = attemptKey(a, this.made);
    let s = this.series.get(key);
    if (s === undefined) {
      s = this.admit(key, check, a.origKey, a.start, a.respKey);
      if (s === undefined) return;
      s.respPort = a.respPort;
      s.proto = a.proto;
      s.version = a.version;
      s.origPort = a.origPort;
    }
    if (s.check === check) this.contact(s, a.start);
  }

  onDns(d: DnsRecord): void {
    if (!d.query) return;
    // Keyed by a hash of the record's own texts: the client's address is parsed, and the name's text made,
    // only for a series not seen before.
    const { key, check } = lookupKey(d['id.orig_h'], d.query, this.made);
    let s = this.series.get(key);
    if (s === undefined) {
      const client = this.clientKey(d['id.orig_h']);
      if (client === undefined) return;
      s = this.admit(key, check, client, d.ts, undefined);
      if (s !== undefined) s.query = d.query.toLowerCase();
    }
    if (s !== undefined && s.check === check) this.contact(s, d.ts);
  }

  private clientKey(text: string): HostKey | undefined {
    let key = this.clientKeys.get(text);
    if (key !== undefined) return key;
    key = hostKeyOfText(text);
    if (key === undefined) return undefined;
    if (this.clientKeys.size >= CLIENT_CACHE) this.clientKeys.clear();
    this.clientKeys.set(text, key);
    return key;
  }

  /** A series for a key not followed yet, when the client is not allowed and the table admits it. */
  private admit(key: HostKey, check: number, client: HostKey, ts: number, server: HostKey | undefined): Series | undefined {
    if (this.ctx.allowed(client, undefined) || !this.series.admit(key, ts)) return undefined;
    if (server !== undefined && this.ctx.allowed(client, server)) return undefined;
    this.sweep.keep(ts);
    const series: Series = { check, client, query: undefined, server, respPort: 0, proto: 0, version: 4, origPort: 0, ring: this.rings.take(), count: 0, first: ts, last: ts, median: 0, jitter: 0, fired: false, changed: false, sample: undefined };
    return this.series.add(key, series);
  }

  private contact(s: Series, ts: number): void {
    // Retries and parallel lookups of one moment are one contact.
    if (s.count > 0 && ts - s.last < Math.min(1, this.cfg.minInterval / 2)) return;
    this.rings.times[s.ring * KEEP + (s.count % KEEP)] = ts;
    s.count++;
    s.last = ts;
    // Contacts may come a little out of order (an attempt is known when its outcome is): the sweep keeps the earliest.
    this.sweep.keep(ts);
    this.judge(s, ts);
  }

  private judge(s: Series, ts: number): void {
    // The times within the window, at most KEEP.
    const times = this.rings.times;
    let n = Math.min(s.count, KEEP);
    while (n > 0 && timeAt(times, s, s.count - n) < ts - this.cfg.window) n--;
    if (n < this.cfg.minEvents) return;
    if (s.fired) {
      s.changed = true;
      return;
    }
    // A median interval of at least minInterval needs half the intervals that long, so a mean under half of
    // it rules the series out without sorting (a name looked up every few seconds, judged at each lookup).
    const mean = (ts - timeAt(times, s, s.count - n)) / (n - 1);
    if (mean < this.cfg.minInterval / 2) return;
    if (!couldBeRegular(times, s, n, mean, this.cfg.maxJitter)) return;
    const { median, jitter } = regularity(times, s, n, this.scratch, this.judged);
    if (!(median >= this.cfg.minInterval && median <= this.cfg.maxInterval && jitter <= this.cfg.maxJitter)) return;
    s.fired = true;
    this.fired.add(s);
    s.median = median;
    s.jitter = jitter;
    s.first = timeAt(times, s, s.count - n);
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
    if (!this.sweep.runs(now - quiet)) return;
    this.series.forEach((s, key) => {
      // Quiet for longer than two intervals at the slowest: the series is over (or never was one).
      if (now - s.last <= quiet) {
        this.sweep.keep(s.last);
        return;
      }
      this.series.delete(key);
      this.fired.delete(s);
    });
  }

  private raise(s: Series, ts: number): void {
    const dst = s.server === undefined ? undefined : hostText(s.server);
    const what = seriesWhat(s);
    const clientText = hostText(s.client);
    const target = s.query !== undefined ? `looked up ${s.query}` : `contacted ${what}`;
    if (s.server !== undefined && s.sample === undefined) s.sample = new FlowSample(s.version, s.proto, hostKeyWords(s.client), hostKeyWords(s.server), s.origPort, s.respPort);
    this.ctx.raise({
      key: `${clientText}>${what}`,
      ts,
      severity: 'medium',
      message: `${clientText} ${target} ${s.count} times, every ${formatDuration(s.median)} (jitter ${Math.round(s.jitter * 100)} %) for ${formatDuration(s.last - s.first)}`,
      src: clientText,
      dst,
      counters: { contacts: s.count, interval_ms: Math.round(s.median * 1000), jitter_percent: Math.round(s.jitter * 1000) / 10 },
      thresholds: { contacts: this.cfg.minEvents, jitter_percent: this.cfg.maxJitter * 100 },
      hosts: dst ? [clientText, dst] : [clientText],
      names: s.query !== undefined ? [s.query] : undefined,
      first_seen: s.first,
      last_seen: s.last,
      extra: { window: this.cfg.window, destination: what },
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
