/**
 * Datagram conversations: DNS lookups against the office resolver (A/AAAA with CNAME chains, NXDOMAIN,
 * NODATA, PTR, MX/TXT, SERVFAIL, a few never answered), NTP polls and ping runs (ICMP / ICMPv6 echo).
 */
import { randomBytes } from './content.js';
import {
  DNS_A, DNS_AAAA, DNS_CNAME, DNS_MX, DNS_PTR, DNS_RCODE_NAMES, DNS_SOA, DNS_TXT, DNS_TYPE_NAMES, RCODE_NOERROR, RCODE_NXDOMAIN,
  RCODE_SERVFAIL, dnsQuery, dnsResponse, type DnsRR,
} from './dns.js';
import { Flow } from './emitter.js';
import { bump, type GroundTruth } from './ground-truth.js';
import { NONEXISTENT_NAMES, type Host, type Network, type Service } from './hosts.js';
import type { Rng } from './prng.js';
import { pickClient, type Session, type SessionContext } from './sessions.js';

export interface DnsAnswer {
  rcode: number;
  answers: DnsRR[];
  authority: DnsRR[];
}

/** The SOA a resolver returns with a negative answer: the zone the name would be in. */
export function soaFor(name: string): DnsRR {
  const zones = ['corp.example', 'example.com', 'example.net', 'example.org'];
  const zone = zones.find((z) => name === z || name.endsWith(`.${z}`)) ?? '';
  const mname = zone ? `ns1.${zone}` : 'a.root-servers.net';
  const rname = zone ? `hostmaster.${zone}` : 'nstld.verisign-grs.com';
  return { name: zone, type: DNS_SOA, ttl: 900, rdata: { kind: 'soa', mname, rname, serial: 2024061001, refresh: 7200, retry: 3600, expire: 1209600, minimum: 900 } };
}

function addressRecords(service: Service, qtype: number, ttl: number): DnsRR[] {
  const out: DnsRR[] = [];
  let owner = service.name;
  for (const cname of service.cnames) {
    out.push({ name: owner, type: DNS_CNAME, ttl: 3600, rdata: { kind: 'name', name: cname } });
    owner = cname;
  }
  const addr = qtype === DNS_AAAA ? service.host.v6 : service.host.v4;
  if (addr) out.push({ name: owner, type: qtype, ttl, rdata: { kind: 'address', bytes: addr } });
  return out;
}

/** What the resolver says about a name it knows (services), a name that does not exist, or a reverse name. */
export function resolve(net: Network, rng: Rng, name: string, qtype: number): DnsAnswer {
  const service = net.services.find((s) => s.name === name);
  const ttl = rng.chance(0.7) ? rng.between(1, 300) : 300; // a cache hit counts its TTL down
  if (service && (qtype === DNS_A || qtype === DNS_AAAA)) {
    const answers = addressRecords(service, qtype, ttl);
    const noData = answers.length === 0 || answers[answers.length - 1].type === DNS_CNAME;
    return { rcode: RCODE_NOERROR, answers, authority: noData ? [soaFor(name)] : [] };
  }
  if (qtype === DNS_PTR) {
    const target = net.services.find((s) => reverseName(s.host.v4Text) === name);
    if (target) return { rcode: RCODE_NOERROR, answers: [{ name, type: DNS_PTR, ttl, rdata: { kind: 'name', name: target.name } }], authority: [] };
  }
  if (name === 'example.com' && qtype === DNS_MX) {
    return { rcode: RCODE_NOERROR, answers: [{ name, type: DNS_MX, ttl, rdata: { kind: 'mx', preference: 10, name: 'mail.example.com' } }], authority: [] };
  }
  if (name === 'example.com' && qtype === DNS_TXT) {
    return { rcode: RCODE_NOERROR, answers: [{ name, type: DNS_TXT, ttl, rdata: { kind: 'txt', strings: ['v=spf1 ip4:203.0.113.0/24 -all'] } }], authority: [] };
  }
  return { rcode: RCODE_NXDOMAIN, answers: [], authority: [soaFor(name)] };
}

export function reverseName(v4: string): string {
  return `${v4.split('.').reverse().join('.')}.in-addr.arpa`;
}

