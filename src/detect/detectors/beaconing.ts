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
import { SLOT_FIELDS, type SlotTable } from '../slot-table.js';
import { Outcome, type AttemptFacts, type Detector, type DetectorContext, type DetectorRegistration } from '../types.js';
import { PassSchedule, formatDuration } from '../windows.js';
import { mix32 } from '../../analyze/mix32.js';
import { grownTo } from '../../analyze/flows/flow-table.js';

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
/**
 * Times a series keeps beside its row until it has more: most series (a name looked up a few times, a server
 * contacted now and then) never do, and a ring of KEEP each made the times 256 bytes a series (4 MB for the
 * 10,800 series an office burst leaves for half an hour). Past SHORT a series moves to a ring of KEEP from a
 * pool. Time number `back` of a short series is at `back` (fewer than SHORT < KEEP, so `back % KEEP`: one
 * reading serves both).
 */
const SHORT = 8;
/** Lookup clients whose keys are kept by their text. */
const CLIENT_CACHE = 4096;
/** Seconds between two sweeps for series gone quiet (they end after min(window, 2 × maxInterval)). */
const SWEEP_SECONDS = 30;

/**
 * A series is a slot of its table (SlotTable: the key's index entry, then one row of numbers, two cache
 * lines, the first holding what every contact reads) and a ring of its last KEEP times in one slab by slot.
 * Its client, server or name are kept beside, read only when a series is made or raises; its texts and flow
 * sample are made when it raises: most series never do. Its times: see SHORT.
 */
const LAST = SLOT_FIELDS;
/** Times recorded (the last KEEP kept). */
const COUNT = SLOT_FIELDS + 1;
/** FIRED | CHANGED. */
const FLAGS = SLOT_FIELDS + 2;
const FIRST = SLOT_FIELDS + 3;
const MEDIAN = SLOT_FIELDS + 4;
const JITTER = SLOT_FIELDS + 5;
/** A connection series' port and protocol, and its first flow's version and client port (its sample). */
const RESP_PORT = SLOT_FIELDS + 6;
const PROTO = SLOT_FIELDS + 7;
const VERSION = SLOT_FIELDS + 8;
const ORIG_PORT = SLOT_FIELDS + 9;
const SERIES_FIELDS = 10;
const FIRED = 1;
const CHANGED = 2;

/** Median and relative mean absolute deviation of a series' intervals (regularity's result, reused). */
interface Regularity {
  median: number;
  jitter: number;
}

/** A series' time `back` contacts from its first (its ring starts at `ring`; the last KEEP are kept). */
function timeAt(times: Float64Array, ring: number, back: number): number {
  return times[ring + (back % KEEP)];
}

