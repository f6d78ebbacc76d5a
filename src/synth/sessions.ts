/**
 * The TCP sessions of an ordinary office day: HTTPS (TLS 1.3 mostly, some 1.2, a few without SNI), plain
 * HTTP, SSH (key exchange then typing), and an internal Redis. Each builds its turns and fate up front,
 * counts what the capture will show, then runs as a tcpConversation.
 */
import { bytesOf } from './content.js';
import { Flow, type Emitter } from './emitter.js';
import { bump, type GroundTruth, type TcpConnState } from './ground-truth.js';
import type { Host, Network, Service } from './hosts.js';
import { httpRequest, httpResponse } from './http.js';
import type { Rng } from './prng.js';
import { SSH_CLIENT_BANNER, SSH_SERVER_BANNER, sshEcdhInit, sshEcdhReplyAndNewKeys, sshEncrypted, sshKexInit, sshNewKeys } from './ssh.js';
import { tcpConversation, type TcpPlan, type Turn } from './tcp-conversation.js';
import { tls12ClientKeyExchange, tls12ServerFinished, tls12ServerFlight, tls13ClientFinished, tls13ServerFlight, tlsApplicationData, tlsClientHello } from './tls.js';

export type Session = Generator<number, void, void>;

export interface SessionContext {
  readonly em: Emitter;
  readonly rng: Rng;
  readonly net: Network;
  readonly truth: GroundTruth;
  readonly ipv6Share: number;
}

const FATES: readonly TcpConnState[] = ['SF', 'RSTO', 'RSTR', 'REJ', 'S0'];
const FATE_WEIGHTS = [0.86, 0.04, 0.03, 0.035, 0.035];
const RETRANSMIT_SHARE = 0.03;
const MAX_BODY = 512 * 1024;

export function pickClient(ctx: SessionContext): Host {
  return ctx.rng.pick(ctx.net.clients);
}

/** A flow from a client to a service host, over IPv6 for ipv6Share of them when the server has an address. */
export function clientFlow(ctx: SessionContext, client: Host, server: Host, serverPort: number, v6: boolean): Flow {
  return new Flow(client, server, v6 && server.v6 !== null, ctx.net.ephemeralPort(client), serverPort, ctx.rng.int(0x100000));
}

function pickService(ctx: SessionContext, want: (s: Service) => boolean): { service: Service; v6: boolean } {
  const v6 = ctx.rng.chance(ctx.ipv6Share);
  const candidates = ctx.net.services.filter((s) => want(s) && (!v6 || s.host.v6 !== null));
  return { service: ctx.rng.pick(candidates), v6 };
}

function jitteredRtt(rng: Rng, rtt: number): number {
  return Math.max(50, Math.round(rtt * (0.9 + rng.float() * 0.3)));
}

/** Server think time: milliseconds, long-tailed. */
function serverTime(rng: Rng): number {
  return Math.min(Math.round(rng.logNormal(2500, 1.0)), 400_000);
}

/** A person or a page's script between requests. */
function clientThink(rng: Rng): number {
  return Math.min(Math.round(rng.logNormal(250_000, 1.1)), 8_000_000);
}

function basePlan(ctx: SessionContext, flow: Flow, rtt: number, turns: Turn[], service: string | undefined, fate: TcpConnState): TcpPlan {
  const rng = ctx.rng;
  return {
    flow,
    rtt,
    fate,
    turns: fate === 'S0' || fate === 'REJ' ? [] : turns,
    closer: rng.chance(0.7) ? 'client' : 'server',
    idleBeforeClose: Math.min(Math.round(rng.logNormal(400_000, 1.2)), 9_000_000),
    retransmitTurn: turns.length > 0 && rng.chance(RETRANSMIT_SHARE) ? rng.int(turns.length) : -1,
    synRetries: rng.int(3),
    spacing: rtt < 2000 ? 12 : 30 + rng.int(90),
    service,
  };
}

function pickFate(rng: Rng): TcpConnState {
  return FATES[rng.weighted(FATE_WEIGHTS)];
}

function established(fate: TcpConnState): boolean {
  return fate === 'SF' || fate === 'RSTO' || fate === 'RSTR';
}

function responseSize(rng: Rng, median: number): number {
  return Math.min(Math.round(rng.logNormal(median, 1.4)), MAX_BODY);
}