/** One query from `client` to the resolver and, unless `answer` is null, its response `rtt` µs later. */
export function* dnsTransaction(
  ctx: SessionContext, client: Host, v6: boolean, name: string, qtype: number, answer: DnsAnswer | null, rtt: number,
): Session {
  const { rng, truth, net } = ctx;
  const resolver = net.router;
  const flow = new Flow(client, resolver, v6 && client.v6 !== null, net.ephemeralPort(client), 53, rng.int(0x100000));
  const id = rng.int(65536);
  const edns = rng.chance(0.5);
  const query = dnsQuery(id, name, qtype, { edns });
  ctx.em.udp(flow, true, query);
  const d = truth.dns;
  d.queries++;
  if (flow.v6) d.ipv6Queries++;
  bump(d.qtypes, DNS_TYPE_NAMES[qtype] ?? qtype);
  let respBytes = 0;
  if (answer) {
    yield rtt;
    const response = dnsResponse(id, name, qtype, { rcode: answer.rcode, answers: answer.answers, authority: answer.authority, edns });
    ctx.em.udp(flow, false, response);
    respBytes = response.length;
    d.responses++;
    bump(d.rcodes, DNS_RCODE_NAMES[answer.rcode] ?? answer.rcode);
    if (answer.rcode === RCODE_NXDOMAIN) d.nxdomain++;
    if (answer.answers[0]?.type === DNS_CNAME) d.cnameResponses++;
    d.answerRecords += answer.answers.length;
  } else {
    d.unanswered++;
  }
  recordUdpFlow(truth, flow, query.length, respBytes, 'dns');
  truth.udp.dnsFlows++;
}

export function recordUdpFlow(truth: GroundTruth, f: Flow, origBytes: number, respBytes: number, service?: string): void {
  truth.udp.flows++;
  if (f.respPkts === 0) truth.udp.unanswered++;
  truth.connections?.push({
    proto: 'udp',
    'id.orig_h': (f.v6 ? f.client.v6Text : f.client.v4Text) ?? '',
    'id.orig_p': f.clientPort,
    'id.resp_h': (f.v6 ? f.server.v6Text : f.server.v4Text) ?? '',
    'id.resp_p': f.serverPort,
    conn_state: f.respPkts > 0 ? 'SF' : 'S0',
    ...(service ? { service } : {}),
    orig_bytes: origBytes,
    resp_bytes: respBytes,
    orig_pkts: f.origPkts,
    resp_pkts: f.respPkts,
    orig_ip_bytes: f.origIpBytes,
    resp_ip_bytes: f.respIpBytes,
    orig_retrans: 0,
    resp_retrans: 0,
  });
}

/** An ordinary lookup: mostly names of the services clients then connect to. */
export function* dnsLookup(ctx: SessionContext): Session {
  const { rng, net } = ctx;
  const client = pickClient(ctx);
  const v6 = rng.chance(ctx.ipv6Share);
  let name: string;
  let qtype: number;
  switch (rng.weighted([0.56, 0.26, 0.08, 0.05, 0.05])) {
    case 0: name = rng.pick(net.services).name; qtype = DNS_A; break;
    case 1: name = rng.pick(net.services).name; qtype = DNS_AAAA; break;
    case 2: name = rng.pick(NONEXISTENT_NAMES); qtype = rng.chance(0.7) ? DNS_A : DNS_AAAA; break;
    case 3: name = reverseName(rng.pick(net.services).host.v4Text); qtype = DNS_PTR; break;
    default: name = 'example.com'; qtype = rng.chance(0.5) ? DNS_MX : DNS_TXT; break;
  }
  // Cache hits come back in well under a millisecond; misses take a trip to the authorities.
  const rtt = rng.chance(0.7) ? 150 + rng.int(600) : Math.min(Math.round(rng.logNormal(25_000, 0.8)), 900_000);
  let answer: DnsAnswer | null = resolve(net, rng, name, qtype);
  const fault = rng.float();
  if (fault < 0.02) answer = null;
  else if (fault < 0.03) answer = { rcode: RCODE_SERVFAIL, answers: [], authority: [] };
  yield* dnsTransaction(ctx, client, v6, name, qtype, answer, rtt);
}

