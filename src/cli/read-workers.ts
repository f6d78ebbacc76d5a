/**
 * `loopy read FILE [--json] --workers N`: N engines in worker threads, each reading the whole file and keeping
 * the packets of its shard of the address pairs (decode/pair-shard.ts), so every flow, and every pair's
 * conversation, is in exactly one engine. Each engine writes its NDJSON to standard output itself, a chunk of
 * whole lines at a time under a shared lock (locked-output.ts), so records are not in time order across
 * engines; the weird counts and the summary that each engine writes at the end are added up here and written
 * once, last, as one engine would.
 * Without --json, each engine hands over what its report gathered (ReadReport.snapshot) and the text summary is
 * rendered here from their sum.
 *
 * What differs from one engine: detectors that count across pairs (a sweep of many hosts, a flood from many
 * spoofed sources) see each engine's share only. Each engine gets its own uids (its seed is derived from the
 * process's and its index), so `--seed` still gives the same ids for the same N.
 */
import { Worker } from 'node:worker_threads';
import { idSeed, idSeedFrom, setIdSeed } from '../analyze/flows/uid.js';
import { mergeSummaries, mergeWeirds } from '../analyze/summaries.js';
import type { SummaryRecord, WeirdRecord } from '../analyze/records.js';
import { NdjsonWriter } from '../analyze/ndjson-writer.js';
import type { Writable } from 'node:stream';
import { UsageError } from './errors.js';
import { parseRecordFormat } from './output-options.js';
import type { ReadOptions } from './read.js';
import { type SummaryPart, writeReadSummary } from './read-run.js';
import { ReadReport } from '../stats/read-report.js';
import { AlertCollector } from '../detect/alerts-summary.js';
import type { TrackedKeysReport } from '../detect/tracked-keys.js';
import { type SharedOutput, sharedOutput } from './locked-output.js';

const WORKER_URL = new URL(`./read-worker.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`, import.meta.url);

/** What the engine in a worker sends back besides its NDJSON. */
export type FromReadWorker =
  | { kind: 'held'; record: WeirdRecord | SummaryRecord }
  | { kind: 'part'; part: SummaryPart }
  | { kind: 'stderr'; line: string }
  | { kind: 'done'; code: number }
  | { kind: 'usage'; message: string }
  | { kind: 'failed'; message: string };

export interface ReadWorkerData {
  file: string;
  options: ReadOptions;
  shard: { index: number; count: number };
  /** Where the engine writes its NDJSON itself (a descriptor it shares); absent: its stdout, relayed here. */
  output?: SharedOutput;
}

/** This engine's ids: the process's seed (random, or --seed's) shifted by the engine's index. */
export function applyShardSeed(index: number): void {
  const base = idSeed();
  const shift = idSeedFrom(index + 1);
  setIdSeed(base.map((digit, i) => (digit + shift[i]) % 62));
}

/** Runs the engines; returns the exit status as `runRead` does (UsageError for wrong usage). */
export async function runShardedRead(file: string, options: ReadOptions, workers: number, stdout: NodeJS.WritableStream, stderr: NodeJS.WritableStream): Promise<number> {
  refuseWithWorkers(file, options);
  const held: Array<WeirdRecord | SummaryRecord> = [];
  const parts: SummaryPart[] = [];
  const lines = new Set<string>();
  let usage: string | undefined;
  const fd = (stdout as { fd?: unknown }).fd;
  const output = typeof fd === 'number' ? sharedOutput(fd) : undefined;
  const runs = Array.from({ length: workers }, (_, index) => runWorker({ file, options, shard: { index, count: workers }, output }, stdout, (message) => {
    if (message.kind === 'held') held.push(message.record);
    else if (message.kind === 'part') parts.push(message.part);
    else if (message.kind === 'stderr') lines.add(message.line);
    else if (message.kind === 'usage') usage ??= message.message;
  }));
  const codes = await Promise.all(runs);
  if (usage !== undefined) throw new UsageError(usage);
  const summaries = held.filter((r): r is SummaryRecord => r.type === 'summary');
  if (parts.length === workers) await writeMergedSummary(stdout, file, parts);
  else if (summaries.length === workers) {
    const writer = new NdjsonWriter(stdout as Writable, undefined, parseRecordFormat(options.format));
    for (const weird of mergeWeirds(held.filter((r): r is WeirdRecord => r.type === 'weird'))) writer.write(weird);
    writer.write(mergeSummaries(summaries));
    await writer.end();
  }
  // The same damage is met by every engine reading the file: said once.
  for (const line of lines) stderr.write(line);
  return Math.max(...codes);
}

