/**
 * `loopy watch TARGET`: live events until interrupted. With --json each event is its record as one NDJSON
 * line (type first, as `loopy read --json` writes them), so `| jq` works; without, a short line per event.
 * Reconnects by itself (connection news on stderr); stops on Ctrl-C, on a closed pipe (`| head`), or on a
 * failure retrying cannot cure (changed certificate, wrong token).
 */
import type { Command } from 'commander';
import { type ConnectionState, type LiveEvent, TOPICS, type Topic } from '../client/agent-client.js';
import { connectAgent } from '../client/connect-agent.js';
import { type AgentTargetOptions, addAgentTargetOptions, asUsage, connectOptionsFrom, exitOnEpipe } from './agent-target-options.js';
import { UsageError } from './errors.js';

/** Past this much unwritten output (a reader that stalls) events are dropped and counted, not buffered. */
const MAX_PENDING_OUTPUT = 8 * 1024 * 1024;

interface WatchCliOptions extends AgentTargetOptions {
  topics: string;
  json?: boolean;
}

export function registerWatch(program: Command): void {
  const command = program
    .command('watch')
    .description('live events from an agent until interrupted: NDJSON with --json (pipe it to jq)')
    .argument('<target>', 'unix:PATH, tls://HOST:PORT, ssh://[USER@]HOST[:PORT] or a name from ~/.config/loopy/config.json')
    .option('--topics <list>', `comma-separated: ${TOPICS.join(',')}`, TOPICS.join(','))
    .option('--json', 'one NDJSON record per event');
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

const hhmmss = (ts: unknown) => (typeof ts === 'number' ? new Date(ts * 1000).toTimeString().slice(0, 8) : '--:--:--');
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
  const client = asUsage(() => connectAgent(target, connectOptionsFrom(o, 'loopy-watch')));
  let dropped = 0;
  return new Promise<number>((resolve) => {
    let done = false;
    const finish = (code: number) => {
      if (done) return;
      done = true;
      client.close();
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      if (dropped > 0) process.stderr.write(`loopy: ${dropped} events dropped because stdout was not read fast enough\n`);
      resolve(code);
    };
    const onSignal = () => finish(0);
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    exitOnEpipe(() => finish(0));
    client.onStateChange((s) => {
      const line = describeState(target, s);
      if (line) process.stderr.write(`${line}\n`);
      if (s.state === 'disconnected' && s.retryInMs < 0) {
        process.stderr.write(`loopy: ${s.error}\n`);
        finish(1);
      }
    });
    client.subscribe(topics, (event) => {
      if (done) return;
      if (process.stdout.writableLength > MAX_PENDING_OUTPUT) {
        dropped++;
        return;
      }
      if (o.json) {
        if (event.missed > 0) process.stderr.write(`loopy: the agent dropped ${event.missed} ${event.topic} events for this slow client\n`);
        process.stdout.write(`${JSON.stringify(event.record)}\n`);
      } else {
        process.stdout.write(`${describeEvent(event)}\n`);
      }
    });
  });
}
