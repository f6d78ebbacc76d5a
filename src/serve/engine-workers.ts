/**
 * `loopy agent --workers N`: the agent's own engine is the first of N; the other N-1 run in worker threads
 * (engine-worker.ts), each with a capture of the same interfaces in the agent's PACKET_FANOUT groups. The
 * kernel hands each address pair, both directions, to one engine (native/src/live-open.c), so every flow and
 * every pair's conversation is whole in one engine. The agent's thread merges what they send:
 *
 * - records (conn, dns, tls, http, alerts...) go where its own engine's go: outputs, store, subscribers, and
 *   alerts through acknowledgement and delivery;
 * - each second, their capture counters are added to its own before the second is rolled, and their statistics
 *   (packets, protocols, flows, DNS, top talkers) are added to its own record (stats/second-merge.ts);
 * - filter changes and suppressions are sent to every engine.
 *
 * Detectors that count across pairs (a sweep of many hosts, a flood from many spoofed sources) see each
 * engine's share only; docs/design.md says so.
 */
import { Worker } from 'node:worker_threads';
import type { LoopyRecord } from '../analyze/records.js';
import type { RecordRows } from '../analyze/record-rows.js';
import { idSeed, idSeedFrom, type IdSeed } from '../analyze/flows/uid.js';
import type { SuppressionRule } from '../detect/suppressions.js';
import type { InterfaceCounters, StatsSecond } from '../stats/stats-record.js';
import type { CaptureRequest } from './capture-source.js';
import type { AgentLogger } from './logger.js';
import type { OpenFlowsQuery } from './open-flows.js';

/** More engines than this only add threads fighting for the same cores and memory. */
export const MAX_WORKERS = 64;
/** How long an engine may take to load and open its capture. */
const OPEN_TIMEOUT_MS = 30_000;
/** How long an engine may take to end its flows and send its last records once told to stop. */
const STOP_TIMEOUT_MS = 30_000;
/** How long a query waits for an engine's open flows: one busy or stuck must not hold the answer. */
const OPEN_FLOWS_TIMEOUT_MS = 5_000;

const WORKER_URL = new URL(`./engine-worker.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`, import.meta.url);

export interface EngineWorkerData {
  index: number;
  shards: number;
  groups: readonly number[];
  capture: Extract<CaptureRequest, { kind: 'live' }>;
  idSeed: IdSeed;
  maxFlows?: number;
  localNets?: readonly string[];
  topN?: number;
  started: number;
  detect: boolean;
  detectConfig?: string;
  evidenceDir: string;
  attribute: boolean;
  /**
   * The agent will drop root keeping attribution's capabilities: the engine's thread sets PR_SET_KEEPCAPS
   * before it says it is open, and keeps exactly those when told the drop is done (`keepOnly`).
   */
  keepCapabilities: boolean;
}

