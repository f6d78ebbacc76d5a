/**
 * DNS tunnelling / exfiltration: one client asking distinct names under one base domain that carry data.
 * Each distinct name scores points (dns-names.ts `looksEncoded` for the shape of its subdomain: very long,
 * hex, base32/base64, random; the query type: NULL and private-use types only tunnels ask, TXT/MX/CNAME/
 * SRV/ANY that carry answers back), and the points of a (client, base) pair within the window fire. The
 * base is the registered domain, or, when that itself looks encoded (`<hex>.dnscat`, `dnscat.<hex>`: a
 * tunnel to a resolver it runs, under one label), its plain labels. Ordinary traffic asks many names of a
 * domain too (CDNs, telemetry) but with short, word-like labels and A/AAAA types. Fed by dns records (made
 * per query already): nothing is kept for a name that scores nothing. One incident per client + base.
 */
import { z } from 'zod';
import type { DnsRecord } from '../../analyze/records.js';
import { count, detectorConfig, domainListSchema, seconds } from '../detector-config.js';
import { DomainSplitter, looksEncoded, underAny } from '../dns-names.js';
import { hostKeyOfText, type HostKey } from '../addresses.js';
import type { Detector, DetectorContext, DetectorRegistration } from '../types.js';
import { SlidingCounter, WindowedSet, formatDuration } from '../windows.js';
import type { TrackedKeys } from '../tracked-keys.js';

/** Query types only tunnels ask for: NULL (iodine's default) and private use (65280-65534, iodine's 65399). */
const DEFAULT_TUNNEL_TYPES = [10];
const PRIVATE_USE_LOW = 65280;
const PRIVATE_USE_HIGH = 65534;
/** Types whose answers carry data back and that tunnels rotate through: TXT, MX, CNAME, SRV, ANY. */
const DEFAULT_DATA_TYPES = [16, 15, 5, 33, 255];
/** Seconds between sweeps that forget old names. */
const SWEEP_EVERY = 5;

const config = detectorConfig({
  window: seconds(60),
  /**
   * Points of distinct names from one client under one base within the window. A name scores `encodedPoints`
   * when its subdomain looks encoded, `tunnelTypePoints` for a tunnel-only type, and `dataTypePoints` for a
   * data type when it looks encoded or is at least `minSubdomainLength` long.
   */
  minScore: count(24),
  encodedPoints: count(1),
  tunnelTypePoints: count(6),
  dataTypePoints: count(2),
  /** A label this long is encoded data (hostnames rarely pass 30; the DNS limit is 63). */
  longLabel: count(40),
  /** Hex data (labels of 6+ characters joined) this long, with at least 3 digits and 3 letters. */
  minHexLength: count(16),
  /** A subdomain at least this long with at least `highEntropy` bits per character looks random. */
  minSubdomainLength: count(24),
  highEntropy: z.number().positive().max(8).default(4.0),
  /** Tunnel-only query types (private-use 65280-65534 always count as such). */
  tunnelTypes: z.array(z.number().int().min(0).max(65535)).default(DEFAULT_TUNNEL_TYPES),
  dataTypes: z.array(z.number().int().min(0).max(65535)).default(DEFAULT_DATA_TYPES),
  /** Domains (and everything under them) that may do this: anti-virus lookups, DKIM, vendor telemetry. */
  allowDomains: domainListSchema,
  /** Extra multi-label public suffixes for the registered-domain split (e.g. "corp.example"). */
  extraSuffixes: z.array(z.string()).default([]),
  /** (client, domain) pairs followed at once (see tracked-keys.ts for who is kept when more come). */
  maxTracked: count(20_000),
  /** Names recorded across all pairs (a tunnel sends millions: one incident, not a million entries). */
  maxNameEntries: count(1_000_000),
});
type Config = z.infer<typeof config>;

interface Track {
  client: string;
  clientKey: HostKey | undefined;
  domain: string;
  resolvers: Set<string>;
  /** Distinct scoring names in the window, and their points. */
  names: WindowedSet<string>;
  score: SlidingCounter;
  encoded: number;
  tunnelTyped: number;
  qtypes: Map<string, number>;
  queries: number;
  subdomainBytes: number;
  samples: string[];
  first: number;
  last: number;
  fired: boolean;
  changed: boolean;
}

/** A name's base domain, its data part, and whether that part looks encoded: what the name scores on its own. */
interface NameShape {
  domain: string;
  sub: string;
  encoded: boolean;
}