/** An NTP client poll (mode 3) and the server's reply (mode 4), 48 bytes each (RFC 5905). */
export function* ntpPoll(ctx: SessionContext): Session {
  const { rng, net, truth } = ctx;
  const v6 = rng.chance(ctx.ipv6Share);
  const client = pickClient(ctx);
  const flow = new Flow(client, net.ntp, v6, net.ephemeralPort(client), 123, rng.int(0x100000));
  const request = Buffer.alloc(48);
  request[0] = 0x23; // LI 0, version 4, mode 3 (client)
  request[2] = 6; // poll 2^6 s
  request[3] = 0x20;
  randomBytes(rng, 8).copy(request, 40); // transmit timestamp: chrony sends a random one
  ctx.em.udp(flow, true, request);
  yield 20_000 + rng.int(15_000);
  const reply = Buffer.alloc(48);
  reply[0] = 0x24; // mode 4 (server)
  reply[1] = 2; // stratum
  reply[2] = 6;
  reply[3] = 0xe9; // precision 2^-23
  reply.writeUInt32BE(0x00000200, 4); // root delay
  reply.writeUInt32BE(0x00000400, 8); // root dispersion
  reply.writeUInt32BE(0xc0000201, 12); // reference id: its upstream (192.0.2.1)
  const ntpSeconds = Math.floor(ctx.em.now / 1e6) + 2208988800;
  reply.writeUInt32BE(ntpSeconds >>> 0, 16); // reference timestamp
  request.copy(reply, 24, 40, 48); // origin = the client's transmit timestamp
  reply.writeUInt32BE(ntpSeconds >>> 0, 32); // receive
  reply.writeUInt32BE(rng.u32(), 36);
  reply.writeUInt32BE(ntpSeconds >>> 0, 40); // transmit
  reply.writeUInt32BE(rng.u32(), 44);
  ctx.em.udp(flow, false, reply);
  recordUdpFlow(truth, flow, 48, 48);
  truth.udp.ntpFlows++;
}

/** `ping -c N`: echo requests a second apart, each answered a round trip later unless the host is down. */
export function* pingRun(ctx: SessionContext): Session {
  const { rng, net, truth } = ctx;
  const down = rng.chance(0.15);
  const target = down ? net.internalHost(99) : rng.chance(0.3) ? net.router : rng.pick(net.services).host;
  const v6 = rng.chance(ctx.ipv6Share) && target.v6 !== null;
  const client = pickClient(ctx);
  const flow = new Flow(client, target, v6, 0, 0, rng.int(0x100000));
  const id = rng.int(65536);
  const count = 1 + rng.int(5);
  const rtt = target === net.router ? 200 + rng.int(200) : 400 + rng.int(40_000);
  // iputils payload: a 16-byte timeval, then bytes 0x10, 0x11, ... up to 56 bytes.
  const data = Buffer.alloc(56);
  for (let i = 16; i < 56; i++) data[i] = i;
  for (let seq = 1; seq <= count; seq++) {
    const sec = Math.floor(ctx.em.now / 1e6);
    data.writeUInt32LE(sec, 0);
    data.writeUInt32LE(ctx.em.now - sec * 1e6, 8);
    ctx.em.echo(flow, true, id, seq, data);
    truth.icmp.echoRequests++;
    if (!down) {
      yield rtt + rng.int(300);
      ctx.em.echo(flow, false, id, seq, data);
      truth.icmp.echoReplies++;
    }
    if (seq < count) yield 1_000_000 - (down ? 0 : rtt) + rng.int(500);
  }
  truth.icmp.sessions++;
  truth.connections?.push({
    proto: 'icmp',
    'id.orig_h': (v6 ? client.v6Text : client.v4Text) ?? '',
    'id.orig_p': v6 ? 128 : 8,
    'id.resp_h': (v6 ? target.v6Text : target.v4Text) ?? '',
    'id.resp_p': v6 ? 129 : 0,
    conn_state: 'OTH',
    orig_bytes: flow.origPkts * data.length,
    resp_bytes: flow.respPkts * data.length,
    orig_pkts: flow.origPkts,
    resp_pkts: flow.respPkts,
    orig_ip_bytes: flow.origIpBytes,
    resp_ip_bytes: flow.respIpBytes,
    orig_retrans: 0,
    resp_retrans: 0,
  });
}
