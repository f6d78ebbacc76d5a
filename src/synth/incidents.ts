/**
 * Incidents for the demo and for detector tests, each from its own address so a test can find it:
 * a vertical port scan (nmap -sS style), a horizontal sweep of one port over a /24, a DNS tunnel (long
 * random labels under one domain, TXT), and an NXDOMAIN burst (a DGA trying names).
 */
import { TCP_ACK, TCP_RST, TCP_SYN } from '../decode/packet.js';
import { DNS_A, DNS_TXT, RCODE_NOERROR, RCODE_NXDOMAIN } from './dns.js';
import { Flow } from './emitter.js';
import { TCP_OPTS_MSS_ONLY, TCP_OPTS_NONE, TCP_OPTS_SYN } from './frames.js';
import type { IncidentKind, IncidentTruth, TcpConnState } from './ground-truth.js';
import type { Host } from './hosts.js';
import type { Session, SessionContext } from './sessions.js';
import { recordTcpConnection } from './tcp-conversation.js';
import { dnsTransaction, soaFor } from './udp-sessions.js';

export const TUNNEL_DOMAIN = 'xfil.example.net';
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';
const DGA_TLDS = ['com', 'net', 'org', 'info', 'biz'];

/** Where in the capture each incident starts, as a share of its nominal duration. */
export const INCIDENT_START: Readonly<Record<IncidentKind, number>> = {
  port_scan: 0.2,
  host_sweep: 0.4,
  dns_tunnel: 0.55,
  nxdomain_burst: 0.7,
};

/** About how long each incident takes at its natural pace, µs. */
const NATURAL_LENGTH: Readonly<Record<IncidentKind, number>> = {
  port_scan: 2_000_000,
  host_sweep: 1_600_000,
  dns_tunnel: 85_000_000,
  nxdomain_burst: 24_000_000,
};

/**
 * An incident as a session. `budgetSeconds` is how long it may last: a short capture gets a faster
 * incident (down to 1/50 of its natural pace) rather than one that runs on long after the rest of the traffic.
 */
export function incidentSession(kind: IncidentKind, ctx: SessionContext, budgetSeconds: number): Session {
  const pace = Math.max(0.02, Math.min(1, (budgetSeconds * 1e6) / NATURAL_LENGTH[kind]));
  const at = (us: number): number => Math.max(1, Math.round(us * pace));
  switch (kind) {
    case 'port_scan': return portScan(ctx, at);
    case 'host_sweep': return hostSweep(ctx, at);
    case 'dns_tunnel': return dnsTunnel(ctx, at);
    case 'nxdomain_burst': return nxdomainBurst(ctx, at);
  }
}

/** Scales a natural delay (µs) to the incident's pace. */
type Pace = (us: number) => number;

/**
 * One raw SYN probe as a SYN scanner sends it, and the target's answer: SYN-ACK for an open port (the
 * scanner's kernel then resets it: Zeek's RSTO), RST-ACK for a closed one (REJ), nothing for no host (S0).
 */
function* synProbe(ctx: SessionContext, at: Pace, scanner: Host, target: Host, sport: number, port: number, answer: 'open' | 'closed' | 'none'): Session {
  const { em, rng, truth } = ctx;
  const flow = new Flow(scanner, target, false, sport, port, 0);
  const isn = rng.u32();
  em.tcp(flow, true, TCP_SYN, isn, 0, 1024, TCP_OPTS_MSS_ONLY, null, 0, 0);
  let state: TcpConnState = 'S0';
  if (answer !== 'none') {
    yield at(250 + rng.int(250));
    if (answer === 'open') {
      em.tcp(flow, false, TCP_SYN | TCP_ACK, rng.u32(), (isn + 1) >>> 0, 64240, TCP_OPTS_SYN, null, 0, 0);
      yield at(20 + rng.int(30));
      em.tcp(flow, true, TCP_RST, (isn + 1) >>> 0, 0, 0, TCP_OPTS_NONE, null, 0, 0);
      state = 'RSTO';
    } else {
      em.tcp(flow, false, TCP_RST | TCP_ACK, 0, (isn + 1) >>> 0, 0, TCP_OPTS_NONE, null, 0, 0);
      state = 'REJ';
    }
  }
  recordTcpConnection(truth, flow, state, { origBytes: 0, respBytes: 0, origRetrans: 0, respRetrans: 0, synRetrans: 0 });
}

