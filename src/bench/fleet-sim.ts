/**
 * Simulated agents for the fleet bench (`node dist/bench/fleet-sim.js HUB FIRST COUNT SEED`): COUNT agents in
 * this one process, each the agent's own AgentServer and HubLink (the publisher under test) on its own NATS
 * connection, fed generated statistics every second and an alert now and then, and answering history
 * requests from a generated flow table. Prints "ready" once every link is up, then its CPU seconds on
 * SIGTERM ("cpu S"), and leaves.
 */
import { Writable } from 'node:stream';
import type { ConnRecord } from '../analyze/records.js';
import { HubLink } from '../serve/hub-link.js';
import { createAgentLogger } from '../serve/logger.js';
import { AgentServer } from '../serve/server.js';
import type { AgentStatus } from '../serve/status.js';
import { rowsOf } from '../analyze/record-rows.js';
import { randomFractions } from '../test-support/random.js';
import { CONN_TLS, statsSecond } from '../ui/testing/sample-records.js';

const FLOWS_PER_AGENT = 500;

function flows(random: () => number, now: number): ConnRecord[] {
  return Array.from({ length: FLOWS_PER_AGENT }, (_, i) => ({
    ...CONN_TLS,
    ts: now - 3600 + (i * 3600) / FLOWS_PER_AGENT,
    uid: `C${i.toString(36)}${Math.floor(random() * 1e9).toString(36)}`,
    'id.orig_h': `10.${Math.floor(random() * 255)}.${Math.floor(random() * 255)}.${1 + Math.floor(random() * 250)}`,
    'id.orig_p': 1024 + Math.floor(random() * 60_000),
    orig_bytes: Math.floor(random() * 10_000),
    resp_bytes: Math.floor(random() * 100_000),
  })).reverse();
}

function status(name: string, started: number): AgentStatus {
  const now = Date.now() / 1000;
  return {
    type: 'agent_status', pid: process.pid, user: 'bench', started, updated: now, state: 'running', source: 'replay', filter: null,
    interfaces: [], packets_per_s: 0, bytes_per_s: 0, drop_pct: 0, drop_pct_total: 0, weirds_per_s: 0, cpu_percent: 0, rss_bytes: 0,
    flows_active: 0, packets_total: 0, bytes_total: 0, clients: 0, uptime_s: now - started,
  };
}

function simulate(hub: URL, name: string, random: () => number): { link: HubLink; tick: (n: number) => void } {
  const started = Date.now() / 1000;
  const logger = createAgentLogger({ stream: new Writable({ write: (_c, _e, done) => done() }), level: 'warn' });
  const table = flows(random, started);
  const limited = <T>(rows: T[], q: { limit: number }) => rows.slice(0, q.limit);
  const server = new AgentServer({
    name, software: 'loopy-fleet-sim', started, now: () => Date.now() / 1000, logger, status: () => status(name, started),
    history: {
      series: () => [], flowRows: (q) => rowsOf(limited(table.filter((f) => f.ts >= q.since && f.ts <= q.until), q)), dnsRows: () => rowsOf([]), alerts: () => [], topTalkers: () => [],
    },
  });
  const link = HubLink.start({ settings: { host: hub.hostname, port: Number(hub.port) }, started, server, logger, interfaces: () => ['eth0'] });
  const tick = (n: number) => {
    const packets = Math.floor(1000 + random() * 4000);
    server.publish('stats', statsSecond(Date.now() / 1000, { packets, bytes: packets * 700, packets_in: packets >> 1, packets_out: packets >> 1 }));
    // An alert a minute per agent, spread over the fleet.
    if (random() < 1 / 60) server.publish('alerts', { type: 'alert', ts: Date.now() / 1000, alert_id: `A${name}-${n}`, state: 'open', state_ts: Date.now() / 1000, detector: 'port_scan', severity: 'medium', message: `${name}: generated`, evidence: {}, community_ids: [] });
  };
  return { link, tick };
}

async function main(): Promise<void> {
  const [hubUrl, first, count, seed] = process.argv.slice(2);
  const random = randomFractions(Number(seed ?? 1));
  const agents = Array.from({ length: Number(count) }, (_, i) => simulate(new URL(hubUrl!), `sim${String(Number(first) + i).padStart(3, '0')}`, random));
  while (!agents.every((a) => a.link.connected)) await new Promise((r) => setTimeout(r, 100));
  process.stdout.write('ready\n');
  let n = 0;
  const timer = setInterval(() => agents.forEach((a) => a.tick(n++)), 1000);
  process.once('SIGTERM', () => {
    clearInterval(timer);
    const u = process.cpuUsage();
    process.stdout.write(`cpu ${(u.user + u.system) / 1e6}\n`);
    void Promise.all(agents.map((a) => a.link.close())).finally(() => process.exit(0));
  });
}

void main();
