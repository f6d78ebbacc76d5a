/**
 * The one way packets become records, for `loopy read`, `loopy agent` and the library alike:
 *
 *   capture source → (user-space filter) → engine → observers (statistics, detection, history, outputs)
 *
 *   const pipeline = new Pipeline({ maxFlows });
 *   pipeline.observe(writer);                 // any number, registered after construction
 *   const stats = new SecondStats(pipeline);  // stages that need the flow table register themselves
 *   await pipeline.run(source, () => writer.drain());
 *   pipeline.finish();                        // open flows, transactions, weirds, then the summary
 *
 * Time is the capture's: packets move it, and `tick(now)` moves it when none come (live). The packet loop
 * is the engine's; everything here runs once per batch or once per second.
 */
import { FRAME_DROPPED, FRAME_ELSEWHERE, FRAME_KEPT, META_CAPLEN, META_IFACE, META_OFFSET, META_STRIDE, type PacketBatch } from '../capture/batch.js';
import { BatchFilter, type PacketFilterOptions } from '../capture/bpf-filter.js';
import { pairShard } from '../decode/pair-shard.js';
import { defaultProtocols } from '../decode/protocols/index.js';
import type { ProtocolRegistration } from '../decode/registry.js';
import { defaultApps } from './apps/index.js';
import type { AppRegistration } from './apps/types.js';
import { Engine, type EngineObserver } from './engine.js';
import { FlowDeltas } from './flows/flow-deltas.js';
import type { FlowTimeouts } from './flows/connections.js';
import type { PageRelease } from './flows/flow-table.js';
import type { LoopyRecord, SummaryRecord } from './records.js';

export interface PipelineOptions {
  /** Decoders (default: every protocol Loopy knows). */
  protocols?: readonly ProtocolRegistration[];
  /** Application analyzers (default: DNS, TLS, HTTP). */
  apps?: readonly AppRegistration[];
  maxFlows?: number;
  timeouts?: Partial<FlowTimeouts>;
  /** Gives back a burst's pages once its flows have ended (EngineOptions.releaseFlowPages): a live agent's. */
  releaseFlowPages?: PageRelease;
  /** A tcpdump-syntax filter run in user space on every batch (see setFilter). */
  filter?: string;
  /** How the filter reads host-order fields (a capture file written big-endian says so once it is open). */
  filterOptions?: PacketFilterOptions | (() => PacketFilterOptions);
  /** Stop after this many packets have passed the filter (tcpdump's -c); the batch that reaches it is cut there. */
  packetLimit?: number;
  /**
   * One engine of several over the same packets (`loopy read --workers N`): only the frames whose address
   * pair falls in shard `index` of `count` (decode/pair-shard.ts) go on; the others count nowhere here.
   */
  shard?: { index: number; count: number };
}

export interface PipelineObserver extends EngineObserver {
  /**
   * Each batch, before the engine decodes it, with every frame (an evidence ring keeps them all) and the
   * filter's verdict per frame (`keep[i] !== 0`: the frame passed; undefined: no filter, all passed).
   */
  onBatch?(batch: PacketBatch, keep: Uint8Array | undefined): void;
}

/** Live: how often the weirds without a flow are reported (a file reports them at its end). */
export const WEIRD_REPORT_SECONDS = 60;

export class Pipeline {
  private nextWeirdReport = Number.NaN;
  readonly engine: Engine;
  private readonly filter: BatchFilter;
  private readonly batchObservers: Array<(batch: PacketBatch, keep: Uint8Array | undefined) => void> = [];
  private deltas: FlowDeltas | undefined;
  /** Packets still to take under `packetLimit`; undefined without a limit. */
  private remaining: number | undefined;
  private readonly shard: { index: number; count: number } | undefined;
  /** The verdict per frame once the shard is applied (reused; grown with the batches). */
  private shardKeep = new Uint8Array(0);

  constructor(options: PipelineOptions = {}) {
    this.engine = new Engine({
      protocols: options.protocols ?? defaultProtocols,
      apps: options.apps ?? defaultApps,
      maxFlows: options.maxFlows,
      timeouts: options.timeouts,
      releaseFlowPages: options.releaseFlowPages,
    });
    this.filter = new BatchFilter(options.filter, options.filterOptions);
    this.remaining = options.packetLimit;
    if (options.shard !== undefined && options.packetLimit !== undefined) throw new Error('a packet limit needs every packet in one engine');
    this.shard = options.shard !== undefined && options.shard.count > 1 ? options.shard : undefined;
  }

