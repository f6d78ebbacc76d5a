/**
 * Blocklisted addresses and domains: a flow to or from a listed address or network, a DNS lookup of a
 * listed domain (or an answer pointing at a listed address), a TLS server name or HTTP host under a listed
 * domain. The list comes from the user's file (one indicator a line, see blocklist-parse.ts), reloaded
 * when it changes, plus `entries` in the config. One incident per indicator.
 */
import { z } from 'zod';
import type { DnsRecord, LoopyRecord } from '../../analyze/records.js';
import type { Packet } from '../../decode/packet.js';
import { hostKeyOf, hostKeyOfText, hostText, type HostKey } from '../addresses.js';
import { blockedDomainOf, parseBlocklist, type Blocklist } from '../blocklist-parse.js';
import { detectorConfig } from '../detector-config.js';
import { FlowSample } from '../flow-sample.js';
import { textFileSource } from '../text-file-source.js';
import type { Detector, DetectorContext, DetectorDeps, DetectorRegistration, FlowRef, TextSource } from '../types.js';

const config = detectorConfig({
  /** The user's list file (reloaded on change). */
  file: z.string().min(1).optional(),
  /** Indicators written in the config itself. */
  entries: z.array(z.string()).default([]),
});
type Config = z.infer<typeof config>;

const PROTO_NAMES: Record<number, string> = { 6: 'tcp', 17: 'udp', 1: 'icmp', 58: 'icmp' };
const MAX_SAMPLES = 10;

export class BlocklistError extends Error {
  readonly code = 'LOOPY_BLOCKLIST';
}

interface Hit {
  indicator: string;
  kind: 'address' | 'domain';
  how: Set<string>;
  peers: Set<string>;
  peerKeys: Set<HostKey>;
  indicatorKey: HostKey | undefined;
  ports: Set<number>;
  count: number;
  first: number;
  last: number;
  changed: boolean;
  samples: FlowSample[];
}

class BlocklistDetector implements Detector {
  readonly name = 'blocklist';
  private list: Blocklist;
  private readonly hits = new Map<string, Hit>();
  private readonly stop: (() => void) | undefined;
  /** Loads so far (1 + reloads) and the bad lines of the last one, for status displays. */
  loads = 0;
  invalidLines: Blocklist['invalid'] = [];

  constructor(
    private readonly cfg: Config,
    private readonly ctx: DetectorContext,
    private readonly source: TextSource | undefined,
  ) {
    this.list = this.load(true);
    this.stop = source?.watch(() => {
      try {
        this.list = this.load(false);
      } catch {
        // A file caught mid-write or removed: keep the list we have; the next change reloads it.
      }
    });
  }

  private load(first: boolean): Blocklist {
    let text = '';
    if (this.source) {
      try {
        text = this.source.read();
      } catch (err) {
        if (first) throw new BlocklistError(`blocklist ${this.cfg.file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): fix the path in detectors.blocklist.file`);
        throw err;
      }
    }
    const list = parseBlocklist(`${text}\n${this.cfg.entries.join('\n')}`);
    this.loads++;
    this.invalidLines = list.invalid;
    return list;
  }

  get size(): { addresses: number; domains: number } {
    return { addresses: this.list.addresses.size, domains: this.list.domains.size };
  }

  onFlowStart(ref: FlowRef, pkt: Packet): void {
    const set = this.list.addresses;
    if (set.size === 0) return;
    const f = ref.facts();
    const origListed = set.contains(f.version, f.orig);
    const respListed = set.contains(f.version, f.resp);
    if (!origListed && !respListed) return;
    const listed = respListed ? f.resp : f.orig;
    const peer = respListed ? f.orig : f.resp;
    const indicatorKey = hostKeyOf(f.version, listed);
    const peerKey = hostKeyOf(f.version, peer);
    const proto = PROTO_NAMES[f.proto] ?? String(f.proto);
    const how = respListed ? `${hostText(peerKey)} connected to it (${proto}/${f.respPort})` : `it connected to ${hostText(peerKey)} (${proto}/${f.respPort})`;
    this.hit(hostText(indicatorKey), 'address', indicatorKey, peerKey, how, f.respPort, pkt.ts, FlowSample.ofFacts(f));
  }

