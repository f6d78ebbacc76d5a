/**
 * One more engine of an agent run with `--workers N` (engine-workers.ts), in a worker thread: its own capture
 * of the same interfaces, joined to the agent's PACKET_FANOUT groups so the kernel gives it its share of the
 * address pairs, and its own pipeline, per-second statistics, detection and process attribution. Everything
 * that leaves goes to the agent's thread: records in a batch after each packet batch, the second's counters
 * and statistics once a second. The agent's thread owns the outputs, the store, the clients and the alerts'
 * acknowledgement and delivery.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Pipeline } from '../analyze/pipeline.js';
import type { LoopyRecord } from '../analyze/records.js';
import { setIdSeed } from '../analyze/flows/uid.js';
import { defaultDetectionConfig, loadDetectionConfig } from '../detect/config.js';
import { DetectionEngine } from '../detect/detection-engine.js';
import { directoryEvidenceSink } from '../detect/evidence/file-sink.js';
import { SecondStats } from '../stats/second-stats.js';
import { releasePages, tryLoadCaptureAddon } from '../capture/live-addon.js';
import { settleBufferDetaching } from '../capture/buffer-detaching.js';
import { openCaptureSource } from './capture-source.js';
import type { AgentLogger } from './logger.js';
import { startProcessAttribution } from './agent-processes.js';
import type { EngineWorkerData, FromEngineWorker, ToEngineWorker } from './engine-workers.js';
import { type RecordRows, rowBuffers } from '../analyze/record-rows.js';

const port = parentPort!;
const data = workerData as EngineWorkerData;
const send = (message: FromEngineWorker, transfer?: ArrayBuffer[]) => port.postMessage(message, transfer ?? []);
setIdSeed(data.idSeed);
// This engine's records go to the agent's thread by transfer: pay the detach before its packet code compiles.
settleBufferDetaching();
// In `top -H` and /proc, an engine's thread rather than one more "node" (as the capture's is loopy-capture).
tryLoadCaptureAddon()?.nameThread?.(`loopy-engine-${data.index}`);

/** Log lines go to the agent's logger, tagged with this engine. */
const log: AgentLogger = Object.fromEntries(
  (['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const).map((level) => [level, (fields: object | string, message?: string) => {
    const [f, m] = typeof fields === 'string' ? [{}, fields] : [fields, message ?? ''];
    send({ kind: 'log', level, fields: { ...f, engine: data.index }, message: m });
  }]),
) as unknown as AgentLogger;

let source;
try {
  source = openCaptureSource({ ...data.capture, fanout: { shards: data.shards, groups: data.groups } });
} catch (err) {
  send({ kind: 'failed', message: (err as Error).message });
  process.exit(0);
}
const capture = source;
// Before it says it is open (the agent drops root once every engine has): this thread's permitted
// capabilities outlive the setuid, and are cut to attribution's at 'dropped'.
if (data.keepCapabilities) tryLoadCaptureAddon()?.keepCapabilities?.();

const pipeline = new Pipeline({ maxFlows: data.maxFlows, releaseFlowPages: releasePages });
let pending: Array<LoopyRecord | object> = [];
pipeline.observe({
  // Every closed flow goes to the agent's store, so each one leaves as a record.
  onConn: (conn) => pending.push(conn.record()),
  onRecord: (record) => {
    if (record.type !== 'summary') pending.push(record);
  },
});
const stats = new SecondStats(pipeline, { localNets: data.localNets, topN: data.topN, start: data.started });
const detection = data.detect === false ? undefined : new DetectionEngine({
  config: data.detectConfig ? loadDetectionConfig(data.detectConfig) : defaultDetectionConfig(),
  // The agent's thread acknowledges, stores, publishes and delivers it, as its own engine's alerts.
  onAlert: (alert) => pending.push(alert),
  evidence: directoryEvidenceSink(data.evidenceDir),
  releaseRingPages: releasePages,
});
detection?.attach(pipeline);
const attribution = data.attribute ? startProcessAttribution(pipeline, log) : undefined;
send({ kind: 'open', warnings: [...capture.warnings] });

const flush = () => {
  if (pending.length === 0) return;
  send({ kind: 'records', records: pending });
  pending = [];
};
const second = setInterval(() => {
  const now = Date.now() / 1000;
  pipeline.tick(now);
  // Its own member's counters: the agent adds every member's; the record's per-interface packets are this engine's.
  const record = stats.roll(now, { interfaces: capture.stats(), process: { cpuPercent: 0, rssBytes: 0 } });
  flush();
  send({ kind: 'second', counters: capture.stats(), stats: record });
}, 1000);

port.on('message', (message: ToEngineWorker) => {
  if (message.kind === 'stop') capture.close();
  else if (message.kind === 'filter') capture.setFilter?.(message.expression);
  else if (message.kind === 'suppress') detection?.suppress(message.rule);
  else if (message.kind === 'openFlows') answerOpenFlows(message.request, pipeline.engine.openConnRows(message.query));
  else if (message.kind === 'dropped') send({ kind: 'kept', ...keepOnly(message.keep) });
});

/** The rows are handed over, not copied. */
function answerOpenFlows(request: number, flows: RecordRows): void {
  send({ kind: 'openFlows', request, flows }, rowBuffers(flows));
}

/** After the agent's drop: this thread keeps exactly `keep` of what it is permitted (CAP_SETUID goes). */
function keepOnly(keep: number[]): { missing: number[]; error?: string } {
  try {
    const raise = tryLoadCaptureAddon()?.raiseKeptCapabilities;
    if (raise === undefined) return { missing: keep, error: 'the capture addon has no raiseKeptCapabilities (rebuild it: npm rebuild loopy-netmon)' };
    return { missing: raise(keep) };
  } catch (err) {
    return { missing: keep, error: (err as Error).message };
  }
}

try {
  await pipeline.run(capture, () => flush());
} catch (err) {
  send({ kind: 'failed', message: (err as Error).message });
}
clearInterval(second);
attribution?.stop();
pipeline.finish();
await detection?.close();
flush();
send({ kind: 'done', packets: pipeline.engine.packets, counters: capture.stats() });
port.close();
