/**
 * `loopy watch TARGET`: live events until interrupted. With --json each event is its record as one NDJSON
 * line (type first, as `loopy read --json` writes them), so `| jq` works; without, a short line per event.
 * Reconnects by itself (connection news on stderr); stops on Ctrl-C, on a closed pipe (`| head`), or on a
 * failure retrying cannot cure (changed certificate, wrong token).
 */
import type { Command } from 'commander';
import { type ConnectionState, type LiveEvent, TOPICS, type Topic } from '../client/agent-client.js';
import { connectAgent, hubOf } from '../client/connect-agent.js';
import { runHubWatch } from './watch-hub.js';
import { type AgentTargetOptions, addAgentTargetOptions, asUsage, connectOptionsFrom, exitOnEpipe } from './agent-target-options.js';
import { UsageError } from './errors.js';
import { withAgent } from '../client/hub/fleet-merge.js';
import { dateHolds } from '../analyze/time-text.js';

/** Past this much unwritten output (a reader that stalls) events are dropped and counted, not buffered. */
const MAX_PENDING_OUTPUT = 8 * 1024 * 1024;

export interface WatchCliOptions extends AgentTargetOptions {
  topics: string;
  json?: boolean;
  since?: string;
}

export function registerWatch(program: Command): void {
  const command = program
    .command('watch')
    .description('live events from an agent until interrupted: NDJSON with --json (pipe it to jq)')
    .argument('<target>', 'unix:PATH, tls://HOST:PORT, ssh://[USER@]HOST[:PORT] or a name from ~/.config/loopy/config.json')
    .option('--topics <list>', `comma-separated: ${TOPICS.join(',')}`, TOPICS.join(','))
    .option('--json', 'one NDJSON record per event')
    .option('--since <time>', 'nats:// targets: first every alert the hub kept since then (15m, 1h, 7d, an ISO 8601 time), then live ones');
  addAgentTargetOptions(command).action(async (target: string, options: WatchCliOptions) => {
    process.exitCode = await runWatch(target, options);
  });
}

export function parseTopics(text: string): Topic[] {
  const topics = text.split(',').map((t) => t.trim()).filter(Boolean);
  const bad = topics.filter((t) => !(TOPICS as readonly string[]).includes(t));
  if (bad.length > 0 || topics.length === 0) throw new UsageError(`--topics takes some of ${TOPICS.join(',')}, not '${text}'`);
  return [...new Set(topics)] as Topic[];
}

const hhmmss = (ts: unknown) => (typeof ts === 'number' && dateHolds(ts) ? new Date(ts * 1000).toTimeString().slice(0, 8) : '--:--:--');
const n = (v: unknown) => (typeof v === 'number' ? Math.round(v).toLocaleString('en-US') : '-');
const ep = (h: unknown, p: unknown) => (typeof h === 'string' && h.includes(':') ? `[${h}]:${p}` : `${h}:${p}`);

/** One short line for a person. */
export function describeEvent(e: LiveEvent): string {
  const r = e.record as unknown as Record<string, unknown>;
  let text: string;
  switch (e.topic) {
    case 'stats': {
      const dns = r.dns as { queries?: number } | undefined;
      text = `stats  ${n(r.packets)} pkt  ${n(r.bytes)} B (in ${n(r.bytes_in)}, out ${n(r.bytes_out)})  flows ${n(r.flows_active)} active, ${n(r.flows_opened)} new  dns ${n(dns?.queries)} q  cpu ${typeof r.cpu_percent === 'number' ? r.cpu_percent.toFixed(1) : '-'} %`;
      break;
    }
    case 'flows':
      text = `flow   ${r.proto} ${ep(r['id.orig_h'], r['id.orig_p'])} -> ${ep(r['id.resp_h'], r['id.resp_p'])} ${r.conn_state ?? ''} ${n(r.orig_bytes)}/${n(r.resp_bytes)} B${r.service ? ` ${r.service}` : ''}`;
      break;
    case 'dns':
      text = `dns    ${r['id.orig_h']} ${r.query ?? '-'} ${r.qtype_name ?? ''} ${r.rcode_name ?? '(no answer)'}`;
      break;
    case 'alerts':
      // An acknowledgement re-sends the alert's record: say so, or it reads like news.
      text = `alert  ${r.severity} ${r.detector} ${r.state}: ${r.message}${r.acknowledged === true ? `  (acknowledged by ${r.acknowledged_by})` : ''}`;
      break;
  }
  return `${hhmmss(r.ts)} ${text}${e.missed > 0 ? `  (${e.missed} missed)` : ''}`;
}

