import type { ConnRecord, DnsRecord, LoopyRecord, SummaryRecord } from '../analyze/records.js';
import { Tally, TopN } from './top-n.js';

export interface Conversation {
  label: string;
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

/**
 * Gathers what a person wants from a capture: talkers, conversations, DNS, TLS names. Bounded whatever the
 * capture: the largest conversations and slowest lookups are kept as records come, counts per key in
 * Tallies of bounded size.
 */
export class ReadReport {
  readonly hostBytes = new Tally<{ packets: number; flows: number }>();
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
      case 'conn':
        return this.addConn(record as ConnRecord);
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

  private addConn(c: ConnRecord): void {
    const bytes = c.orig_ip_bytes + c.resp_ip_bytes;
    this.hostBytes.add(c['id.orig_h'], bytes);
    this.hostBytes.add(c['id.resp_h'], bytes);
    if (c.service) this.services.add(c.service, 1);
    (c.proto === 'tcp' ? this.tcp : c.proto === 'udp' ? this.udp : this.icmp).add(new KeptConversation(c));
  }

  private addDns(d: DnsRecord): void {
    this.dnsTransactions++;
    if (d.query !== undefined) this.dnsNames.add(d.query);
    if (d.rcode_name !== undefined) this.dnsRcodes.add(d.rcode_name);
    else this.dnsUnanswered++;
    if (d.rtt !== undefined && d.query !== undefined) this.dnsSlowest.add({ query: d.query, rtt: d.rtt, server: d['id.resp_h'] });
  }
}

/**
 * A conversation as ranked: numbers only; its label is written when it is shown (a report shows 8 of them,
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
  private readonly origHost: string;
  private readonly origPort: number;
  private readonly respHost: string;
  private readonly respPort: number;

  constructor(c: ConnRecord) {
    this.proto = c.proto;
    this.service = c.service;
    this.state = c.conn_state;
    this.packets = c.orig_pkts + c.resp_pkts;
    this.bytes = c.orig_ip_bytes + c.resp_ip_bytes;
    this.duration = c.duration;
    this.rtt = c.rtt;
    this.retrans = c.orig_retrans + c.resp_retrans;
    this.origHost = c['id.orig_h'];
    this.origPort = c['id.orig_p'];
    this.respHost = c['id.resp_h'];
    this.respPort = c['id.resp_p'];
  }

  get label(): string {
    return `${endpoint(this.origHost, this.origPort)} → ${endpoint(this.respHost, this.respPort)}`;
  }
}

function endpoint(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
