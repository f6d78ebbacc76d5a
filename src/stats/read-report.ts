import type { ConnRecord, DnsRecord, LoopyRecord, SummaryRecord } from '../analyze/records.js';
import { Tally } from './top-n.js';

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
    const packets = c.orig_pkts + c.resp_pkts;
    for (const host of [c['id.orig_h'], c['id.resp_h']]) this.hostBytes.add(host, bytes);
    if (c.service) this.services.add(c.service, 1);
    const conv: Conversation = {
      label: `${endpoint(c['id.orig_h'], c['id.orig_p'])} → ${endpoint(c['id.resp_h'], c['id.resp_p'])}`,
      proto: c.proto,
      service: c.service,
      state: c.conn_state,
      packets,
      bytes,
      duration: c.duration,
      rtt: c.rtt,
      retrans: c.orig_retrans + c.resp_retrans,
    };
    (c.proto === 'tcp' ? this.tcp : c.proto === 'udp' ? this.udp : this.icmp).push(conv);
  }

  private addDns(d: DnsRecord): void {
    this.dnsTransactions++;
    if (d.query !== undefined) this.dnsNames.add(d.query);
    if (d.rcode_name !== undefined) this.dnsRcodes.add(d.rcode_name);
    else this.dnsUnanswered++;
    if (d.rtt !== undefined && d.query !== undefined) this.dnsSlowest.push({ query: d.query, rtt: d.rtt, server: d['id.resp_h'] });
  }

  topConversations(list: Conversation[], n: number): Conversation[] {
    return [...list].sort((a, b) => b.bytes - a.bytes || b.packets - a.packets).slice(0, n);
  }

  slowestDns(n: number): Array<{ query: string; rtt: number; server: string }> {
    return [...this.dnsSlowest].sort((a, b) => b.rtt - a.rtt).slice(0, n);
  }
}

function endpoint(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
