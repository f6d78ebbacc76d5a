import type { Command } from 'commander';
import { PassiveNames } from '../analyze/passive-names.js';
import { Pipeline } from '../analyze/pipeline.js';
import { DEFAULT_MAX_FLOWS, FLOW_SLOTS } from '../analyze/flows/flow-table.js';
import { FilterError } from '../capture/bpf-filter.js';
import { openSync } from 'node:fs';
import { CaptureFileError, openCaptureFile } from '../capture/capture-file.js';
import type { KeptPacketsWriter } from '../capture/kept-packets-writer.js';
import { ReadReport, type ReadReportSnapshot } from '../stats/read-report.js';
import type { TrackedKeysReport } from '../detect/tracked-keys.js';
import { NdjsonWriter } from '../analyze/ndjson-writer.js';
import { parsePositiveInt, UsageError } from './errors.js';
import { applySeedOption, SEED_HELP } from './id-seed.js';
import { filterOf } from './trailing-filter.js';
import type { AlertRecord, SummaryRecord, WeirdRecord } from '../analyze/records.js';
import { AlertCollector, renderAlertsSection } from '../detect/alerts-summary.js';
import { DetectionConfigError, defaultDetectionConfig, loadDetectionConfig } from '../detect/config.js';
import type { AlertDelivery } from '../detect/delivery/index.js';
import { hasDeliveryTargets } from '../detect/delivery/config.js';
import { DetectionEngine } from '../detect/detection-engine.js';
import { textFileOnce } from '../detect/text-file-source.js';
import type { ZeekLogs } from '../store/zeek-logs.js';
import { parseRecordFormat, parseZeekFormat, RECORD_FORMAT_HELP, ZEEK_FORMAT_HELP, ZEEK_LOGS_HELP } from './output-options.js';

export interface ReadOptions {
  /** tcpdump's spelling: `loopy read -r FILE`. */
  read?: string;
  json?: boolean;
  filter?: string;
  maxFlows?: string;
  /** tcpdump's -c: stop after this many packets (of those the filter keeps). */
  count?: string;
  /** false with --no-detect. */
  detect?: boolean;
  detectConfig?: string;
  evidence?: string;
  seed?: string;
  /** tcpdump's -w: write the packets kept (after -f and -c) to this pcap file. */
  write?: string;
  /** `ndjson` (as --json) or `ecs`: records in the Elastic Common Schema. */
  format?: string;
  zeekLogs?: string;
  zeekFormat?: string;
  /** Engines in worker threads, each over the flows of one shard of the address pairs (default 1). */
  workers?: string;
}

/**
 * One engine of several (read-workers.ts): its shard of the packets, and the records every engine writes once
 * at the end (the counts of weirds without a flow, the summary) handed over instead of written, to be added up;
 * a flow's weirds are its engine's, written as they come.
 */
export interface ShardRun {
  shard: { index: number; count: number };
  /** --json: the counts of weirds without a flow and the summary, to be added up. */
  holdBack(record: WeirdRecord | SummaryRecord): void;
  /** The text summary: what this engine gathered, to be added up and rendered once. */
  handOver(part: SummaryPart): void;
}

/** One engine's share of the text summary (see ShardRun). */
export interface SummaryPart {
  report: ReadReportSnapshot;
  summary: SummaryRecord;
  /** The engine's passive DNS names (address, name). */
  names: Array<[string, string]>;
  detail?: string;
  alerts: AlertRecord[];
  detection?: { detectors: string[]; tables: TrackedKeysReport[] };
}

/** More engines than this only add threads fighting for the same cores and memory. */
export const MAX_READ_WORKERS = 64;

/** Open flows ended between two waits for the output at the end of a file (~6 MB of conn lines). */
const FINISH_PART_FLOWS = 16_384;