function describeState(target: string, s: ConnectionState): string | undefined {
  switch (s.state) {
    case 'connected':
      return `loopy: connected to ${target} (${s.agent.name}, ${s.agent.software})`;
    case 'disconnected':
      return s.retryInMs < 0 ? undefined : `loopy: ${s.error}; retrying in ${(s.retryInMs / 1000).toFixed(1)} s`;
    default:
      return undefined;
  }
}

export async function runWatch(target: string, o: WatchCliOptions): Promise<number> {
  const topics = parseTopics(o.topics);
  const hub = asUsage(() => hubOf(target, connectOptionsFrom(o, 'loopy-watch')));
  if (hub) return runHubWatch(target, hub, topics, o);
  if (o.since !== undefined) throw new UsageError('--since applies to nats:// targets (the hub keeps the alerts); an agent\'s own alerts: loopy query TARGET alerts --since');
  const client = asUsage(() => connectAgent(target, connectOptionsFrom(o, 'loopy-watch')));
  const output = new EventOutput(o.json === true);
  return untilStopped((finish) => {
    client.onStateChange((s) => {
      const line = describeState(target, s);
      if (line) process.stderr.write(`${line}\n`);
      if (s.state === 'disconnected' && s.retryInMs < 0) {
        process.stderr.write(`loopy: ${s.error}\n`);
        finish(1);
      }
    });
    const off = client.subscribe(topics, (event) => output.write(event));
    return () => {
      off();
      client.close();
      output.end();
    };
  });
}

/**
 * Runs until `finish` is called — by Ctrl-C or SIGTERM (status 0), a closed stdout (`| head`, 0), or the
 * caller — then runs the cleanup `start` returned, once, and resolves with the exit status.
 */
export function untilStopped(start: (finish: (code: number) => void) => () => void | Promise<void>): Promise<number> {
  return new Promise<number>((resolve) => {
    let cleanup: (() => void | Promise<void>) | undefined;
    let done = false;
    const finish = (code: number) => {
      if (done) return;
      done = true;
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      void Promise.resolve(cleanup?.()).finally(() => resolve(code));
    };
    const onSignal = () => finish(0);
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    exitOnEpipe(() => finish(0));
    cleanup = start(finish);
    if (done) void cleanup();
  });
}

/** Events to stdout (a line for a person, or the record as NDJSON), dropped and counted when stdout stalls. */
export class EventOutput {
  private dropped = 0;

  constructor(private readonly json: boolean) {}

  /** `agent`: the agent it came from, for a hub's events (first on the line; after `type` in the record). */
  write(event: LiveEvent, agent?: string): void {
    if (process.stdout.writableLength > MAX_PENDING_OUTPUT) {
      this.dropped++;
      return;
    }
    if (this.json) {
      if (event.missed > 0) process.stderr.write(`loopy: the agent dropped ${event.missed} ${event.topic} events for this slow client\n`);
      const record = agent === undefined ? event.record : withAgent(agent, event.record);
      process.stdout.write(`${JSON.stringify(record)}\n`);
    } else {
      process.stdout.write(`${agent === undefined ? '' : `${agent}  `}${describeEvent(event)}\n`);
    }
  }

  /** Says how many events were dropped, if any. */
  end(): void {
    if (this.dropped > 0) process.stderr.write(`loopy: ${this.dropped} events dropped because stdout was not read fast enough\n`);
  }
}
