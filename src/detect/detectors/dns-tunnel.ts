/**
 * DNS tunnelling / exfiltration: one client asking many distinct names under one registered domain whose
 * leftmost part looks encoded (a very long label, or long and near-random), or a volume of TXT/NULL/other
 * unusual-type queries for distinct long names there. Ordinary traffic asks many names of a domain too
 * (CDNs, telemetry) but with short, word-like labels. Fed by dns records; one incident per client + domain.
 */
import { z } from 'zod';
import type { DnsRecord } from '../../analyze/records.js';
import { count, detectorConfig, domainListSchema, seconds } from '../detector-config.js';
import { DomainSplitter, entropyBits, longestLabel, underAny } from '../dns-names.js';
import { hostKeyOfText, type HostKey } from '../addresses.js';
import type { Detector, DetectorContext, DetectorRegistration } from '../types.js';
import { WindowedSet, formatDuration } from '../windows.js';
import type { TrackedKeys } from '../tracked-keys.js';

/** Query types a resolver rarely sees from a desktop but tunnels use: TXT, NULL, ANY, and private-use. */
const DEFAULT_UNUSUAL = [16, 10, 255, 65399];
/** Seconds between sweeps that forget old names. */
const SWEEP_EVERY = 5;

const config = detectorConfig({
  window: seconds(60),
  /** Distinct encoded-looking names under one domain within the window. */
  minEncodedNames: count(30),
  /** Distinct names of unusual query types (with a subdomain of at least minSubdomainLength) within the window. */
  minUnusualTypeNames: count(100),
  /** A label this long is encoded data (hostnames rarely pass 30; the DNS limit is 63). */
  longLabel: count(40),
  /** A subdomain at least this long with at least `highEntropy` bits per character looks random. */
  minSubdomainLength: count(24),
  highEntropy: z.number().positive().max(8).default(4.0),
  unusualTypes: z.array(z.number().int().min(0).max(65535)).default(DEFAULT_UNUSUAL),
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
  encoded: WindowedSet<string>;
  unusual: WindowedSet<string>;
  qtypes: Map<string, number>;
  queries: number;
  subdomainBytes: number;
  samples: string[];
  first: number;
  last: number;
  fired: boolean;
  changed: boolean;
}

/** Resolvers and query types named per pair at most. */
const MAX_RESOLVERS = 20;
const MAX_QTYPES = 32;

class DnsTunnelDetector implements Detector {
  readonly name = 'dns_tunnel';
  private readonly tracks: TrackedKeys<Track>;
  private readonly changed = new Set<Track>();
  private swept = Number.NEGATIVE_INFINITY;
  private readonly splitter: DomainSplitter;
  private readonly unusual: Set<number>;

  constructor(
    private readonly cfg: Config,
    private readonly ctx: DetectorContext,
  ) {
    this.splitter = new DomainSplitter(cfg.extraSuffixes);
    this.unusual = new Set(cfg.unusualTypes);
    this.tracks = ctx.track<Track>('client_domains', cfg.maxTracked, {
      protect: (t) => t.fired,
      release: (t) => {
        t.encoded.clear();
        t.unusual.clear();
      },
      items: cfg.maxNameEntries,
    });
  }

  onDns(r: DnsRecord): void {
    const query = r.query;
    if (!query || query.length < this.cfg.minSubdomainLength) return;
    const { domain, sub } = this.splitter.split(query);
    if (sub.length === 0) return;
    const encoded = longestLabel(sub) >= this.cfg.longLabel || (sub.length >= this.cfg.minSubdomainLength && entropyBits(sub) >= this.cfg.highEntropy);
    const unusual = r.qtype !== undefined && this.unusual.has(r.qtype) && sub.length >= this.cfg.minSubdomainLength;
    if (!encoded && !unusual) return;
    if (this.cfg.allowDomains.length && underAny(domain, this.cfg.allowDomains)) return;
    const client = r['id.orig_h'];
    const key = `${client}|${domain}`;
    let t = this.tracks.get(key);
    if (t === undefined) {
      if (this.ctx.allowed(hostKeyOfText(client), undefined) || !this.tracks.admit(key, r.ts)) return;
      const items = this.tracks.items;
      t = this.tracks.add(key, { client, clientKey: hostKeyOfText(client), domain, resolvers: new Set(), encoded: new WindowedSet(items), unusual: new WindowedSet(items), qtypes: new Map(), queries: 0, subdomainBytes: 0, samples: [], first: r.ts, last: r.ts, fired: false, changed: false });
    }
    const name = query.toLowerCase();
    const now = Math.max(r.ts, t.last);
    if (!t.encoded.has(name) && !t.unusual.has(name)) t.subdomainBytes += sub.length;
    if (encoded) t.encoded.add(name, now);
    if (unusual) t.unusual.add(name, now);
    t.queries++;
    t.last = now;
    if (t.resolvers.size < MAX_RESOLVERS) t.resolvers.add(r['id.resp_h']);
    const qt = r.qtype_name ?? String(r.qtype ?? '?');
    if (t.qtypes.size < MAX_QTYPES || t.qtypes.has(qt)) t.qtypes.set(qt, (t.qtypes.get(qt) ?? 0) + 1);
    if (t.samples.length < 3) t.samples.push(query);
    if (t.fired) {
      t.changed = true;
      this.changed.add(t);
      return;
    }
    if (this.over(t)) {
      t.encoded.prune(now - this.cfg.window);
      t.unusual.prune(now - this.cfg.window);
      if (this.over(t)) {
        t.fired = true;
        this.raise(t, now);
      }
    }
  }

  private over(t: Track): boolean {
    return t.encoded.size >= this.cfg.minEncodedNames || t.unusual.size >= this.cfg.minUnusualTypeNames;
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
      t.encoded.prune(since);
      t.unusual.prune(since);
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
      counters: { encoded_names: t.encoded.size, unusual_type_names: t.unusual.size, queries: t.queries, subdomain_bytes: t.subdomainBytes },
      thresholds: { encoded_names: this.cfg.minEncodedNames, unusual_type_names: this.cfg.minUnusualTypeNames },
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
};