/** The shape of a name that is all data or only a domain: nothing to count. */
const NO_BASE: NameShape = { domain: '', sub: '', encoded: false };
/**
 * Names whose shape is kept: most names are asked again and again (splitting and scoring one costs a dozen
 * strings and arrays, a look-up none); a tunnel's names are each new, and empty the cache when it fills.
 */
const SHAPE_CACHE = 16_384;

/** Resolvers and query types named per pair at most. */
const MAX_RESOLVERS = 20;
const MAX_QTYPES = 32;

class DnsTunnelDetector implements Detector {
  readonly name = 'dns_tunnel';
  private readonly tracks: TrackedKeys<Track>;
  private readonly changed = new Set<Track>();
  private swept = Number.NEGATIVE_INFINITY;
  private readonly splitter: DomainSplitter;
  private readonly tunnelTypes: Set<number>;
  private readonly dataTypes: Set<number>;
  private readonly shapes = new Map<string, NameShape>();
  /** The thresholds the kept shapes were judged with (a reload that changes them empties the cache). */
  private readonly shapesJudgedWith = { longLabel: 0, minHexLength: 0, minSubdomainLength: 0, highEntropy: 0 };

  constructor(
    private readonly cfg: Config,
    private readonly ctx: DetectorContext,
  ) {
    this.splitter = new DomainSplitter(cfg.extraSuffixes);
    this.tunnelTypes = new Set(cfg.tunnelTypes);
    this.dataTypes = new Set(cfg.dataTypes);
    this.tracks = ctx.track<Track>('client_domains', cfg.maxTracked, {
      protect: (t) => t.fired,
      release: (t) => t.names.clear(),
      items: cfg.maxNameEntries,
    });
  }

  onDns(r: DnsRecord): void {
    const query = r.query;
    if (!query) return;
    const qtype = r.qtype ?? 1;
    const tunnelType = this.tunnelTypes.has(qtype) || (qtype >= PRIVATE_USE_LOW && qtype <= PRIVATE_USE_HIGH);
    const dataType = this.dataTypes.has(qtype);
    // Most names are short and of common types: out before any splitting.
    if (!tunnelType && query.length < this.cfg.minHexLength + 3) return;
    const shape = this.shapeOf(query);
    if (shape === NO_BASE) return;
    const { domain, sub, encoded } = shape;
    const points = (encoded ? this.cfg.encodedPoints : 0) + (tunnelType ? this.cfg.tunnelTypePoints : 0) + (dataType && (encoded || sub.length >= this.cfg.minSubdomainLength) ? this.cfg.dataTypePoints : 0);
    if (points === 0) return;
    if (this.cfg.allowDomains.length && underAny(domain, this.cfg.allowDomains)) return;
    const client = r['id.orig_h'];
    const key = `${client}|${domain}`;
    let t = this.tracks.get(key);
    if (t === undefined) {
      if (this.ctx.allowed(hostKeyOfText(client), undefined) || !this.tracks.admit(key, r.ts)) return;
      t = this.tracks.add(key, { client, clientKey: hostKeyOfText(client), domain, resolvers: new Set(), names: new WindowedSet(this.tracks.items), score: new SlidingCounter(this.cfg.window), encoded: 0, tunnelTyped: 0, qtypes: new Map(), queries: 0, subdomainBytes: 0, samples: [], first: r.ts, last: r.ts, fired: false, changed: false });
    }
    const name = query.toLowerCase();
    const now = Math.max(r.ts, t.last);
    t.queries++;
    t.last = now;
    if (t.resolvers.size < MAX_RESOLVERS) t.resolvers.add(r['id.resp_h']);
    const qt = r.qtype_name ?? String(qtype);
    if (t.qtypes.size < MAX_QTYPES || t.qtypes.has(qt)) t.qtypes.set(qt, (t.qtypes.get(qt) ?? 0) + 1);
    if (t.samples.length < 3) t.samples.push(query);
    // A name asked again (a retry, a cached answer's refresh) scores once per window.
    const fresh = !t.names.has(name);
    t.names.add(name, now);
    if (fresh) {
      t.subdomainBytes += sub.length;
      t.score.add(now, points);
      if (encoded) t.encoded++;
      if (tunnelType) t.tunnelTyped++;
    }
    if (t.fired) {
      t.changed = true;
      this.changed.add(t);
      return;
    }
    if (fresh && t.score.value(now) >= this.cfg.minScore) {
      t.fired = true;
      this.raise(t, now);
    }
  }