export function registerRead(program: Command): void {
  program
    .command('read')
    .description('analyse a pcap or pcapng file (or - for stdin): a summary, or NDJSON records with --json')
    .argument('[file]', 'capture file, or - to read standard input')
    .argument('[expression...]', 'a filter as tcpdump takes it, in trailing words (loopy read F tcp port 80): the same as -f')
    .option('-r, --read <file>', 'the capture file, as tcpdump -r takes it (- for standard input)')
    .option('--json', 'write NDJSON records (conn, dns, tls, http, alert, weird, summary) instead of the summary')
    .option('-f, --filter <expr>', 'tcpdump-syntax capture filter: keep only the packets it matches')
    .option('-c, --count <n>', 'stop after this many packets (those the filter keeps), as tcpdump -c does')
    .option('-w, --write <file>', 'also write the packets kept (after the filter and -c) to this pcap file, as tcpdump -w does')
    .option('--max-flows <n>', 'flow table size; the least recently active flow is evicted past it', String(DEFAULT_MAX_FLOWS))
    .option('--no-detect', 'skip detection (no alert records, no Alerts section)')
    .option('--detect-config <file>', 'detection settings (JSON): thresholds, allow-lists, suppressions, blocklist, delivery')
    .option('--evidence <dir>', 'write a pcap of the packets around each alert into this directory')
    .option('--seed <n>', SEED_HELP)
    .option('--format <format>', RECORD_FORMAT_HELP)
    .option('--zeek-logs <dir>', ZEEK_LOGS_HELP)
    .option('--zeek-format <format>', ZEEK_FORMAT_HELP, 'tsv')
    .option('--workers <n>', 'engines in parallel threads, each over a share of the address pairs (default 1)', '1')
    .action(async (file: string | undefined, words: string[], options: ReadOptions) => {
      // With -r, every word is the filter's, as with tcpdump -r FILE tcp port 80.
      const expression = options.read !== undefined && file !== undefined ? [file, ...words] : words;
      const source = options.read ?? file;
      if (source === undefined) throw new UsageError('read needs a capture file: loopy read FILE (or -r FILE, or - for standard input)');
      options.filter = filterOf(options.filter, expression);
      const workers = parsePositiveInt(options.workers ?? '1', '--workers', MAX_READ_WORKERS);
      process.exitCode = workers > 1
        ? await (await import('./read-workers.js')).runShardedRead(source, options, workers, process.stdout, process.stderr)
        : await runRead(source, options, process.stdout, process.stderr);
      // Done before the input is (-c): a pipe still open (tcpdump -w -) would keep loopy waiting for it.
      if (source === '-') process.stdin.destroy();
    });
}