/** Fills `out` from the intervals between the series' last `n` of `count` times (no allocation: it runs per contact). */
function regularity(times: Float64Array, ring: number, count: number, n: number, scratch: Float64Array, out: Regularity): Regularity {
  const m = n - 1;
  for (let i = 0; i < m; i++) scratch[i] = timeAt(times, ring, count - n + i + 1) - timeAt(times, ring, count - n + i);
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

function endpointWhat(server: HostKey, port: number, proto: number): string {
  return `${endpointText(hostText(server), port)}/${proto === 6 ? 'tcp' : proto === 17 ? 'udp' : 'icmp'}`;
}

/**
 * A numeric series key: 30 bits of one hash as the index's key and 32 bits of another as its check; both
 * must match. Two series whose 62 bits meet (about once in 4·10^18 pairs) are counted as one.
 */
interface SeriesKey {
  key: number;
  check: number;
}

function setKey(out: SeriesKey, h1: number, h2: number): SeriesKey {
  out.key = mix32(h1) & 0x3fffffff;
  out.check = mix32(h2 ^ 0x27d4eb2f);
  return out;
}

/** An address's 32-bit hash: IPv4 as its number (what the IPv4 keys always were), IPv6 its four words mixed. */
function addressHash(version: number, words: Uint32Array): number {
  if (version !== 6) return words[0] | 0;
  return mix32(words[0] ^ mix32(words[1] ^ mix32(words[2] ^ mix32(words[3] ^ 0x6a09e667)))) | 0;
}

/** A connection series' key, without a string (once per connection): hashes of client, server, port and protocol. */
function attemptKey(a: AttemptFacts, out: SeriesKey): SeriesKey {
  const orig = addressHash(a.version, a.orig);
  const resp = addressHash(a.version, a.resp);
  const tail = (a.respPort << 8) | a.proto;
  return setKey(out, orig ^ mix32(resp ^ 0x9e3779b9) ^ tail, resp ^ mix32(orig + 0x85ebca6b) ^ (tail * 31));
}

/**
 * A necessary condition for a jitter of at most `j`, in one pass without sorting (most series are judged at
 * every contact and are nowhere near regular). The median lies within j of the mean (|mean - median| is at
 * most the mean absolute deviation from the median), so in [mean / (1 + j), mean / (1 - j)]; each interval
 * is at least its distance to that range from the median, and their sum is at most j × m × median.
 */
function couldBeRegular(times: Float64Array, ring: number, count: number, n: number, mean: number, j: number): boolean {
  if (j >= 0.5) return true;
  const lo = mean / (1 + j);
  const hi = mean / (1 - j);
  const budget = j * (n - 1) * hi;
  // A hair of slack for rounding: the full judgement decides the borderline.
  const limit = budget * (1 + 1e-9);
  let outside = 0;
  for (let i = 0; i < n - 1; i++) {
    const x = timeAt(times, ring, count - n + i + 1) - timeAt(times, ring, count - n + i);
    if (x < lo) outside += lo - x;
    else if (x > hi) outside += x - hi;
    // The sum only grows: past the limit, the rest of the times (cold lines of the ring) need not be read.
    if (outside > limit) return false;
  }
  return outside <= limit;
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
  private readonly series: SlotTable;
  /** The first SHORT times of every series, SHORT a series by its slot. */
  private shortTimes = new Float64Array(0);
  /** Rings of KEEP times for the series past SHORT: `ringOf[slot]` is its ring + 1, 0 while it is short. */
  private rings = new Float64Array(0);
  private ringOf = new Int32Array(0);
  private ringsMade = 0;
  private readonly freeRings: number[] = [];
  /** A series' client, and its server (a connection series) or name (a lookup series, already lower case). */
  private readonly clients: HostKey[] = [];
  private readonly servers: Array<HostKey | undefined> = [];
  private readonly queries: Array<string | undefined> = [];
  private readonly samples: Array<FlowSample | undefined> = [];
  private readonly scratch = new Float64Array(KEEP);
  private readonly judged: Regularity = { median: 0, jitter: 0 };
  private readonly made: SeriesKey = { key: 0, check: 0 };
  /**
   * Lookup clients' keys by their text, so a new series does not parse an address the last one parsed
   * (clients are few; the cache is emptied past CLIENT_CACHE).
   */
  private readonly clientKeys = new Map<string, HostKey>();
  /** Series that raised their alert: their later contacts update it, each second. */
  private readonly fired = new Set<number>();
  private lastSweep = Number.NEGATIVE_INFINITY;
  /** When a sweep has something to do: a series quiet long enough to end. */
  private readonly sweep = new PassSchedule();

  constructor(
    private readonly cfg: Config,
    private readonly ctx: DetectorContext,
  ) {
    this.series = ctx.trackSlots('series', cfg.maxSeries, {
      fields: SERIES_FIELDS,
      protect: (slot) => (this.series.rows[slot * this.series.stride + FLAGS] & FIRED) !== 0,
      release: (slot) => this.release(slot),
      grow: (slots) => this.grow(slots),
    });
    this.grow(this.series.slots);
  }

  readonly attemptOutcomes = [Outcome.Ok];

  onAttempt(a: AttemptFacts): void {
    // A beacon talks to something that answers; unanswered and refused attempts are scans' and floods' (and a
    // spoofed flood would otherwise make a series per forged source).
    if (a.outcome !== Outcome.Ok) return;
    if (this.cfg.scope === 'outbound' && this.ctx.isLocal(a.version, a.resp)) return;
    const { key, check } = attemptKey(a, this.made);
    let slot = this.series.find(key, check);
    if (slot < 0) {
      slot = this.admit(key, check, a.origKey, a.start, a.respKey);
      if (slot < 0) return;
      const row = slot * this.series.stride;
      const rows = this.series.rows;
      rows[row + RESP_PORT] = a.respPort;
      rows[row + PROTO] = a.proto;
      rows[row + VERSION] = a.version;
      rows[row + ORIG_PORT] = a.origPort;
    }
    this.contact(slot, a.start);
  }

  onDns(d: DnsRecord): void {
    if (!d.query) return;
    // Keyed by a hash of the record's own texts: the client's address is parsed, and the name's text made,
    // only for a series not seen before.
    const { key, check } = lookupKey(d['id.orig_h'], d.query, this.made);
    let slot = this.series.find(key, check);
    if (slot < 0) {
      const client = this.clientKey(d['id.orig_h']);
      if (client === undefined) return;
      slot = this.admit(key, check, client, d.ts, undefined);
      if (slot < 0) return;
      this.queries[slot] = d.query.toLowerCase();
    }
    this.contact(slot, d.ts);
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

  /** A series for a key not followed yet (its slot, or -1), when the client is not allowed and the table admits it. */
  private admit(key: number, check: number, client: HostKey, ts: number, server: HostKey | undefined): number {
    if (this.ctx.allowed(client, undefined) || !this.series.admit(key, ts)) return -1;
    if (server !== undefined && this.ctx.allowed(client, server)) return -1;
    this.sweep.keep(ts);
    const slot = this.series.add(key, check);
    const row = slot * this.series.stride;
    this.series.rows[row + FIRST] = ts;
    this.series.rows[row + LAST] = ts;
    this.series.rows[row + VERSION] = 4;
    this.clients[slot] = client;
    this.servers[slot] = server;
    return slot;
  }

  private release(slot: number): void {
    if (this.ringOf[slot] > 0) this.freeRings.push(this.ringOf[slot] - 1);
    this.ringOf[slot] = 0;
    this.fired.delete(slot);
    this.servers[slot] = undefined;
    this.queries[slot] = undefined;
    this.samples[slot] = undefined;
  }

  private grow(slots: number): void {
    this.shortTimes = grownTo(this.shortTimes, slots * SHORT);
    this.ringOf = grownTo(this.ringOf, slots);
    for (let i = this.clients.length; i < slots; i++) {
      this.clients.push(0);
      this.servers.push(undefined);
      this.queries.push(undefined);
      this.samples.push(undefined);
    }
  }

  private contact(slot: number, ts: number): void {
    const rows = this.series.rows;
    const row = slot * this.series.stride;
    const count = rows[row + COUNT];
    // Retries and parallel lookups of one moment are one contact.
    if (count > 0 && ts - rows[row + LAST] < Math.min(1, this.cfg.minInterval / 2)) return;
    if (count === SHORT && this.ringOf[slot] === 0) this.lengthen(slot);
    const ring = this.ringOf[slot] - 1;
    if (ring < 0) this.shortTimes[slot * SHORT + count] = ts;
    else this.rings[ring * KEEP + (count % KEEP)] = ts;
    rows[row + COUNT] = count + 1;
    rows[row + LAST] = ts;
    // Contacts may come a little out of order (an attempt is known when its outcome is): the sweep keeps the earliest.
    this.sweep.keep(ts);
    this.judge(slot, row, ts);
  }

  /** A series' SHORT times move to a ring of KEEP (a free one, or a new one at the end of the pool). */
  private lengthen(slot: number): void {
    let ring = this.freeRings.pop();
    if (ring === undefined) {
      ring = this.ringsMade++;
      if (this.ringsMade * KEEP > this.rings.length) this.rings = grownTo(this.rings, Math.max(64, 2 * this.ringsMade) * KEEP);
    }
    for (let i = 0; i < SHORT; i++) this.rings[ring * KEEP + i] = this.shortTimes[slot * SHORT + i];
    this.ringOf[slot] = ring + 1;
  }

  private judge(slot: number, row: number, ts: number): void {
    // The times within the window, at most KEEP.
    const rows = this.series.rows;
    const long = this.ringOf[slot] - 1;
    const times = long < 0 ? this.shortTimes : this.rings;
    const ring = long < 0 ? slot * SHORT : long * KEEP;
    const count = rows[row + COUNT];
    // A young series is judged on nothing: its ring is not read.
    if (count < this.cfg.minEvents) return;
    let n = Math.min(count, KEEP);
    while (n > 0 && timeAt(times, ring, count - n) < ts - this.cfg.window) n--;
    if (n < this.cfg.minEvents) return;
    if ((rows[row + FLAGS] & FIRED) !== 0) {
      rows[row + FLAGS] = FIRED | CHANGED;
      return;
    }
    // A median interval of at least minInterval needs half the intervals that long, so a mean under half of
    // it rules the series out without sorting (a name looked up every few seconds, judged at each lookup).
    const mean = (ts - timeAt(times, ring, count - n)) / (n - 1);
    if (mean < this.cfg.minInterval / 2) return;
    if (!couldBeRegular(times, ring, count, n, mean, this.cfg.maxJitter)) return;
    const { median, jitter } = regularity(times, ring, count, n, this.scratch, this.judged);
    if (!(median >= this.cfg.minInterval && median <= this.cfg.maxInterval && jitter <= this.cfg.maxJitter)) return;
    rows[row + FLAGS] = FIRED;
    this.fired.add(slot);
    rows[row + MEDIAN] = median;
    rows[row + JITTER] = jitter;
    rows[row + FIRST] = timeAt(times, ring, count - n);
    this.raise(slot, ts);
  }

  second(now: number): void {
    const rows = this.series.rows;
    const stride = this.series.stride;
    for (const slot of this.fired) {
      if ((rows[slot * stride + FLAGS] & CHANGED) === 0) continue;
      rows[slot * stride + FLAGS] = FIRED;
      this.raise(slot, rows[slot * stride + LAST]);
    }
    // Every series is looked at only now and then: the quiet ones end after many minutes, not seconds.
    if (now - this.lastSweep < SWEEP_SECONDS) return;
    this.lastSweep = now;
    const quiet = Math.min(this.cfg.window, 2 * this.cfg.maxInterval);
    if (!this.sweep.runs(now - quiet)) return;
    this.series.forEach((slot) => {
      // Quiet for longer than two intervals at the slowest: the series is over (or never was one).
      const last = this.series.rows[slot * stride + LAST];
      if (now - last <= quiet) {
        this.sweep.keep(last);
        return;
      }
      this.series.delete(slot);
    });
  }

  private raise(slot: number, ts: number): void {
    const rows = this.series.rows;
    const row = slot * this.series.stride;
    const client = this.clients[slot];
    const server = this.servers[slot];
    const query = this.queries[slot];
    const count = rows[row + COUNT];
    const median = rows[row + MEDIAN];
    const first = rows[row + FIRST];
    const last = rows[row + LAST];
    const dst = server === undefined ? undefined : hostText(server);
    const what = query !== undefined ? `dns:${query}` : endpointWhat(server!, rows[row + RESP_PORT], rows[row + PROTO]);
    const clientText = hostText(client);
    const target = query !== undefined ? `looked up ${query}` : `contacted ${what}`;
    if (server !== undefined && this.samples[slot] === undefined) {
      this.samples[slot] = new FlowSample(rows[row + VERSION], rows[row + PROTO], hostKeyWords(client), hostKeyWords(server), rows[row + ORIG_PORT], rows[row + RESP_PORT]);
    }
    const sample = this.samples[slot];
    const jitter = rows[row + JITTER];
    this.ctx.raise({
      key: `${clientText}>${what}`,
      ts,
      severity: 'medium',
      message: `${clientText} ${target} ${count} times, every ${formatDuration(median)} (jitter ${Math.round(jitter * 100)} %) for ${formatDuration(last - first)}`,
      src: clientText,
      dst,
      counters: { contacts: count, interval_ms: Math.round(median * 1000), jitter_percent: Math.round(jitter * 1000) / 10 },
      thresholds: { contacts: this.cfg.minEvents, jitter_percent: this.cfg.maxJitter * 100 },
      hosts: dst ? [clientText, dst] : [clientText],
      names: query !== undefined ? [query] : undefined,
      first_seen: first,
      last_seen: last,
      extra: { window: this.cfg.window, destination: what },
      // One incident while the beacon goes on: a missed beat or two does not close it.
      quiet: 3 * median,
      flows: sample ? [sample] : undefined,
      capture: server === undefined ? { hosts: [client] } : { pairs: [[client, server]] },
    });
  }
}

export const beaconing: DetectorRegistration<Config> = {
  name: 'beaconing',
  title: 'Beaconing: one host contacting one destination (host:port or DNS name) at a regular interval',
  config,
  create: (cfg, ctx) => new BeaconingDetector(cfg, ctx),
};