  /** The name's shape, judged once and kept while the thresholds stay. */
  private shapeOf(query: string): NameShape {
    const judged = this.shapesJudgedWith;
    const cfg = this.cfg;
    if (judged.longLabel !== cfg.longLabel || judged.minHexLength !== cfg.minHexLength || judged.minSubdomainLength !== cfg.minSubdomainLength || judged.highEntropy !== cfg.highEntropy) {
      this.shapes.clear();
      judged.longLabel = cfg.longLabel;
      judged.minHexLength = cfg.minHexLength;
      judged.minSubdomainLength = cfg.minSubdomainLength;
      judged.highEntropy = cfg.highEntropy;
    }
    let shape = this.shapes.get(query);
    if (shape !== undefined) return shape;
    const based = this.baseOf(query);
    shape = based === undefined ? NO_BASE : { domain: based.domain, sub: based.sub, encoded: looksEncoded(based.sub, cfg) };
    if (this.shapes.size >= SHAPE_CACHE) this.shapes.clear();
    this.shapes.set(query, shape);
    return shape;
  }

  /**
   * The base domain a name is counted under, and its data part: the registered domain and what is left of it,
   * unless the registered domain's own labels look encoded (a tunnel under a single label: `<hex>.dnscat`,
   * `dnscat.<hex>`), then the name's plain labels and its encoded ones. Undefined for a name that is all data
   * or only a domain.
   */
  private baseOf(query: string): { domain: string; sub: string } | undefined {
    const split = this.splitter.split(query);
    const labels = split.domain.split('.');
    if (!labels.some((l) => looksEncoded(l, this.cfg))) return split.sub.length === 0 ? undefined : split;
    const plain: string[] = [];
    const data: string[] = [];
    for (const label of query.toLowerCase().replace(/\.$/, '').split('.')) (looksEncoded(label, this.cfg) ? data : plain).push(label);
    if (plain.length === 0) return undefined;
    return { domain: plain.join('.'), sub: data.join('.') };
  }

  second(now: number): void {
    for (const t of this.changed) {
      t.changed = false;
      this.raise(t, t.last);
    }
    this.changed.clear();
    // Forgetting old names is housekeeping: every few seconds is enough (windows are checked at each add).
    if (now - this.swept < SWEEP_EVERY) return;
    this.swept = now;
    const since = now - this.cfg.window;
    this.tracks.forEach((t, key) => {
      if (t.last < since) {
        this.tracks.delete(key);
        return;
      }
      t.names.prune(since);
    });
  }

  private raise(t: Track, ts: number): void {
    const types = [...t.qtypes].sort((a, b) => b[1] - a[1]).map(([name, n]) => `${n} ${name}`).join(', ');
    const resolvers = [...t.resolvers].slice(0, 5);
    this.ctx.raise({
      key: `${t.client}|${t.domain}`,
      ts,
      severity: 'high',
      message: `${t.client} sent ${t.queries} queries with encoded-looking names under ${t.domain} (${types}; ${t.subdomainBytes} bytes of subdomains) in ${formatDuration(t.last - t.first)}`,
      src: t.client,
      dst: resolvers[0],
      counters: { score: Math.round(t.score.value(ts)), encoded_names: t.encoded, tunnel_type_names: t.tunnelTyped, distinct_names: t.names.size, queries: t.queries, subdomain_bytes: t.subdomainBytes },
      thresholds: { score: this.cfg.minScore },
      hosts: [t.client, ...resolvers],
      names: [t.domain, ...t.samples],
      first_seen: t.first,
      last_seen: t.last,
      extra: { window: this.cfg.window, domain: t.domain, qtypes: Object.fromEntries(t.qtypes) },
      capture: t.clientKey === undefined ? undefined : { pairs: resolvers.map((r) => [t.clientKey!, hostKeyOfText(r) ?? r] as [HostKey, HostKey]) },
    });
  }
}

export const dnsTunnel: DetectorRegistration<Config> = {
  name: 'dns_tunnel',
  title: 'DNS tunnelling / exfiltration: many encoded-looking or TXT/NULL names under one domain',
  config,
  create: (cfg, ctx) => new DnsTunnelDetector(cfg, ctx),
  restartOnly: ['extraSuffixes', 'tunnelTypes', 'dataTypes'],
};
