import type { DnsRecord, LoopyRecord, SummaryRecord } from '../analyze/records.js';
import { connProtoName, formatAddress, type ConnView } from '../analyze/flows/conn-record.js';
import { HostCounters, type HostCountersSnapshot } from '../analyze/flows/host-counters.js';
import { TALLY_CAPACITY, Tally, TopN, firstSortedIndexes } from './top-n.js';

export interface Conversation {
  /** `host:port`, `[v6 host]:port`. */
  originator: string;
  responder: string;
  /** The addresses alone, as records write them. */
  origHost: string;
  respHost: string;
  proto: string;
  service?: string;
  state: string;
  packets: number;
  bytes: number;
  duration: number;
  rtt?: number;
  retrans: number;
}

/** Conversations and slow lookups a report shows; more are counted, not kept. */
export const CONVERSATIONS_SHOWN = 8;
export const SLOWEST_SHOWN = 3;

const byBytes = (a: Conversation, b: Conversation): number => b.bytes - a.bytes || b.packets - a.packets;

export interface SlowLookup {
  query: string;
  rtt: number;
  server: string;
}

/** A host of the top talkers. */
export interface TalkerLine {
  key: string;
  value: number;
}

/** Per closed flow, read from the flow table: no record object, no string unless it is kept. */
const flowNumbers = new Float64Array(14);
const flowWords = new Uint32Array(8);

/**
 * Gathers what a person wants from a capture: talkers, conversations, DNS, TLS names. Bounded whatever the
 * capture: the largest conversations and slowest lookups are kept as flows and records come, counts per key
 * in tables of bounded size. Closed flows come as the flow table's view (`addFlow`), not as conn records:
 * a flood's million flows cost no record object, uid, community ID or address text.
 */
export class ReadReport {
  /** IP bytes per host (sent + received), typed; past TALLY_CAPACITY hosts, Space-Saving. */
  private readonly hosts = new HostCounters(TALLY_CAPACITY);
  readonly tcp = new TopN<Conversation>(CONVERSATIONS_SHOWN, byBytes);
  readonly udp = new TopN<Conversation>(CONVERSATIONS_SHOWN, byBytes);
  readonly icmp = new TopN<Conversation>(CONVERSATIONS_SHOWN, byBytes);
  readonly dnsNames = new Tally();
  readonly dnsRcodes = new Tally();
  readonly dnsSlowest = new TopN<SlowLookup>(SLOWEST_SHOWN, (a, b) => b.rtt - a.rtt);
  dnsTransactions = 0;
  dnsUnanswered = 0;
  readonly tlsNames = new Tally();
  readonly httpHosts = new Tally();
  readonly services = new Tally();
  summary: SummaryRecord | undefined;

  add(record: LoopyRecord): void {
    switch (record.type) {
      case 'dns':
        return this.addDns(record as DnsRecord);
      case 'tls': {
        const name = (record as { server_name?: string }).server_name;
        if (name) this.tlsNames.add(name);
        return;
      }
      case 'http': {
        const host = (record as { host?: string }).host;
        if (host) this.httpHosts.add(host);
        return;
      }
      case 'summary':
        this.summary = record as SummaryRecord;
        return;
    }
  }

  /** A closed flow, from the flow table. */
  addFlow(c: ConnView): void {
    c.numbers(flowNumbers);
    c.addresses(flowWords, 0);
    const version = c.version;
    const packets = flowNumbers[3] + flowNumbers[5];
    const bytes = flowNumbers[4] + flowNumbers[6];
    this.hosts.add(version, flowWords, 0, bytes, packets, 1, false);
    this.hosts.add(version, flowWords, 4, bytes, packets, 1, false);
    if (c.service) this.services.add(c.service, 1);
    const proto = connProtoName(c.proto);
    const top = proto === 'tcp' ? this.tcp : proto === 'udp' ? this.udp : this.icmp;
    if (top.admits({ bytes, packets })) top.add(new KeptConversation(c, proto, packets, bytes));
    else top.count++;
  }

  /** What this report gathered, as plain data another thread can take (structured clone), for `addAll`. */
  snapshot(): ReadReportSnapshot {
    const top = (t: TopN<Conversation>) => ({ items: t.items().map(plainConversation), count: t.count });
    return {
      hosts: this.hosts.snapshot(), tcp: top(this.tcp), udp: top(this.udp), icmp: top(this.icmp),
      dnsNames: this.dnsNames.counts(), dnsRcodes: this.dnsRcodes.counts(), dnsSlowest: { items: [...this.dnsSlowest.items()], count: this.dnsSlowest.count },
      dnsTransactions: this.dnsTransactions, dnsUnanswered: this.dnsUnanswered, tlsNames: this.tlsNames.counts(), httpHosts: this.httpHosts.counts(),
      services: this.services.counts(),
    };
  }