/** Runs `loopy read`; returns the exit status (0, or 1 when the file is damaged or unreadable). */
export async function runRead(file: string, options: ReadOptions, stdout: NodeJS.WritableStream, stderr: NodeJS.WritableStream, shardRun?: ShardRun): Promise<number> {
  const shard = shardRun?.shard;
  // The flow table's memory is shared out: N engines hold what one would.
  const maxFlows = Math.ceil(parsePositiveInt(options.maxFlows ?? String(DEFAULT_MAX_FLOWS), '--max-flows', FLOW_SLOTS) / (shard?.count ?? 1));
  const packetLimit = options.count === undefined ? undefined : parsePositiveInt(options.count, '-c');
  applySeedOption(options.seed);
  if (shard !== undefined) (await import('./read-workers.js')).applyShardSeed(shard.index);
  const kept = options.write === undefined ? undefined : await openKeptWriter(options.write, stderr);
  if (kept === null) return 1;
  const capture = openCaptureFile(file);
  const pipeline = new Pipeline({ maxFlows, packetLimit, shard, filter: options.filter, filterOptions: () => ({ bigEndian: capture.info()?.bigEndian }) });
  const format = parseRecordFormat(options.format);
  const json = options.json === true || format !== undefined;
  const zeekLogs = await openZeekLogs(options, stderr);
  if (zeekLogs === null) return 1;
  const writer = json ? new NdjsonWriter(stdout as NodeJS.WritableStream & import('node:stream').Writable, undefined, format) : undefined;
  const report = json ? undefined : new ReadReport();
  const names = new PassiveNames();
  if (report) pipeline.observe(names);
  const alerts = new AlertCollector();
  if (kept) pipeline.observe({ onBatch: (batch, keep) => kept.write(batch, keep) });
  if (zeekLogs) pipeline.observe({ onConn: (c) => zeekLogs.write(c.record()), onRecord: (r) => zeekLogs.write(r) });
  // The outputs first, detection after them: an alert goes out after the record that raised it.
  pipeline.observe(
    writer
      ? { onConn: (c) => writer.writeConn(c), onRecord: (r) => (shardRun !== undefined && (r.type === 'summary' || (r.type === 'weird' && r.uid === undefined)) ? shardRun.holdBack(r as WeirdRecord | SummaryRecord) : writer.write(r)) }
      : { onConn: (c) => report!.addFlow(c), onRecord: (r) => (r.type === 'alert' ? alerts.add(r as AlertRecord) : report!.add(r)) },
  );
  const { detection, delivery } = await setUpDetection(options, (alert) => {
    pipeline.emit(alert);
    delivery?.deliver(alert);
  }, stderr);
  detection?.attach(pipeline);
  let failure: CaptureFileError | undefined;
  try {
    await pipeline.run(capture, async () => {
      await kept?.drain();
      zeekLogs?.flush();
      if (!writer) return true;
      await writer.drain();
      return !writer.isClosed;
    });
  } catch (err) {
    // Compiled for the file's link type when its first batch shows it, as tcpdump does: a bad one is wrong usage.
    if (err instanceof FilterError) throw new UsageError(err.message);
    if (!(err instanceof CaptureFileError)) throw err;
    failure = err;
  }
  if (failure && pipeline.engine.packets === 0 && failure.code === 'LOOPY_FILE_UNREADABLE') {
    stderr.write(`loopy: ${failure.message}\n`);
    return 1;
  }
  // The flows still open, a part at a time, the output written between parts (see Pipeline.finishFlows).
  while (!pipeline.finishFlows(FINISH_PART_FLOWS)) {
    zeekLogs?.flush();
    await writer?.drain();
    await new Promise((resolve) => setImmediate(resolve));
  }
  pipeline.finish();
  if (kept) await closeKeptWriter(kept, options.write!, stderr);
  await detection?.close();
  await delivery?.close();
  zeekLogs?.close();
  for (const f of detection?.evidence?.failures ?? []) stderr.write(`loopy: evidence ${f.path} not written: ${f.error.message}\n`);
  const ran = detection ? { detectors: [...detection.detectors], tables: detection.stateReport() } : undefined;
  if (writer) await writer.end();
  else if (shardRun !== undefined) {
    shardRun.handOver({ report: report!.snapshot(), summary: report!.summary!, names: names.entries(), detail: capture.info()?.detail, alerts: alerts.incidents(), detection: ran });
  } else await writeReadSummary(stdout, file, capture.info()?.detail, report!, alerts, ran, (address) => names.nameOf(address));
  if (failure) {
    stderr.write(`loopy: ${failure.message}\n`);
    return 1;
  }
  return 0;
}

/** The --zeek-logs directory, made before the run; null (the line written) when it cannot be. */
async function openZeekLogs(options: ReadOptions, stderr: NodeJS.WritableStream): Promise<ZeekLogs | undefined | null> {
  const format = parseZeekFormat(options.zeekFormat);
  if (options.zeekLogs === undefined) return undefined;
  const { ZeekLogs } = await import('../store/zeek-logs.js');
  try {
    return new ZeekLogs({ dir: options.zeekLogs, format });
  } catch (err) {
    stderr.write(`loopy: ${(err as Error).message}\n`);
    return null;
  }
}

