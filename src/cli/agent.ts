import { DEFAULT_MAX_FLOWS } from '../analyze/flows/flow-table.js';
import type { Command } from 'commander';
import { type AgentConfig, ConfigError, DEFAULT_CONFIG_PATH, DEFAULT_DATA_DIR, loadAgentConfig, MAX_SNAPLEN, resolveAgentSettings, validateAgentConfig } from '../serve/config.js';
import { createAgentLogger, LogFileError } from '../serve/logger.js';
import type { RunningAgent } from '../serve/agent.js';
import { formatAgentStatus, readAgentStatus } from '../serve/status.js';
import { applySeedOption, SEED_HELP } from './id-seed.js';
import { filterOf } from './trailing-filter.js';
import { RECORD_FORMAT_HELP, ZEEK_FORMAT_HELP, ZEEK_LOGS_HELP } from './output-options.js';

export interface AgentCliOptions {
  interface?: string[];
  filter?: string;
  snaplen?: string;
  buffer?: string;
  promisc?: boolean;
  user?: string;
  config?: string;
  data?: string;
  log?: string;
  logLevel?: string;
  statsOut?: string;
  statsOutMax?: string;
  detect?: boolean;
  detectConfig?: string;
  evidence?: string;
  stdout?: boolean;
  format?: string;
  zeekLogs?: string;
  zeekFormat?: string;
  read?: string;
  speed?: string;
  max?: boolean;
  loop?: boolean;
  stay?: boolean;
  maxFlows?: string;
  workers?: string;
  localNet?: string[];
  topN?: string;
  status?: boolean;
  json?: boolean;
  listen?: string[];
  metrics?: string;
  tlsCert?: string;
  tlsKey?: string;
  name?: string;
  hub?: string;
  hubCreds?: string;
  hubUser?: string;
  hubCa?: string;
  hubCert?: string;
  hubKey?: string;
  seed?: string;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function registerAgent(program: Command): void {
  program
    .command('agent')
    .description('capture continuously (live interfaces, or a file replayed as if live): records, per-second stats, health')
    .option('-i, --interface <name>', 'capture on this interface (repeat for several; "any" for all)', collect)
    .option('-f, --filter <expr>', 'tcpdump-syntax filter, applied in the kernel')
    .argument('[expression...]', 'a filter as tcpdump takes it, in trailing words (loopy agent -i eth0 tcp port 80): the same as -f')
    .option('-s, --snaplen <n>', 'bytes kept of each packet, as tcpdump -s (default and 0: 262144)')
    .option('--buffer <MiB>', 'kernel ring per interface in MiB (default 32)')
    .option('--promisc', 'put the interfaces in promiscuous mode')
    .option('--user <name>', 'started as root: become this user once capture is open (default loopy, else nobody)')
    .option('--config <file>', `JSON config file; every option can be set there (default ${DEFAULT_CONFIG_PATH})`)
    .option('--data <dir>', `state directory: status.json (default ${DEFAULT_DATA_DIR})`)
    .option('--log <file>', 'JSON log lines to this file (default stderr)')
    .option('--log-level <level>', 'fatal, error, warn, info (default), debug or trace')
    .option('--stats-out <file>', 'append NDJSON records and per-second stats to this file')
    .option('--stats-out-max <MiB>', 'past this size --stats-out is moved to FILE.1 and begun again (default 1024)')
    .option('--stdout', 'write NDJSON records and per-second stats to standard output')
    .option('--format <format>', `how --stdout and --stats-out write records: ${RECORD_FORMAT_HELP}`)
    .option('--zeek-logs <dir>', `${ZEEK_LOGS_HELP}; rotated hourly as conn.YYYY-MM-DD-HH-MM-SS.log`)
    .option('--zeek-format <format>', ZEEK_FORMAT_HELP)
    .option('-r, --read <file>', 'replay this pcap/pcapng file as if it were live')
    .option('--speed <x>', 'replay speed factor (default 1: real time)')
    .option('--max', 'replay as fast as possible')
    .option('--loop', 'replay the file again and again')
    .option('--no-detect', 'run no detection (no alerts)')
    .option('--detect-config <file>', 'detection settings (JSON): thresholds, allow-lists, suppressions, blocklist, delivery')
    .option('--evidence <dir>', 'write the pcap of the packets around each alert into this directory (default DATA/evidence)')
    .option('--stay', 'after a replay ends, keep serving its history to clients until stopped')
    .option('--max-flows <n>', `flow table size; the least recently active flow is evicted past it (default ${DEFAULT_MAX_FLOWS})`)
    .option('--workers <n>', 'engines sharing the live capture by address pair, one thread each (PACKET_FANOUT; default 1)')
    .option('--local-net <cidr>', 'a network that counts as local for in/out (repeat; default private ranges)', collect)
    .option('--top-n <n>', 'top talkers per stats record (default 10)')
    .option('--listen <spec>', 'serve clients on unix:PATH or tls://HOST:PORT (repeat; default unix:/run/loopy/agent.sock as root, else DATA/agent.sock)', collect)
    .option('--metrics <host:port>', 'Prometheus metrics over HTTP (a bare port: on 127.0.0.1)')
    .option('--tls-cert <file>', 'PEM certificate for tls:// listeners (default: self-signed, generated in DATA)')
    .option('--tls-key <file>', 'PEM private key for --tls-cert')
    .option('--name <name>', 'the name clients show for this agent (default the host name)')
    .option('--hub <url>', 'dial out to this NATS hub, nats://HOST[:PORT]: announce, publish, answer requests there (no port opened)')
    .option('--hub-creds <file>', 'NATS credentials file (.creds) for the hub')
    .option('--hub-user <name>', 'NATS user for the hub (password: the config\'s "hubPassword" or $LOOPY_HUB_PASSWORD)')
    .option('--hub-ca <file>', 'PEM CA of the hub\'s TLS certificate (the hub link then uses TLS)')
    .option('--hub-cert <file>', 'PEM client certificate for the hub (with --hub-key)')
    .option('--hub-key <file>', 'PEM private key of --hub-cert')
    .option('--seed <n>', SEED_HELP)
    .option('--status', 'print the health of the running agent (from --data DIR) and exit')
    .option('--json', 'with --status: the status as JSON')
    .action(async (words: string[], options: AgentCliOptions) => {
      options.filter = filterOf(options.filter, words);
      process.exitCode = options.status ? printStatus(options) : await runAgentCommand(options);
    });
}

/** A numeric flag as a number when it is one, else as given, so the schema's message quotes it. */
function numeric(text: string | undefined): number | string | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  return text.trim() !== '' && Number.isFinite(n) ? n : text;
}

