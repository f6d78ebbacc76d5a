import type { ConnRecord, DnsRecord, LoopyRecord, SummaryRecord } from '../analyze/records.js';
import { firstSorted, Tally } from './top-n.js';

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

/** Gathers what a person wants from a capture: talkers, conversations, DNS, TLS names. */
export class ReadReport {
  readonly hostBytes = new Tally<{ packets: number; flows: number }>();
  readonly tcp: Conversation[] = [];
  readonly udp: Conversation[] = [];
  readonly icmp: Conversation[] = [];
  readonly dnsNames = new Tally();
  readonly dnsRcodes = new Tally();
  readonly dnsSlowest: Array<{ query: string; rtt: number; server: string }> = [];
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
    (c.proto === 'tcp' ? this.tcp : c.proto === 'udp' ? this.udp : this.icmp).push(new KeptConversation(c));
  }

  private addDns(d: DnsRecord): void {
    this.dnsTransactions++;
    if (d.query !== undefined) this.dnsNames.add(d.query);
    if (d.rcode_name !== undefined) this.dnsRcodes.add(d.rcode_name);
    else this.dnsUnanswered++;
    if (d.rtt !== undefined && d.query !== undefined) this.dnsSlowest.push({ query: d.query, rtt: d.rtt, server: d['id.resp_h'] });
  }

  topConversations(list: Conversation[], n: number): Conversation[] {
    return firstSorted(list, n, (a, b) => b.bytes - a.bytes || b.packets - a.packets);
  }

  slowestDns(n: number): Array<{ query: string; rtt: number; server: string }> {
    return firstSorted(this.dnsSlowest, n, (a, b) => b.rtt - a.rtt);
  }
}

/**
 * A conversation as kept for every connection: numbers only; its label is written when it is shown (a
 * report shows 8 of them, and a capture can hold hundreds of thousands).
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