/** The text summary of every engine's part, as one engine would have written it. */
async function writeMergedSummary(stdout: NodeJS.WritableStream, file: string, parts: readonly SummaryPart[]): Promise<void> {
  const report = new ReadReport();
  const alerts = new AlertCollector();
  for (const p of parts) {
    report.addAll(p.report);
    for (const a of p.alerts) alerts.add(a);
  }
  report.summary = mergeSummaries(parts.map((p) => p.summary));
  const ran = parts[0].detection;
  const detection = ran && { detectors: ran.detectors, tables: mergeTables(parts.flatMap((p) => p.detection?.tables ?? [])) };
  const names = new Map(parts.flatMap((p) => p.names));
  await writeReadSummary(stdout, file, parts[0].detail, report, alerts, detection, (address) => names.get(address));
}

/** Each detection table's figures added over the engines (one line per table, as with one engine). */
function mergeTables(tables: readonly TrackedKeysReport[]): TrackedKeysReport[] {
  const byName = new Map<string, TrackedKeysReport>();
  for (const t of tables) {
    const key = `${t.detector}/${t.table}`;
    const kept = byName.get(key);
    if (kept === undefined) byName.set(key, { ...t });
    else {
      kept.size += t.size;
      kept.capacity += t.capacity;
      kept.declined += t.declined;
      kept.evicted += t.evicted;
      if (t.items !== undefined) kept.items = (kept.items ?? 0) + t.items;
      if (t.itemLimit !== undefined) kept.itemLimit = (kept.itemLimit ?? 0) + t.itemLimit;
      if (t.itemsDeclined !== undefined) kept.itemsDeclined = (kept.itemsDeclined ?? 0) + t.itemsDeclined;
    }
  }
  return [...byName.values()];
}

/** What needs every packet in one engine, or reads the input once. */
function refuseWithWorkers(file: string, options: ReadOptions): void {
  if (options.zeekLogs !== undefined) throw new UsageError('--zeek-logs writes one set of logs from one engine: drop --workers, or --zeek-logs');
  if (file === '-') throw new UsageError('--workers reads the file once per engine: standard input cannot be read twice (give a file, or drop --workers)');
  if (options.count !== undefined) throw new UsageError('-c counts packets across every engine: drop --workers, or -c');
  if (options.write !== undefined) throw new UsageError('-w writes the kept packets in order from one engine: drop --workers, or -w');
}

/**
 * Each engine's young generation: 8 MB instead of V8's default (up to 48 MB a thread). Two engines on the
 * office mix peaked at 312 MB with the default, 230 MB with this (3 MB: 222 MB, and 4–7 % more CPU as more is
 * promoted); `loopy read` must stay under 300 MB on any input.
 */
const ENGINE_LIMITS = { maxYoungGenerationSizeMb: 8 };

/**
 * One engine: its NDJSON written by itself to the shared output, or else piped to `stdout` (whole chunks of
 * lines); its other messages to `onMessage`.
 */
function runWorker(data: ReadWorkerData, stdout: NodeJS.WritableStream, onMessage: (m: FromReadWorker) => void): Promise<number> {
  return new Promise((resolve, reject) => {
    const relayed = data.output === undefined;
    const worker = new Worker(WORKER_URL, { workerData: data, stdout: relayed, resourceLimits: ENGINE_LIMITS });
    let code: number | undefined;
    let failure: string | undefined;
    let outputEnded = !relayed;
    let exited = false;
    const settle = () => {
      if (!outputEnded || !exited) return;
      if (failure !== undefined) reject(new Error(failure));
      else resolve(code ?? 1);
    };
    if (relayed) {
      worker.stdout.pipe(stdout as Writable, { end: false });
      worker.stdout.on('end', () => {
        outputEnded = true;
        settle();
      });
    }
    worker.on('message', (message: FromReadWorker) => {
      if (message.kind === 'done') code = message.code;
      else if (message.kind === 'failed') failure = message.message;
      else if (message.kind === 'usage') code = 2;
      onMessage(message);
    });
    worker.on('error', (err) => (failure = err.stack ?? err.message));
    worker.on('exit', () => {
      exited = true;
      settle();
    });
  });
}