function flagsAsConfig(o: AgentCliOptions): AgentConfig {
  const raw = {
    interfaces: o.interface,
    filter: o.filter,
    // tcpdump's -s 0: the whole packet.
    snaplen: o.snaplen?.trim() === '0' ? MAX_SNAPLEN : numeric(o.snaplen),
    buffer: numeric(o.buffer),
    promisc: o.promisc,
    user: o.user,
    data: o.data,
    log: o.log,
    logLevel: o.logLevel,
    statsOut: o.statsOut,
    statsOutMaxMiB: numeric(o.statsOutMax),
    detect: o.detect === false ? false : undefined,
    detectConfig: o.detectConfig,
    evidence: o.evidence,
    stdout: o.stdout,
    format: o.format,
    zeekLogs: o.zeekLogs,
    zeekFormat: o.zeekFormat,
    read: o.read,
    speed: numeric(o.speed),
    max: o.max,
    loop: o.loop,
    stay: o.stay,
    maxFlows: numeric(o.maxFlows),
    workers: numeric(o.workers),
    localNets: o.localNet,
    topN: numeric(o.topN),
    listen: o.listen,
    metrics: o.metrics,
    tlsCert: o.tlsCert,
    tlsKey: o.tlsKey,
    name: o.name,
    hub: o.hub,
    hubCreds: o.hubCreds,
    hubUser: o.hubUser,
    hubCa: o.hubCa,
    hubCert: o.hubCert,
    hubKey: o.hubKey,
  };
  for (const key of Object.keys(raw) as Array<keyof typeof raw>) if (raw[key] === undefined) delete raw[key];
  return validateAgentConfig(raw, 'command line');
}