export type FromEngineWorker =
  | { kind: 'open'; warnings: string[] }
  | { kind: 'failed'; message: string }
  | { kind: 'records'; records: Array<LoopyRecord | object> }
  | { kind: 'second'; counters: InterfaceCounters[]; stats: StatsSecond }
  | { kind: 'log'; level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal'; fields: object; message: string }
  | { kind: 'done'; packets: number; counters: InterfaceCounters[] }
  | { kind: 'openFlows'; request: number; flows: RecordRows }
  | { kind: 'kept'; missing: number[]; error?: string };

export type ToEngineWorker =
  | { kind: 'stop' }
  | { kind: 'filter'; expression: string | undefined }
  | { kind: 'suppress'; rule: SuppressionRule }
  | { kind: 'openFlows'; request: number; query: OpenFlowsQuery }
  | { kind: 'dropped'; keep: number[] };

export interface EngineWorkersOptions extends Omit<EngineWorkerData, 'index' | 'idSeed'> {
  log: AgentLogger;
  /** Records from the other engines, in the order each sent them. */
  onRecords(records: Array<LoopyRecord | object>): void;
}

/** The other engines, running. */
export class EngineWorkers {
  private readonly workers: Worker[] = [];
  /** Each engine's latest cumulative capture counters, by engine. */
  private readonly counters: InterfaceCounters[][] = [];
  /** Seconds rolled by the engines since the agent's thread last rolled its own. */
  private seconds: StatsSecond[] = [];
  private readonly exits: Array<Promise<void>> = [];
  /** Open-flows requests waiting for engines' answers, by request number. */
  private readonly openFlowsWaiting = new Map<number, (flows: RecordRows | undefined) => void>();
  private nextRequest = 0;
  /** Engines' answers to `keepOnly`, awaited by engine. */
  private readonly keptAnswers = new Map<number, (answer: { missing: number[]; error?: string }) => void>();
  packets = 0;

  private constructor(private readonly options: EngineWorkersOptions) {}

  /** Starts engines 1..shards-1 and waits until each has its capture open (or throws the first failure). */
  static async start(options: EngineWorkersOptions): Promise<EngineWorkers> {
    const engines = new EngineWorkers(options);
    try {
      await Promise.all(Array.from({ length: options.shards - 1 }, (_, i) => engines.startOne(i + 1)));
    } catch (err) {
      await engines.stop();
      throw err;
    }
    return engines;
  }

  /** The other engines' counters added to the agent's own, interface by interface (same order, same names). */
  addCounters(own: readonly InterfaceCounters[]): InterfaceCounters[] {
    return own.map((c, i) => {
      const sum = { ...c, addonDropped: c.addonDropped ?? 0 };
      for (const theirs of this.counters) {
        const t = theirs[i];
        if (t === undefined) continue;
        sum.received += t.received;
        sum.dropped += t.dropped;
        sum.ifDropped += t.ifDropped;
        sum.addonDropped += t.addonDropped ?? 0;
      }
      return sum;
    });
  }

  /** The seconds the other engines rolled since the last call. */
  takeSeconds(): StatsSecond[] {
    const taken = this.seconds;
    this.seconds = [];
    return taken;
  }

  setFilter(expression: string | undefined): void {
    this.broadcast({ kind: 'filter', expression });
  }

  suppress(rule: SuppressionRule): void {
    this.broadcast({ kind: 'suppress', rule });
  }

  /**
   * Stops every engine; resolves once each has sent its last records and exited, or was ended after
   * STOP_TIMEOUT_MS (an engine stuck must not keep the agent from exiting).
   */
  async stop(): Promise<void> {
    this.broadcast({ kind: 'stop' });
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), STOP_TIMEOUT_MS)));
    if ((await Promise.race([Promise.all(this.exits), late])) === 'late') {
      this.options.log.warn({ engines: this.workers.length }, 'an engine did not stop in time: ended');
      await Promise.all(this.workers.map((w) => w.terminate()));
    }
    clearTimeout(timer);
  }

  /**
   * The other engines' open flows that match the query, each engine's newest `limit` (the caller merges them
   * with its own). An engine that has not answered within OPEN_FLOWS_TIMEOUT_MS adds nothing.
   */
  async openFlows(query: OpenFlowsQuery): Promise<RecordRows[]> {
    const answers = await Promise.all(this.workers.map((worker) => this.askOpenFlows(worker, query)));
    return answers.filter((rows) => rows !== undefined);
  }

  private askOpenFlows(worker: Worker, query: OpenFlowsQuery): Promise<RecordRows | undefined> {
    const request = this.nextRequest++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => answered(undefined), OPEN_FLOWS_TIMEOUT_MS);
      const answered = (flows: RecordRows | undefined) => {
        clearTimeout(timer);
        this.openFlowsWaiting.delete(request);
        resolve(flows);
      };
      this.openFlowsWaiting.set(request, answered);
      worker.postMessage({ kind: 'openFlows', request, query } satisfies ToEngineWorker);
    });
  }

  /**
   * After the agent's drop from root: each engine's thread keeps exactly `keep` of its permitted
   * capabilities (its process attribution reads /proc too; glibc's setuid changed every thread's uid, and
   * PR_SET_KEEPCAPS left each engine's thread its whole permitted set until now). Resolves with those an
   * engine could not keep, by engine; throws when one cannot trim its set or does not answer in time: a
   * thread that may still hold root's capabilities must not run.
   */
  async keepOnly(keep: readonly number[]): Promise<Map<number, number[]>> {
    const answers = this.workers.map((worker, i) => new Promise<[number, { missing: number[]; error?: string }]>((resolve) => {
      this.keptAnswers.set(i + 1, (answer) => resolve([i + 1, answer]));
      worker.postMessage({ kind: 'dropped', keep: [...keep] } satisfies ToEngineWorker);
    }));
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), OPEN_TIMEOUT_MS)));
    const all = await Promise.race([Promise.all(answers), late]);
    clearTimeout(timer);
    this.keptAnswers.clear();
    if (all === 'late') throw new Error(`an engine did not give up root's capabilities within ${OPEN_TIMEOUT_MS / 1000} s`);
    const missing = new Map<number, number[]>();
    for (const [index, answer] of all) {
      if (answer.error !== undefined) throw new Error(`engine ${index} could not give up root's capabilities: ${answer.error}`);
      if (answer.missing.length > 0) missing.set(index, answer.missing);
    }
    return missing;
  }

  private broadcast(message: ToEngineWorker): void {
    for (const w of this.workers) w.postMessage(message);
  }

  private startOne(index: number): Promise<void> {
    const { log, onRecords, ...shared } = this.options;
    // Its own ids: the agent's seed shifted by the engine's index (two engines never make the same uid).
    const shift = idSeedFrom(index);
    const data: EngineWorkerData = { ...shared, index, idSeed: idSeed().map((d, i) => (d + shift[i]) % 62) };
    const worker = new Worker(WORKER_URL, { workerData: data });
    this.workers.push(worker);
    this.counters[index - 1] = [];
    let opened: (() => void) | undefined;
    let failed: ((err: Error) => void) | undefined;
    const open = new Promise<void>((resolve, reject) => {
      opened = resolve;
      failed = reject;
    });
    const timer = setTimeout(() => failed?.(new Error(`engine ${index} did not open its capture within ${OPEN_TIMEOUT_MS / 1000} s`)), OPEN_TIMEOUT_MS);
    worker.on('message', (m: FromEngineWorker) => {
      switch (m.kind) {
        case 'open':
          for (const w of m.warnings) log.warn({ warning: w, engine: index }, 'capture warning');
          return opened?.();
        case 'failed':
          log.error({ engine: index, err: m.message }, 'an engine failed');
          return failed?.(new Error(m.message));
        case 'records':
          return onRecords(m.records);
        case 'second':
          this.counters[index - 1] = m.counters;
          this.seconds.push(m.stats);
          return;
        case 'log':
          return log[m.level](m.fields, m.message);
        case 'done':
          this.counters[index - 1] = m.counters;
          this.packets += m.packets;
          return;
        case 'openFlows':
          return this.openFlowsWaiting.get(m.request)?.(m.flows);
        case 'kept':
          return this.keptAnswers.get(index)?.(m);
      }
    });
    worker.on('error', (err) => {
      log.error({ engine: index, err: err.message }, 'an engine stopped');
      failed?.(err);
    });
    this.exits.push(new Promise((resolve) => worker.once('exit', () => resolve())));
    return open.finally(() => clearTimeout(timer));
  }
}