export function* httpsSession(ctx: SessionContext): Session {
  const { rng, truth } = ctx;
  const { service, v6 } = pickService(ctx, (s) => s.https);
  const flow = clientFlow(ctx, pickClient(ctx), service.host, 443, v6);
  const rtt = jitteredRtt(rng, service.rtt);
  const fate = pickFate(rng);
  const tls13 = rng.chance(0.85);
  const sni = rng.chance(0.97) ? service.name : undefined;
  const turns: Turn[] = [{ fromClient: true, data: tlsClientHello(sni, rng), delay: 100 + rng.int(400) }];
  const requests = 1 + rng.weighted([0.5, 0.25, 0.15, 0.1]);
  let request = tlsApplicationData(rng, 200 + rng.int(700));
  if (tls13) {
    turns.push({ fromClient: false, data: tls13ServerFlight(rng, 2200 + rng.int(2800)), delay: rtt + 300 + rng.int(1500) });
    request = bytesOf(tls13ClientFinished(rng), request);
  } else {
    turns.push({ fromClient: false, data: tls12ServerFlight(rng), delay: rtt + 300 + rng.int(1500) });
    turns.push({ fromClient: true, data: tls12ClientKeyExchange(rng), delay: 300 + rng.int(1000) });
    turns.push({ fromClient: false, data: tls12ServerFinished(rng), delay: rtt + 200 + rng.int(800) });
  }
  for (let i = 0; i < requests; i++) {
    turns.push({ fromClient: true, data: request, delay: i === 0 ? 100 + rng.int(300) : clientThink(rng) });
    turns.push({ fromClient: false, data: tlsApplicationData(rng, responseSize(rng, 3000)), delay: rtt + serverTime(rng) });
    request = tlsApplicationData(rng, 200 + rng.int(700));
  }
  if (established(fate)) {
    truth.tls.clientHellos++;
    if (sni) bump(truth.tls.serverNames, sni);
    else truth.tls.withoutSni++;
    bump(truth.tls.versions, tls13 ? 'TLSv13' : 'TLSv12');
  }
  yield* tcpConversation(ctx.em, rng, truth, basePlan(ctx, flow, rtt, turns, 'ssl', fate));
}

const PAGES = ['/', '/index.html', '/news/today', '/static/app.js', '/static/style.css', '/downloads/tool-1.4.2.tar.gz', '/favicon.ico', '/docs/install.html'];
const API_PATHS = ['/api/v1/items', '/api/v1/status', '/api/v1/metrics', '/api/v1/session'];
const STATUS = [200, 304, 404, 301, 500];
const STATUS_WEIGHTS = [0.8, 0.08, 0.06, 0.04, 0.02];

export function* httpSession(ctx: SessionContext): Session {
  const { rng, truth } = ctx;
  const { service, v6 } = pickService(ctx, (s) => s.http);
  const flow = clientFlow(ctx, pickClient(ctx), service.host, 80, v6);
  const rtt = jitteredRtt(rng, service.rtt);
  const fate = pickFate(rng);
  const turns: Turn[] = [];
  const requests = 1 + rng.weighted([0.6, 0.25, 0.15]);
  const counted = established(fate);
  for (let i = 0; i < requests; i++) {
    const post = rng.chance(0.1);
    const method = post ? 'POST' : 'GET';
    const uri = post ? rng.pick(API_PATHS) : rng.chance(0.2) ? `${rng.pick(API_PATHS)}?page=${rng.int(50)}` : rng.pick(PAGES);
    const status = post ? 200 : STATUS[rng.weighted(STATUS_WEIGHTS)];
    const bodyLength = status === 304 ? 0 : status === 200 ? responseSize(rng, 2500) : 150 + rng.int(450);
    // Error pages are HTML whatever was asked for; downloads are opaque bytes.
    const binary = status === 200 && (uri.endsWith('.gz') || uri.endsWith('.ico'));
    turns.push({ fromClient: true, data: httpRequest({ method, host: service.name, uri, bodyLength: post ? 40 + rng.int(400) : 0 }, rng), delay: i === 0 ? 100 + rng.int(300) : clientThink(rng) });
    const response = httpResponse({
      status,
      bodyLength,
      contentType: binary ? 'application/octet-stream' : 'text/html; charset=utf-8',
      location: status === 301 ? `https://${service.name}${uri}` : undefined,
    }, rng);
    turns.push({ fromClient: false, data: response, delay: rtt + serverTime(rng) });
    if (counted) {
      truth.http.requests++;
      truth.http.responses++;
      bump(truth.http.methods, method);
      bump(truth.http.statuses, status);
      bump(truth.http.hosts, service.name);
    }
  }
  yield* tcpConversation(ctx.em, rng, truth, basePlan(ctx, flow, rtt, turns, 'http', fate));
}

