/**
 * A `loopy read` run (read.ts has its options): the pipeline over one capture file, its outputs, detection.
 * What only some runs need is loaded only by those: detection and its config's zod schemas (not with
 * --no-detect), the alert transports (a delivery target), the summary's text widths (no --json), the store (--zeek-logs),
 * the -w writer, the worker threads (--workers).
 */
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
import { applySeedOption } from './id-seed.js';
import type { AlertRecord, SummaryRecord, WeirdRecord } from '../analyze/records.js';
import { AlertCollector, renderAlertsSection } from '../detect/alerts-summary.js';
import type { AlertDelivery, DeliveryConfig } from '../detect/delivery/index.js';
import type { DetectionEngine } from '../detect/detection-engine.js';
import type { ZeekLogs } from '../store/zeek-logs.js';
import { parseRecordFormat, parseZeekFormat } from './output-options.js';
import type { ReadOptions } from './read.js';

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


/** Open flows ended between two waits for the output at the end of a file (~6 MB of conn lines). */
const FINISH_PART_FLOWS = 16_384;

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
  if (kept.timesMoved > 0) stderr.write(`loopy: -w ${path}: ${kept.timesMoved === 1 ? '1 packet' : `${kept.timesMoved} packets`} stamped before 1970 or after 2106, which a pcap cannot hold: written at the nearest time it can\n`);
}

/**
 * Detection for `loopy read`, from --detect-config, --evidence and --no-detect; bad settings are UsageErrors.
 * Loaded only when it runs (not with --no-detect, nor for --help), with zod: the defaults are what the
 * detectors' schemas give for {}, so they live in one place. The delivery transports (http, tls, sockets) are
 * loaded only when a config file names a target, and the evidence writer only with --evidence.
 */
async function setUpDetection(options: ReadOptions, onAlert: (alert: AlertRecord) => void, stderr: NodeJS.WritableStream): Promise<{ detection?: DetectionEngine; delivery?: AlertDelivery }> {
  if (options.detect === false) {
    if (options.evidence) throw new UsageError('--evidence needs detection: drop --no-detect');
    if (options.detectConfig) throw new UsageError('--detect-config needs detection: drop --no-detect');
    return {};
  }
  const [{ defaultDetectionConfig, loadDetectionConfig }, { DetectionEngine }, { textFileOnce }] = await Promise.all([
    import('../detect/config.js'), import('../detect/detection-engine.js'), import('../detect/text-file-source.js'),
  ]);
  try {
    const config = options.detectConfig ? loadDetectionConfig(options.detectConfig) : defaultDetectionConfig();
    // The defaults name no delivery target: only a config file can.
    const delivery = options.detectConfig ? await openDelivery(config.delivery, stderr) : undefined;
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
    if (code === 'LOOPY_BAD_DETECT_CONFIG' || code === 'LOOPY_BLOCKLIST' || code === 'LOOPY_BAD_LOCAL_NET') throw new UsageError((err as Error).message);
    throw err;
  }
}

/** The webhook and syslog targets a config names, or undefined (nothing of them loaded) when it names none. */
async function openDelivery(config: DeliveryConfig, stderr: NodeJS.WritableStream): Promise<AlertDelivery | undefined> {
  if (!(await import('../detect/delivery/config.js')).hasDeliveryTargets(config)) return undefined;
  const { AlertDelivery } = await import('../detect/delivery/index.js');
  return new AlertDelivery(config, {
    onGiveUp: (target, alert, error) => stderr.write(`loopy: alert ${alert.alert_id} (${alert.state}) not delivered to ${target}: ${error.message}\n`),
  });
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