  /** Registers an observer; it hears from the next batch on. */
  observe(observer: PipelineObserver): this {
    if (observer.onBatch) this.batchObservers.push(observer.onBatch.bind(observer));
    this.engine.observe(observer);
    return this;
  }

  /** What every flow did since it was last read: one pass shared by all who count per second. */
  get flowDeltas(): FlowDeltas {
    if (this.deltas === undefined) {
      this.deltas = new FlowDeltas(this.engine.connections);
      this.engine.observe(this.deltas);
    }
    return this.deltas;
  }

  /** The user-space filter from the next batch on (undefined: keep everything). Throws FilterError on use. */
  setFilter(expression: string | undefined): void {
    this.filter.set(expression);
  }

  get filterExpression(): string | undefined {
    return this.filter.expression;
  }

  /** One batch through the filter and the engine (past the packet limit, nothing more). */
  process(batch: PacketBatch): void {
    const filtered = this.filter.matches(batch);
    const taken = this.remaining === undefined ? batch : this.takeWithinLimit(batch, filtered, this.remaining);
    for (let i = 0; i < this.batchObservers.length; i++) this.batchObservers[i](taken, filtered);
    this.engine.processBatch(taken, this.shard === undefined ? filtered : this.keepShard(taken, filtered, this.shard));
  }

  /** The filter's verdict narrowed to this engine's shard: the other engines' frames are FRAME_ELSEWHERE. */
  private keepShard(batch: PacketBatch, filtered: Uint8Array | undefined, shard: { index: number; count: number }): Uint8Array {
    if (this.shardKeep.length < batch.count) this.shardKeep = new Uint8Array(Math.max(batch.count, 2 * this.shardKeep.length));
    const keep = this.shardKeep;
    const { data, meta, linkTypes } = batch;
    for (let i = 0; i < batch.count; i++) {
      if (filtered !== undefined && filtered[i] === 0) {
        keep[i] = FRAME_DROPPED;
        continue;
      }
      const m = i * META_STRIDE;
      const linkType = linkTypes[meta[m + META_IFACE]] ?? -1;
      keep[i] = pairShard(data, meta[m + META_OFFSET], meta[m + META_CAPLEN], linkType, shard.count) === shard.index ? FRAME_KEPT : FRAME_ELSEWHERE;
    }
    return keep;
  }

  /** True once `packetLimit` packets have been taken: the run is over. */
  get limitReached(): boolean {
    return this.remaining === 0;
  }

  /** The batch up to the frame that reaches the limit (observers never see frames past it), counted off. */
  private takeWithinLimit(batch: PacketBatch, keep: Uint8Array | undefined, remaining: number): PacketBatch {
    let frames = 0;
    let kept = 0;
    for (; frames < batch.count && kept < remaining; frames++) if (keep === undefined || keep[frames] !== 0) kept++;
    this.remaining = remaining - kept;
    return frames === batch.count ? batch : { ...batch, count: frames };
  }

  /**
   * Every batch of the source, or up to the packet limit. `between` runs after each batch (an output's
   * back-pressure: await a drain); returning false stops the run early (the reader went away).
   */
  async run(source: AsyncIterable<PacketBatch>, between?: () => Promise<boolean | void> | boolean | void): Promise<void> {
    for await (const batch of source) {
      this.process(batch);
      if (between !== undefined && (await between()) === false) return;
      if (this.limitReached) return;
    }
  }

  /**
   * Live: wall-clock time passes when no packet comes (idle flows end, unanswered queries are reported), and
   * once a minute the weirds without a flow counted meanwhile are reported.
   */
  tick(now: number): void {
    this.engine.tick(now);
    if (Number.isNaN(this.nextWeirdReport)) this.nextWeirdReport = now + WEIRD_REPORT_SECONDS;
    else if (now >= this.nextWeirdReport) {
      this.nextWeirdReport = now + WEIRD_REPORT_SECONDS;
      this.engine.reportWeirdsWithoutFlow(now);
    }
  }

  /** A record made beside the engine (an alert) to every record observer. */
  emit(record: LoopyRecord): void {
    this.engine.emit(record);
  }

  /**
   * End of input, a part at a time, before finish(): ends up to `limit` open flows; true once none is left.
   * Lets a writer wait for its output between parts instead of holding every last record at once.
   */
  finishFlows(limit: number): boolean {
    return this.engine.finishFlows(limit);
  }

  /** End of input: open flows and transactions are reported, observers finish, then the summary. */
  finish(): SummaryRecord {
    return this.engine.finish();
  }
}
