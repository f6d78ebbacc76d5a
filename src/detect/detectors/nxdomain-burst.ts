/**
 * NXDOMAIN burst (DGA-like lookups): one client getting "no such name" for many distinct names spread over
 * many registered domains in a short time — malware trying generated domains until one resolves. A typo or
 * a wrong search domain gives NXDOMAIN for a few names, mostly under one domain, so both counts must pass.
 * One incident per client.
 */
import { z } from 'zod';
import type { DnsRecord } from '../../analyze/records.js';
import { hostKeyOfText, type HostKey } from '../addresses.js';
import { count, detectorConfig, domainListSchema, seconds } from '../detector-config.js';
import { DomainSplitter, underAny } from '../dns-names.js';
import type { Detector, DetectorContext, DetectorRegistration } from '../types.js';
import { PassSchedule, WindowedSet, formatDuration, oldestOr } from '../windows.js';
import type { TrackedKeys } from '../tracked-keys.js';

const NXDOMAIN = 3;
/** Seconds between sweeps that forget old names. */
const SWEEP_EVERY = 5;

const config = detectorConfig({
  window: seconds(60),
  /** Distinct names answered NXDOMAIN to one client within the window. */
  minNames: count(50),
  /** ...spread over at least this many registered domains. */
  minDomains: count(20),
  allowDomains: domainListSchema,
  extraSuffixes: z.array(z.string()).default([]),
  /** Clients followed at once (see tracked-keys.ts for who is kept when more ask). */
  maxClients: count(20_000),
  /** Names and domains recorded across all clients (a client asking for millions of random names is one incident, not a million entries). */
  maxNameEntries: count(1_000_000),
});
type Config = z.infer<typeof config>;

interface Client {
  text: string;
  key: HostKey | undefined;
  names: WindowedSet<string>;
  domains: WindowedSet<string>;
  resolvers: Set<string>;
  total: number;
  samples: string[];
  first: number;
  last: number;
  /**
   * No name or domain of it was last seen before this (its oldest when last pruned, or its first lookup; a
   * name seen again only moves later): a sweep that would prune nothing older skips its sets.
   */
  oldest: number;
  fired: boolean;
  changed: boolean;
}

/** Resolvers named per client at most. */
const MAX_RESOLVERS = 20;

class NxdomainBurstDetector implements Detector {
  readonly name = 'nxdomain_burst';
  private readonly clients: TrackedKeys<Client>;
  private readonly changed = new Set<Client>();
  private swept = Number.NEGATIVE_INFINITY;
  /** When a sweep has something to do: a client to forget, a name or domain to prune. */
  private readonly schedule = new PassSchedule();
  private readonly splitter: DomainSplitter;

  constructor(
    private readonly cfg: Config,
    private readonly ctx: DetectorContext,
  ) {
    this.splitter = new DomainSplitter(cfg.extraSuffixes);
    this.clients = ctx.track<Client>('clients', cfg.maxClients, {
      protect: (c) => c.fired,
      release: (c) => {
        c.names.clear();
        c.domains.clear();
      },
      items: cfg.maxNameEntries,
    });
  }

  onDns(r: DnsRecord): void {
    if (r.rcode !== NXDOMAIN || !r.query) return;
    const name = r.query.toLowerCase();
    const { domain } = this.splitter.split(name);
    if (this.cfg.allowDomains.length && underAny(domain, this.cfg.allowDomains)) return;
    const text = r['id.orig_h'];
    let c = this.clients.get(text);
    if (c === undefined) {
      const key = hostKeyOfText(text);
      if (this.ctx.allowed(key, undefined) || !this.clients.admit(text, r.ts)) return;
      const items = this.clients.items;
      c = this.clients.add(text, { text, key, names: new WindowedSet(items), domains: new WindowedSet(items), resolvers: new Set(), total: 0, samples: [], first: r.ts, last: r.ts, oldest: r.ts, fired: false, changed: false });
      this.schedule.keep(r.ts);
    }
    const now = Math.max(r.ts, c.last);
    c.names.add(name, now);
    c.domains.add(domain, now);
    if (c.resolvers.size < MAX_RESOLVERS) c.resolvers.add(r['id.resp_h']);
    c.total++;
    c.last = now;
    if (c.samples.length < 5) c.samples.push(name);
    if (c.fired) {
      c.changed = true;
      this.changed.add(c);
      return;
    }
    if (c.names.size >= this.cfg.minNames && c.domains.size >= this.cfg.minDomains) {
      c.names.prune(now - this.cfg.window);
      c.domains.prune(now - this.cfg.window);
      if (c.names.size >= this.cfg.minNames && c.domains.size >= this.cfg.minDomains) {
        c.fired = true;
        this.raise(c, now);
      }
    }
  }

  second(now: number): void {
    for (const c of this.changed) {
      c.changed = false;
      this.raise(c, c.last);
    }
    this.changed.clear();
    // Forgetting old names is housekeeping: every few seconds is enough (windows are checked at each add).
    if (now - this.swept < SWEEP_EVERY) return;
    this.swept = now;
    const since = now - this.cfg.window;
    if (!this.schedule.runs(since)) return;
    this.clients.forEach((c, key) => {
      if (c.last < since) {
        this.clients.delete(key);
        return;
      }
      // Most clients, at most sweeps: nothing of theirs old enough to go, and their two sets are not walked.
      if (c.oldest < since) {
        c.names.prune(since);
        c.domains.prune(since);
        // Its oldest name or domain is the first thing a later sweep would prune.
        c.oldest = Math.min(c.last, oldestOr(c.names, c.last), oldestOr(c.domains, c.last));
      }
      this.schedule.keep(c.oldest);
    });
  }

  private raise(c: Client, ts: number): void {
    const resolvers = [...c.resolvers].slice(0, 5);
    this.ctx.raise({
      key: c.text,
      ts,
      severity: 'medium',
      message: `${c.text} got NXDOMAIN for ${c.total} names under ${c.domains.size} domains in ${formatDuration(c.last - c.first)} (DGA-like lookups)`,
      src: c.text,
      dst: resolvers[0],
      counters: { distinct_names: c.names.size, distinct_domains: c.domains.size, nxdomain_answers: c.total },
      thresholds: { distinct_names: this.cfg.minNames, distinct_domains: this.cfg.minDomains },
      hosts: [c.text, ...resolvers],
      names: c.samples,
      first_seen: c.first,
      last_seen: c.last,
      extra: { window: this.cfg.window },
      capture: c.key === undefined ? undefined : { pairs: resolvers.map((r) => [c.key!, hostKeyOfText(r) ?? r] as [HostKey, HostKey]) },
    });
  }
}

export const nxdomainBurst: DetectorRegistration<Config> = {
  name: 'nxdomain_burst',
  title: 'NXDOMAIN burst: many non-existent names over many domains from one client (DGA-like)',
  config,
  create: (cfg, ctx) => new NxdomainBurstDetector(cfg, ctx),
  restartOnly: ['extraSuffixes'],
};