  onDns(r: DnsRecord): void {
    if (r.query) {
      const d = blockedDomainOf(r.query, this.list.domains);
      if (d) this.hit(d, 'domain', undefined, hostKeyOfText(r['id.orig_h']) ?? r['id.orig_h'], `${r['id.orig_h']} looked up ${r.query}`, undefined, r.ts);
    }
    if (r.answers && this.list.addresses.size > 0) {
      for (const answer of r.answers) {
        const key = hostKeyOfText(answer);
        if (key !== undefined && this.list.addresses.containsText(answer)) this.hit(answer, 'address', key, hostKeyOfText(r['id.orig_h']) ?? r['id.orig_h'], `${r.query ?? 'a name'} resolved to it for ${r['id.orig_h']}`, undefined, r.ts);
      }
    }
  }

  onRecord(r: LoopyRecord): void {
    if (this.list.domains.size === 0) return;
    const name = r.type === 'tls' ? (r as { server_name?: string }).server_name : r.type === 'http' ? (r as { host?: string }).host : undefined;
    if (!name) return;
    const host = name.replace(/:\d+$/, '');
    const d = blockedDomainOf(host, this.list.domains);
    if (!d) return;
    const rec = r as { 'id.orig_h'?: string; 'id.resp_p'?: number; ts?: number };
    const client = String(rec['id.orig_h']);
    this.hit(d, 'domain', undefined, hostKeyOfText(client) ?? client, `${client} connected to ${host} (${r.type === 'tls' ? 'TLS server name' : 'HTTP Host'})`, rec['id.resp_p'], rec.ts ?? this.ctx.now());
  }

  private hit(indicator: string, kind: Hit['kind'], indicatorKey: HostKey | undefined, peerKey: HostKey, how: string, port: number | undefined, ts: number, sample?: FlowSample): void {
    let h = this.hits.get(indicator);
    const fresh = h === undefined;
    if (h === undefined) {
      h = { indicator, kind, how: new Set(), peers: new Set(), peerKeys: new Set(), indicatorKey, ports: new Set(), count: 0, first: ts, last: ts, changed: false, samples: [] };
      this.hits.set(indicator, h);
    }
    h.count++;
    h.last = Math.max(h.last, ts);
    if (h.how.size < 10) h.how.add(how);
    if (h.peers.size < 50) {
      h.peers.add(hostText(peerKey));
      h.peerKeys.add(peerKey);
    }
    if (port !== undefined && h.ports.size < 50) h.ports.add(port);
    if (sample && h.samples.length < MAX_SAMPLES) h.samples.push(sample);
    if (fresh) this.raise(h, ts);
    else h.changed = true;
  }

  second(now: number): void {
    for (const [key, h] of this.hits) {
      if (h.changed) {
        h.changed = false;
        this.raise(h, h.last);
      } else if (now - h.last > 3600) {
        this.hits.delete(key);
      }
    }
  }

  close(): void {
    this.stop?.();
  }

  private raise(h: Hit, ts: number): void {
    const peers = [...h.peers];
    const first = [...h.how][0];
    const who = peers.length === 1 ? peers[0] : `${peers.length} hosts`;
    const verb = h.kind === 'domain' ? 'blocklisted domain' : 'blocklisted address';
    const scope = h.indicatorKey !== undefined ? { pairs: [...h.peerKeys].map((p) => [p, h.indicatorKey!] as [HostKey, HostKey]) } : { hosts: [...h.peerKeys] };
    this.ctx.raise({
      key: h.indicator,
      ts,
      severity: 'high',
      message: `${who} reached ${verb} ${h.indicator}${h.count > 1 ? ` (${h.count} times)` : ''}: ${first}`,
      src: peers.length === 1 ? peers[0] : undefined,
      dst: h.kind === 'address' ? h.indicator : undefined,
      counters: { matches: h.count, hosts: peers.length },
      thresholds: { matches: 1 },
      hosts: h.kind === 'address' ? [h.indicator, ...peers] : peers,
      ports: h.ports.size ? [...h.ports] : undefined,
      names: h.kind === 'domain' ? [h.indicator] : undefined,
      first_seen: h.first,
      last_seen: h.last,
      extra: { indicator: h.indicator, indicator_kind: h.kind, how: [...h.how] },
      flows: h.samples.splice(0),
      capture: scope,
    });
  }
}

export const blocklist: DetectorRegistration<Config> = {
  name: 'blocklist',
  title: 'Blocklisted addresses and domains (a user file, reloaded on change)',
  config,
  create: (cfg, ctx, deps: DetectorDeps) => new BlocklistDetector(cfg, ctx, cfg.file ? (deps.blocklistSource ?? textFileSource)(cfg.file) : undefined),
  restartOnly: ['file'],
};