function begin(ctx: SessionContext, kind: IncidentKind, source: Host, target: string): IncidentTruth {
  const t: IncidentTruth = { kind, source: source.v4Text, target, start: ctx.em.seconds, end: 0, probes: 0 };
  ctx.truth.incidents.push(t);
  return t;
}

export function* portScan(ctx: SessionContext, at: Pace): Session {
  const { rng, net } = ctx;
  const target = net.services.find((s) => s.name === 'files.corp.example')!.host;
  const incident = begin(ctx, 'port_scan', net.scanner, target.v4Text);
  const open = new Set([22, 139, 443, 445]);
  const ports = Array.from({ length: 1024 }, (_, i) => i + 1);
  for (let i = ports.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [ports[i], ports[j]] = [ports[j], ports[i]];
  }
  const sport = 40000 + rng.int(20000);
  incident.open = [];
  for (const port of ports) {
    yield* synProbe(ctx, at, net.scanner, target, sport, port, open.has(port) ? 'open' : 'closed');
    if (open.has(port)) incident.open.push(String(port));
    incident.probes++;
    incident.end = ctx.em.seconds;
    yield at(300 + rng.int(2500));
  }
}

export function* hostSweep(ctx: SessionContext, at: Pace): Session {
  const { rng, net } = ctx;
  const incident = begin(ctx, 'host_sweep', net.scanner, '192.168.20.0/24');
  incident.port = 22;
  incident.open = [];
  const known = new Map<number, { host: Host; ssh: boolean }>();
  for (const s of net.services) {
    if (s.host.v4Text.startsWith('192.168.20.')) known.set(s.host.v4[3], { host: s.host, ssh: s.ssh });
  }
  known.set(net.redis.v4[3], { host: net.redis, ssh: false });
  const sport = 40000 + rng.int(20000);
  for (let last = 1; last <= 254; last++) {
    const k = known.get(last);
    const host = k?.host ?? net.internalHost(last);
    yield* synProbe(ctx, at, net.scanner, host, sport, 22, k ? (k.ssh ? 'open' : 'closed') : 'none');
    if (k?.ssh) incident.open.push(host.v4Text);
    incident.probes++;
    incident.end = ctx.em.seconds;
    yield at(2000 + rng.int(8000));
  }
}

export function* dnsTunnel(ctx: SessionContext, at: Pace): Session {
  const { rng, net } = ctx;
  const incident = begin(ctx, 'dns_tunnel', net.tunneler, net.router.v4Text);
  incident.domain = TUNNEL_DOMAIN;
  const queries = 300 + rng.int(200);
  for (let i = 0; i < queries; i++) {
    const name = `${rng.label(48 + rng.int(15), BASE32)}.${rng.label(30 + rng.int(20), BASE32)}.${TUNNEL_DOMAIN}`;
    const data = rng.label(180 + rng.int(70), 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/');
    const answer = { rcode: RCODE_NOERROR, answers: [{ name, type: DNS_TXT, ttl: 0, rdata: { kind: 'txt' as const, strings: [data] } }], authority: [] };
    yield* dnsTransaction(ctx, net.tunneler, false, name, DNS_TXT, answer, at(25_000 + rng.int(20_000)));
    incident.probes++;
    incident.end = ctx.em.seconds;
    yield at(50_000 + rng.int(200_000));
  }
}

export function* nxdomainBurst(ctx: SessionContext, at: Pace): Session {
  const { rng, net } = ctx;
  const incident = begin(ctx, 'nxdomain_burst', net.dgaVictim, net.router.v4Text);
  const queries = 200 + rng.int(150);
  for (let i = 0; i < queries; i++) {
    const name = `${rng.label(12 + rng.int(9), 'abcdefghijklmnopqrstuvwxyz')}.${rng.pick(DGA_TLDS)}`;
    const answer = { rcode: RCODE_NXDOMAIN, answers: [], authority: [soaFor(name)] };
    yield* dnsTransaction(ctx, net.dgaVictim, false, name, DNS_A, answer, at(15_000 + rng.int(45_000)));
    incident.probes++;
    incident.end = ctx.em.seconds;
    yield at(20_000 + rng.int(60_000));
  }
}