/** The -w file, open before the run; null (the line written) when it cannot be, as tcpdump exits 1 then. */
async function openKeptWriter(path: string, stderr: NodeJS.WritableStream): Promise<KeptPacketsWriter | null> {
  if (path === '-') throw new UsageError("-w - would mix the pcap with loopy's output on standard output: give a file name");
  const { KeptPacketsWriter } = await import('../capture/kept-packets-writer.js');
  try {
    return new KeptPacketsWriter(openSync(path, 'w', 0o644));
  } catch (err) {
    stderr.write(`loopy: -w ${path}: cannot write it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): choose a file in a directory you can write\n`);
    return null;
  }
}

async function closeKeptWriter(kept: KeptPacketsWriter, path: string, stderr: NodeJS.WritableStream): Promise<void> {
  await kept.close();
  if (kept.otherLinkType > 0) stderr.write(`loopy: -w ${path}: ${kept.otherLinkType} packets left out: their link type is not the first packet's, and a pcap holds one\n`);
}

/**
 * Detection for `loopy read`, from --detect-config, --evidence and --no-detect; bad settings are UsageErrors.
 * The delivery transports (http, tls, sockets) and the evidence writer are loaded only when asked for.
 */
async function setUpDetection(options: ReadOptions, onAlert: (alert: AlertRecord) => void, stderr: NodeJS.WritableStream): Promise<{ detection?: DetectionEngine; delivery?: AlertDelivery }> {
  if (options.detect === false) {
    if (options.evidence) throw new UsageError('--evidence needs detection: drop --no-detect');
    if (options.detectConfig) throw new UsageError('--detect-config needs detection: drop --no-detect');
    return {};
  }
  try {
    const config = options.detectConfig ? loadDetectionConfig(options.detectConfig) : defaultDetectionConfig();
    const delivery = hasDeliveryTargets(config.delivery)
      ? new (await import('../detect/delivery/index.js')).AlertDelivery(config.delivery, {
        onGiveUp: (target, alert, error) => stderr.write(`loopy: alert ${alert.alert_id} (${alert.state}) not delivered to ${target}: ${error.message}\n`),
      })
      : undefined;
    const detection = new DetectionEngine({
      config,
      onAlert,
      evidence: options.evidence ? (await import('../detect/evidence/file-sink.js')).directoryEvidenceSink(options.evidence) : undefined,
      // A file is read once: its blocklist does not change while it is being read.
      deps: { blocklistSource: textFileOnce },
      fromFile: true,
    });
    return { detection, delivery };
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (err instanceof DetectionConfigError || code === 'LOOPY_BLOCKLIST' || code === 'LOOPY_BAD_LOCAL_NET') throw new UsageError((err as Error).message);
    throw err;
  }
}

/** The text summary, with the Alerts section when detection ran; its text-width helpers loaded only here. */
export async function writeReadSummary(
  stdout: NodeJS.WritableStream, file: string, detail: string | undefined, report: ReadReport, alerts: AlertCollector,
  detection: { detectors: readonly string[]; tables: readonly TrackedKeysReport[] } | undefined,
  nameOf: (address: string) => string | undefined,
): Promise<void> {
  const { renderReadSummary } = await import('./read-summary.js');
  const summary = renderReadSummary(file, detail, report, 80, nameOf);
  stdout.write(detection ? withSection(summary, renderAlertsSection(alerts.incidents(), detection.detectors, 80, detection.tables)) : summary);
}

/** Puts a section after the summary's heading lines (the first paragraph): what matters most comes first. */
function withSection(summary: string, section: string[], width = 80): string {
  const cut = summary.indexOf('\n\n');
  const lines = section.map((l) => (l.length > width ? `${l.slice(0, width - 1)}…` : l)).join('\n');
  if (cut < 0) return `${summary.trimEnd()}\n\n${lines}\n`;
  return `${summary.slice(0, cut)}\n\n${lines}${summary.slice(cut)}`;
}