export function* sshSession(ctx: SessionContext): Session {
  const { rng, truth } = ctx;
  const { service, v6 } = pickService(ctx, (s) => s.ssh);
  const flow = clientFlow(ctx, pickClient(ctx), service.host, 22, v6);
  const rtt = jitteredRtt(rng, service.rtt);
  const fate = pickFate(rng);
  const reply = (): number => rtt + 100 + rng.int(600);
  const quick = (): number => 100 + rng.int(400);
  const turns: Turn[] = [
    { fromClient: true, data: Buffer.from(SSH_CLIENT_BANNER, 'ascii'), delay: quick() },
    { fromClient: false, data: Buffer.from(SSH_SERVER_BANNER, 'ascii'), delay: reply() },
    { fromClient: true, data: sshKexInit(rng), delay: quick() },
    { fromClient: false, data: sshKexInit(rng), delay: reply() },
    { fromClient: true, data: sshEcdhInit(rng), delay: quick() },
    { fromClient: false, data: sshEcdhReplyAndNewKeys(rng), delay: reply() + 1500 },
    { fromClient: true, data: sshNewKeys(rng), delay: quick() },
  ];
  // User authentication: service request, public key offer and signature, each answered.
  for (const size of [28, 60, 420]) {
    turns.push({ fromClient: true, data: sshEncrypted(rng, size + rng.int(16)), delay: quick() + 2000 });
    turns.push({ fromClient: false, data: sshEncrypted(rng, 28 + rng.int(60)), delay: reply() });
  }
  // Typing: each key is echoed; now and then a command prints a screenful or more.
  const keys = 20 + rng.int(150);
  for (let i = 0; i < keys; i++) {
    turns.push({ fromClient: true, data: sshEncrypted(rng, 1 + rng.int(4)), delay: Math.min(Math.round(rng.logNormal(180_000, 0.8)), 5_000_000) });
    const output = rng.chance(0.06) ? 800 + responseSize(rng, 4000) : 1 + rng.int(4);
    turns.push({ fromClient: false, data: sshEncrypted(rng, output), delay: reply() });
  }
  if (established(fate)) truth.ssh.sessions++;
  yield* tcpConversation(ctx.em, rng, truth, basePlan(ctx, flow, rtt, turns, 'ssh', fate));
}

/**
 * An application server talking to its cache: short RESP commands and replies over one connection.
 * No service is counted: Loopy has no Redis analyzer (conn.service stays empty).
 */
export function* redisSession(ctx: SessionContext): Session {
  const { rng, truth } = ctx;
  const flow = clientFlow(ctx, pickClient(ctx), ctx.net.redis, 6379, rng.chance(ctx.ipv6Share));
  const rtt = jitteredRtt(rng, 350);
  const turns: Turn[] = [];
  const commands = 2 + rng.int(12);
  for (let i = 0; i < commands; i++) {
    const key = `session:${rng.label(8)}`;
    const value = rng.label(4 + rng.int(60));
    const set = rng.chance(0.3);
    const cmd = set
      ? `*3\r\n$3\r\nSET\r\n$${key.length}\r\n${key}\r\n$${value.length}\r\n${value}\r\n`
      : `*2\r\n$3\r\nGET\r\n$${key.length}\r\n${key}\r\n`;
    const answer = set ? '+OK\r\n' : rng.chance(0.2) ? '$-1\r\n' : `$${value.length}\r\n${value}\r\n`;
    turns.push({ fromClient: true, data: Buffer.from(cmd, 'latin1'), delay: i === 0 ? 100 : 50 + rng.int(20_000) });
    turns.push({ fromClient: false, data: Buffer.from(answer, 'latin1'), delay: rtt + 30 + rng.int(200) });
  }
  yield* tcpConversation(ctx.em, rng, truth, basePlan(ctx, flow, rtt, turns, undefined, pickFate(rng)));
}

/** Tiny Redis commands and their replies, as a health checker or a counter service sends them. */
const CHATTY_EXCHANGES: readonly (readonly [string, string])[] = [
  ['*1\r\n$4\r\nPING\r\n', '+PONG\r\n'],
  ['*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n', ':1\r\n'],
  ['*2\r\n$3\r\nGET\r\n$1\r\nk\r\n', '$1\r\n1\r\n'],
];

/** A long connection of tiny request/reply exchanges: three packets under 90 bytes each per exchange. */
export function* chattySession(ctx: SessionContext): Session {
  yield* chattyExchanges(ctx, (rng) => 10 + rng.int(60));
}

/** A client that keeps its connection for the whole capture (15,000 exchanges, about 45,000 packets). */
export function* longChattySession(ctx: SessionContext): Session {
  yield* chattyExchanges(ctx, () => 15_000);
}

/** `exchangesOf` is asked after the flow and its RTT are drawn: the small mix's bytes stay what they were. */
function* chattyExchanges(ctx: SessionContext, exchangesOf: (rng: Rng) => number): Session {
  const { rng, truth } = ctx;
  const flow = clientFlow(ctx, pickClient(ctx), ctx.net.redis, 6379, rng.chance(ctx.ipv6Share));
  const rtt = jitteredRtt(rng, 250);
  const turns: Turn[] = [];
  const exchanges = exchangesOf(rng);
  for (let i = 0; i < exchanges; i++) {
    const [request, reply] = rng.pick(CHATTY_EXCHANGES);
    turns.push({ fromClient: true, data: Buffer.from(request, 'latin1'), delay: i === 0 ? 100 : 2_000 + rng.int(50_000) });
    turns.push({ fromClient: false, data: Buffer.from(reply, 'latin1'), delay: rtt + 20 + rng.int(100) });
  }
  yield* tcpConversation(ctx.em, rng, truth, basePlan(ctx, flow, rtt, turns, undefined, pickFate(rng)));
}
