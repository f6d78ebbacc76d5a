import type { Command } from 'commander';
import { Pipeline } from '../analyze/pipeline.js';
import { FLOW_SLOTS } from '../analyze/flows/flow-table.js';
import { FilterError } from '../capture/bpf-filter.js';
import { CaptureFileError, openCaptureFile } from '../capture/capture-file.js';
import { ReadReport } from '../stats/read-report.js';
import { NdjsonWriter } from '../analyze/ndjson-writer.js';
import { renderReadSummary } from './read-summary.js';
import { parsePositiveInt, UsageError } from './errors.js';
import { applySeedOption, SEED_HELP } from './id-seed.js';
import type { AlertRecord } from '../analyze/records.js';
import { AlertCollector, renderAlertsSection } from '../detect/alerts-summary.js';
import { DetectionConfigError, defaultDetectionConfig, loadDetectionConfig } from '../detect/config.js';
import { AlertDelivery } from '../detect/delivery/index.js';
import { DetectionEngine } from '../detect/detection-engine.js';
import { directoryEvidenceSink } from '../detect/evidence/file-sink.js';
import { textFileOnce } from '../detect/text-file-source.js';

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
}

export function registerRead(program: Command): void {
  program
    .command('read')
    .description('analyse a pcap or pcapng file (or - for stdin): a summary, or NDJSON records with --json')
    .argument('[file]', 'capture file, or - to read standard input')
    .option('-r, --read <file>', 'the capture file, as tcpdump -r takes it (- for standard input)')
    .option('--json', 'write NDJSON records (conn, dns, tls, http, alert, weird, summary) instead of the summary')
    .option('-f, --filter <expr>', 'tcpdump-syntax capture filter: keep only the packets it matches')
    .option('-c, --count <n>', 'stop after this many packets (those the filter keeps), as tcpdump -c does')
    .option('--max-flows <n>', 'flow table size; the least recently active flow is evicted past it', '262144')
    .option('--no-detect', 'skip detection (no alert records, no Alerts section)')
    .option('--detect-config <file>', 'detection settings (JSON): thresholds, allow-lists, suppressions, blocklist, delivery')
    .option('--evidence <dir>', 'write a pcap of the packets around each alert into this directory')
    .option('--seed <n>', SEED_HELP)
    .action(async (file: string | undefined, options: ReadOptions) => {
      const source = file ?? options.read;
      if (source === undefined) throw new UsageError('read needs a capture file: loopy read FILE (or -r FILE, or - for standard input)');
      if (file !== undefined && options.read !== undefined) throw new UsageError(`read takes one capture file, not both ${file} and -r ${options.read}`);
      process.exitCode = await runRead(source, options, process.stdout, process.stderr);
      // Done before the input is (-c): a pipe still open (tcpdump -w -) would keep loopy waiting for it.
      if (source === '-') process.stdin.destroy();
    });
}

/** Runs `loopy read`; returns the exit status (0, or 1 when the file is damaged or unreadable). */
export async function runRead(file: string, options: ReadOptions, stdout: NodeJS.WritableStream, stderr: NodeJS.WritableStream): Promise<number> {
  const maxFlows = parsePositiveInt(options.maxFlows ?? '262144', '--max-flows', FLOW_SLOTS);
  const packetLimit = options.count === undefined ? undefined : parsePositiveInt(options.count, '-c');
  applySeedOption(options.seed);
  const capture = openCaptureFile(file);
  const pipeline = new Pipeline({ maxFlows, packetLimit, filter: options.filter, filterOptions: () => ({ bigEndian: capture.info()?.bigEndian }) });
  const writer = options.json ? new NdjsonWriter(stdout as NodeJS.WritableStream & import('node:stream').Writable) : undefined;
  const report = options.json ? undefined : new ReadReport();
  const alerts = new AlertCollector();
  // The outputs first, detection after them: an alert goes out after the record that raised it.
  pipeline.observe(
    writer
      ? { onConn: (c) => writer.writeConn(c), onRecord: (r) => writer.write(r) }
      : { onRecord: (r) => (r.type === 'alert' ? alerts.add(r as AlertRecord) : report!.add(r)) },
  );
  const { detection, delivery } = setUpDetection(options, (alert) => {
    pipeline.emit(alert);
    delivery?.deliver(alert);
  }, stderr);
  detection?.attach(pipeline);
  let failure: CaptureFileError | undefined;
  try {
    await pipeline.run(capture, async () => {
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
  pipeline.finish();
  await detection?.close();
  await delivery?.close();
  for (const f of detection?.evidence?.failures ?? []) stderr.write(`loopy: evidence ${f.path} not written: ${f.error.message}\n`);
  if (writer) await writer.end();
  else {
    const summary = renderReadSummary(file, capture.info()?.detail, report!);
    stdout.write(detection ? withSection(summary, renderAlertsSection(alerts.incidents(), detection.detectors, 80, detection.stateReport())) : summary);
  }
  if (failure) {
    stderr.write(`loopy: ${failure.message}\n`);
    return 1;
  }
  return 0;
}

/** Detection for `loopy read`, from --detect-config, --evidence and --no-detect; bad settings are UsageErrors. */
function setUpDetection(options: ReadOptions, onAlert: (alert: AlertRecord) => void, stderr: NodeJS.WritableStream): { detection?: DetectionEngine; delivery?: AlertDelivery } {
  if (options.detect === false) {
    if (options.evidence) throw new UsageError('--evidence needs detection: drop --no-detect');
    if (options.detectConfig) throw new UsageError('--detect-config needs detection: drop --no-detect');
    return {};
  }
  try {
    const config = options.detectConfig ? loadDetectionConfig(options.detectConfig) : defaultDetectionConfig();
    const delivery = new AlertDelivery(config.delivery, {
      onGiveUp: (target, alert, error) => stderr.write(`loopy: alert ${alert.alert_id} (${alert.state}) not delivered to ${target}: ${error.message}\n`),
    });
    const detection = new DetectionEngine({
      config,
      onAlert,
      evidence: options.evidence ? directoryEvidenceSink(options.evidence) : undefined,
      // A file is read once: its blocklist does not change while it is being read.
      deps: { blocklistSource: textFileOnce },
    });
    return { detection, delivery: delivery.enabled ? delivery : undefined };
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (err instanceof DetectionConfigError || code === 'LOOPY_BLOCKLIST' || code === 'LOOPY_BAD_LOCAL_NET') throw new UsageError((err as Error).message);
    throw err;
  }
}

/** Puts a section after the summary's heading lines (the first paragraph): what matters most comes first. */
function withSection(summary: string, section: string[], width = 80): string {
  const cut = summary.indexOf('\n\n');
  const lines = section.map((l) => (l.length > width ? `${l.slice(0, width - 1)}…` : l)).join('\n');
  if (cut < 0) return `${summary.trimEnd()}\n\n${lines}\n`;
  return `${summary.slice(0, cut)}\n\n${lines}${summary.slice(cut)}`;
}