function printStatus(options: AgentCliOptions): number {
  let dataDir = options.data;
  try {
    dataDir ??= loadAgentConfig(options.config).data;
  } catch (err) {
    process.stderr.write(`loopy: ${(err as Error).message}\n`);
    return 2;
  }
  const now = Date.now() / 1000;
  const reading = readAgentStatus(dataDir ?? DEFAULT_DATA_DIR, now);
  if (options.json) {
    const out = reading.ok ? { running: true, ...reading.status } : { running: false, reason: reading.reason, last: reading.status ?? null };
    process.stdout.write(`${JSON.stringify(out)}\n`);
  } else if (reading.ok) {
    process.stdout.write(formatAgentStatus(reading.status, now));
  } else {
    process.stderr.write(`loopy: ${reading.reason}\n`);
  }
  return reading.ok ? 0 : 1;
}

async function runAgentCommand(options: AgentCliOptions): Promise<number> {
  applySeedOption(options.seed);
  let settings;
  try {
    const flags = flagsAsConfig(options);
    settings = resolveAgentSettings(loadAgentConfig(options.config), flags);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`loopy: ${err.message}\n`);
    return 2;
  }
  let logger;
  let reopenLog: (() => void) | undefined;
  try {
    logger = createAgentLogger({ file: settings.logFile, level: settings.logLevel, onReopen: (reopen) => (reopenLog = reopen) });
  } catch (err) {
    if (!(err instanceof LogFileError)) throw err;
    process.stderr.write(`loopy: ${err.message}\n`);
    return 1;
  }
  let agent: RunningAgent;
  try {
    // Loaded here, not at the top: `loopy read` and `--status` need none of the runtime.
    const { runAgent } = await import('../serve/agent.js');
    agent = await runAgent(settings, { logger });
  } catch (err) {
    const e = err as Error & { code?: string };
    if (typeof e.code !== 'string' || !e.code.startsWith('LOOPY_')) throw err;
    // One plain line for whoever started it; the log file (if any) keeps the record too.
    if (settings.logFile) logger.error({ code: e.code }, e.message);
    process.stderr.write(`loopy: ${e.message}\n`);
    return e.code === 'LOOPY_BAD_FILTER' || e.code === 'LOOPY_CONFIG' ? 2 : 1;
  }
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    // A second signal while flushing: the operator insists.
    if (++signals > 1) process.exit(130);
    agent.stop(`received ${signal}`);
  };
  // SIGHUP, as logrotate's postrotate (and systemctl reload) sends it: new files of the same names, after a
  // move; the detection config reread.
  const onHangup = () => {
    let ok = agent.reopenOutputs();
    try {
      reopenLog?.();
    } catch (err) {
      ok = false;
      logger.warn({ err: (err as Error).message }, 'cannot reopen the log file: writing on to the one open');
    }
    if (ok) logger.info({ log: settings.logFile, statsOut: settings.statsOut }, 'SIGHUP: reopened the log and output files');
    agent.reloadDetection();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onHangup);
  const exit = await agent.done;
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  process.off('SIGHUP', onHangup);
  if (exit.code !== 0) process.stderr.write(`loopy: ${exit.reason}\n`);
  // Everything is flushed; do not let a lingering handle keep a stopped agent alive.
  setTimeout(() => process.exit(exit.code), 2000).unref();
  return exit.code;
}