  /**
   * Adds another engine's report (`loopy read --workers`): each flow and record was in exactly one engine, so
   * counts add up and the largest conversations and slowest lookups are the largest of each engine's.
   */
  addAll(s: ReadReportSnapshot): void {
    this.hosts.addAll(s.hosts);
    for (const [mine, theirs] of [[this.tcp, s.tcp], [this.udp, s.udp], [this.icmp, s.icmp]] as const) addTop(mine, theirs);
    addTop(this.dnsSlowest, s.dnsSlowest);
    for (const [mine, theirs] of [[this.dnsNames, s.dnsNames], [this.dnsRcodes, s.dnsRcodes], [this.tlsNames, s.tlsNames], [this.httpHosts, s.httpHosts], [this.services, s.services]] as const) {
      for (const [key, n] of theirs) mine.add(key, n);
    }
    this.dnsTransactions += s.dnsTransactions;
    this.dnsUnanswered += s.dnsUnanswered;
  }

  /** The `n` hosts that moved the most IP bytes, largest first. */
  topTalkers(n: number): TalkerLine[] {
    const t = this.hosts;
    return firstSortedIndexes(t.size, n, (a, b) => t.bytes[b] - t.bytes[a] || t.packets[b] - t.packets[a] || t.compareAddresses(a, b)).map(
      (slot) => ({ key: t.textOf(slot), value: t.bytes[slot] }),
    );
  }

  /** Hosts held, and whether more came than the table holds (counts may then be over by the smallest kept). */
  get talkersHeld(): number {
    return this.hosts.size;
  }

  get talkersApproximate(): boolean {
    return this.hosts.replaced > 0;
  }

  private addDns(d: DnsRecord): void {
    this.dnsTransactions++;
    if (d.query !== undefined) this.dnsNames.add(d.query);
    if (d.rcode_name !== undefined) this.dnsRcodes.add(d.rcode_name);
    else this.dnsUnanswered++;
    if (d.rtt !== undefined && d.query !== undefined) this.dnsSlowest.add({ query: d.query, rtt: d.rtt, server: d['id.resp_h'] });
  }
}

/** A report's gatherings as plain data (see ReadReport.snapshot). */
export interface ReadReportSnapshot {
  hosts: HostCountersSnapshot;
  tcp: KeptTop<Conversation>;
  udp: KeptTop<Conversation>;
  icmp: KeptTop<Conversation>;
  dnsNames: Array<[string, number]>;
  dnsRcodes: Array<[string, number]>;
  dnsSlowest: KeptTop<SlowLookup>;
  dnsTransactions: number;
  dnsUnanswered: number;
  tlsNames: Array<[string, number]>;
  httpHosts: Array<[string, number]>;
  services: Array<[string, number]>;
}

interface KeptTop<T> {
  items: T[];
  count: number;
}

/** Another engine's kept items offered to this list, and the items it only counted counted here too. */
function addTop<T>(mine: TopN<T>, theirs: KeptTop<T>): void {
  for (const item of theirs.items) mine.add(item);
  mine.count += theirs.count - theirs.items.length;
}

/** A conversation's fields as a plain object (a KeptConversation's endpoints are getters). */
function plainConversation(c: Conversation): Conversation {
  return {
    originator: c.originator, responder: c.responder, origHost: c.origHost, respHost: c.respHost, proto: c.proto, service: c.service, state: c.state, packets: c.packets, bytes: c.bytes,
    duration: c.duration, rtt: c.rtt, retrans: c.retrans,
  };
}

/**
 * A conversation as ranked: numbers only; its endpoints are written when it is shown (a report shows 8 of them,
 * and a capture can hold hundreds of thousands).
 */
class KeptConversation implements Conversation {
  readonly proto: string;
  readonly service?: string;
  readonly state: string;
  readonly packets: number;
  readonly bytes: number;
  readonly duration: number;
  readonly rtt?: number;
  readonly retrans: number;
  readonly origHost: string;
  private readonly origPort: number;
  readonly respHost: string;
  private readonly respPort: number;

  /** From the flow table's view of a closed flow (flowNumbers and flowWords hold its numbers and addresses). */
  constructor(c: ConnView, proto: string, packets: number, bytes: number) {
    this.proto = proto;
    this.service = c.service;
    this.state = c.connState();
    this.packets = packets;
    this.bytes = bytes;
    this.duration = flowNumbers[0];
    this.rtt = Number.isNaN(flowNumbers[13]) ? undefined : flowNumbers[13];
    this.retrans = flowNumbers[7] + flowNumbers[8];
    this.origHost = formatAddress(c.version, flowWords.subarray(0, 4));
    this.origPort = c.origPort;
    this.respHost = formatAddress(c.version, flowWords.subarray(4, 8));
    this.respPort = c.respPort;
  }

  get originator(): string {
    return endpoint(this.origHost, this.origPort);
  }

  get responder(): string {
    return endpoint(this.respHost, this.respPort);
  }
}

function endpoint(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
