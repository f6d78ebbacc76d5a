/**
 * Rolls the pipeline's state into one `stats` record per second without touching the per-packet path: the
 * pipeline's flow deltas say what each flow did since the last read (packets and IP bytes per direction),
 * and this sorts them into in/out and talkers. Totals, protocols and weirds are differences of the
 * engine's running counters.
 *
 * Costs: one delta pass over the flow table per second (typed arrays, shared with detection), one
 * engine.summary() per second, and a typed HostCounters add per flow that moved this second (for the top
 * talkers; bounded by `maxHosts`, no object or string per host). Nothing per packet.
 */
import type { EngineObserver, FlowEndReason } from '../analyze/engine.js';
import type { Pipeline } from '../analyze/pipeline.js';
import type { FlowDeltaConsumer } from '../analyze/flows/flow-deltas.js';
import { HostCounters } from '../analyze/flows/host-counters.js';
import type { LoopyRecord } from '../analyze/records.js';
import type { Packet } from '../decode/packet.js';
import { DEFAULT_LOCAL_NETS, LocalNets } from './local-nets.js';
import type { InterfaceCounters, InterfaceSecond, StatsExtra, StatsSecond, TopTalker } from './stats-record.js';
import { firstSortedIndexes } from './top-n.js';

export type { InterfaceCounters, ProcessCounters, StatsExtra, StatsSecond, TopTalker, InterfaceSecond, DnsSecond } from './stats-record.js';

export interface SecondStatsOptions {
  /** CIDRs that count as "this host/site": traffic towards them is in, from them out. Default DEFAULT_LOCAL_NETS. */
  localNets?: readonly string[];
  /** Top talkers per record (default 10). */
  topN?: number;
  /** Start of the first second (seconds since the epoch); default the engine's first packet, else the first roll. */
  start?: number;
  /** Hosts counted exactly per second for the top talkers (default 65,536; past it, Space-Saving: see HostCounters). */
  maxHosts?: number;
}

/**
 *   const stats = new SecondStats(pipeline, { localNets: ['10.0.0.0/8'] });   // observes the pipeline itself
 *   every second: pipeline.tick(now); send(stats.roll(now, { interfaces: capture.stats(), process: { cpuPercent, rssBytes } }));
 *
 * `now` is in seconds since the epoch, like packet times and pipeline.tick. Tick before rolling, so flows that
 * idled out are closed in this second's record.
 */
export class SecondStats implements EngineObserver, FlowDeltaConsumer {
  private readonly localNets: LocalNets;
  private readonly topN: number;
  private readonly engine: Pipeline['engine'];
  // Per flow: whether each endpoint is local, and the roll that last counted it for its hosts.
  private origLocal = new Uint8Array(0);
  private respLocal = new Uint8Array(0);
  private countedInRoll = new Float64Array(0);
  private readonly words = new Uint32Array(4);

  private roll_ = 1;
  private lastRollTs: number;
  private lastPackets = 0;
  private lastBytes = 0;
  private lastProtocols: Record<string, number> = {};
  private lastWeirds: Record<string, number> = {};
  private readonly lastInterfaces = new Map<string, InterfaceCounters & { packets: number; bytes: number }>();

  // This second's accumulators.
  private opened = 0;
  private closed = 0;
  private packetsIn = 0;
  private packetsOut = 0;
  private bytesIn = 0;
  private bytesOut = 0;
  private readonly talkers: HostCounters;
  /** Hosts folded into others by the talkers' bound, since the start (see HostCounters.replaced). */
  talkersReplaced = 0;
  private dnsQueries = 0;
  private dnsAnswers = 0;
  private dnsRcodes: Record<string, number> = {};

  constructor(
    private readonly pipeline: Pipeline,
    options: SecondStatsOptions = {},
  ) {
    const engine = (this.engine = pipeline.engine);
    this.localNets = new LocalNets(options.localNets ?? DEFAULT_LOCAL_NETS);
    this.topN = Math.max(0, Math.floor(options.topN ?? 10));
    this.talkers = new HostCounters(options.maxHosts ?? 65_536);
    this.lastRollTs = options.start ?? Number.NaN;
    // Counters the engine already holds belong to no second of ours (a SecondStats made late starts at zero).
    this.lastPackets = engine.packets;
    this.lastBytes = engine.bytes;
    const summary = engine.summary();
    this.lastProtocols = summary.protocols;
    this.lastWeirds = summary.weirds;
    const table = engine.connections.table;
    table.ownColumns((resize) => {
      this.origLocal = resize(this.origLocal);
      this.respLocal = resize(this.respLocal);
      this.countedInRoll = resize(this.countedInRoll);
    });
    for (let flow = 0; flow < table.extent; flow++) if (table.isLive(flow)) this.classify(flow);
    // The deltas first: at a flow's end they hand over its last packets before onFlowEnd forgets it here.
    pipeline.flowDeltas.subscribe(this);
    pipeline.observe(this);
  }

  onFlowStart(flow: number, _pkt: Packet): void {
    this.opened++;
    this.countedInRoll[flow] = 0;
    this.classify(flow);
  }

  /** Decides once per flow whether each endpoint is one of ours. */
  private classify(flow: number): void {
    const table = this.engine.connections.table;
    const version = table.versionOf(flow);
    this.origLocal[flow] = this.localNets.contains(version, table.origAddress(flow, this.words), 0) ? 1 : 0;
    this.respLocal[flow] = this.localNets.contains(version, table.respAddress(flow, this.words), 0) ? 1 : 0;
  }

  onFlowEnd(flow: number, reason: FlowEndReason): void {
    // An active timeout reports the flow and restarts its counters; the flow goes on.
    if (reason === 'active') return;
    this.closed++;
  }

  /** Flows are counted from the flow table (onFlowEnd, deltas): no conn record object for them. */
  readonly connRecords = false;

  /** DNS transactions are counted from their records. */
  onRecord(record: LoopyRecord): void {
    if (record.type !== 'dns') return;
    this.dnsQueries++;
    const rcode = (record as { rcode_name?: string }).rcode_name;
    if (rcode !== undefined) {
      this.dnsAnswers++;
      this.dnsRcodes[rcode] = (this.dnsRcodes[rcode] ?? 0) + 1;
    }
  }

  /** Closes the second ending at `now` (seconds since the epoch) and returns its record. */
  roll(now: number, extra: StatsExtra): StatsSecond {
    const engine = this.engine;
    const table = engine.connections.table;
    this.pipeline.flowDeltas.pass();

    const summary = engine.summary();
    const start = Number.isNaN(this.lastRollTs) ? (Number.isNaN(engine.firstTs) ? now : Math.min(now, engine.firstTs)) : this.lastRollTs;
    const record: StatsSecond = {
      type: 'stats',
      ts: round6(now),
      duration: round6(Math.max(0, now - start)),
      packets: engine.packets - this.lastPackets,
      bytes: engine.bytes - this.lastBytes,
      packets_in: this.packetsIn,
      packets_out: this.packetsOut,
      bytes_in: this.bytesIn,
      bytes_out: this.bytesOut,
      interfaces: extra.interfaces.map((c, i) => this.interfaceSecond(c, i, extra.interfaces.length)),
      protocols: difference(summary.protocols, this.lastProtocols),
      top_talkers: this.topTalkers(),
      flows_active: table.count,
      flows_opened: this.opened,
      flows_closed: this.closed,
      dns: { queries: this.dnsQueries, answers: this.dnsAnswers, rcodes: this.dnsRcodes },
      weirds: difference(summary.weirds, this.lastWeirds),
      cpu_percent: extra.process.cpuPercent,
      rss_bytes: extra.process.rssBytes,
    };

    this.lastRollTs = now;
    this.lastPackets = engine.packets;
    this.lastBytes = engine.bytes;
    this.lastProtocols = summary.protocols;
    this.lastWeirds = summary.weirds;
    this.roll_++;
    this.opened = this.closed = 0;
    this.packetsIn = this.packetsOut = this.bytesIn = this.bytesOut = 0;
    this.talkersReplaced += this.talkers.replaced;
    this.talkers.clear();
    this.dnsQueries = this.dnsAnswers = 0;
    this.dnsRcodes = {};
    return record;
  }

  /** What the flow did since it was last read, into this second's counters. */
  onFlowDelta(flow: number, origPkts: number, origBytes: number, respPkts: number, respBytes: number): void {
    const origLocal = this.origLocal[flow] === 1;
    const respLocal = this.respLocal[flow] === 1;
    // Inside the local nets (loopback included) a flow counts once, as its responder (the service) sees it:
    // what the originator sent is in, the answers out. Counted as both, loopback showed twice its traffic.
    const inside = origLocal && respLocal;
    this.countDirection(origPkts, origBytes, origLocal && !inside, respLocal);
    this.countDirection(respPkts, respBytes, respLocal, origLocal && !inside);
    const flowPkts = origPkts + respPkts;
    const flowBytes = origBytes + respBytes;
    const newFlow = this.countedInRoll[flow] !== this.roll_;
    this.countedInRoll[flow] = this.roll_;
    const table = this.engine.connections.table;
    const version = table.versionOf(flow);
    const flows = newFlow ? 1 : 0;
    this.talkers.add(version, table.origAddress(flow, this.words), 0, flowBytes, flowPkts, flows, origLocal);
    this.talkers.add(version, table.respAddress(flow, this.words), 0, flowBytes, flowPkts, flows, respLocal);
  }

  /** In when it reached one of our addresses, out when it left one (never both: see onFlowDelta). */
  private countDirection(pkts: number, bytes: number, senderLocal: boolean, receiverLocal: boolean): void {
    if (receiverLocal) {
      this.packetsIn += pkts;
      this.bytesIn += bytes;
    }
    if (senderLocal) {
      this.packetsOut += pkts;
      this.bytesOut += bytes;
    }
  }

  /** The second's top hosts by bytes, then packets, then address (numerically): only they get a string. */
  private topTalkers(): TopTalker[] {
    const t = this.talkers;
    if (this.topN === 0 || t.size === 0) return [];
    const top = firstSortedIndexes(t.size, this.topN, (a, b) => t.bytes[b] - t.bytes[a] || t.packets[b] - t.packets[a] || t.compareAddresses(a, b));
    return top.map((slot) => ({ host: t.textOf(slot), bytes: t.bytes[slot], packets: t.packets[slot], flows: t.flows[slot], local: t.local[slot] === 1 }));
  }

  /** pcap_stats counters are cumulative: the record carries this second's share and the running totals. */
  private interfaceSecond(c: InterfaceCounters, index: number, interfaces: number): InterfaceSecond {
    const prev = this.lastInterfaces.get(c.interface);
    // One source (one interface, `any`, or a replayed file of several): all the engine took is its.
    const engine = this.engine;
    const taken = interfaces === 1 ? { packets: engine.packets, bytes: engine.bytes } : { packets: engine.interfacePackets[index] ?? 0, bytes: engine.interfaceBytes[index] ?? 0 };
    this.lastInterfaces.set(c.interface, { ...c, ...taken });
    const droppedTotal = c.dropped + (c.addonDropped ?? 0);
    const prevDropped = prev ? prev.dropped + (prev.addonDropped ?? 0) : 0;
    // A counter that went backwards was reset (capture reopened): count from zero.
    const since = (now: number, before: number) => (now >= before ? now - before : now);
    const received = since(c.received, prev?.received ?? 0);
    const dropped = since(droppedTotal, prevDropped);
    return {
      name: c.interface,
      packets: since(taken.packets, prev?.packets ?? 0),
      bytes: since(taken.bytes, prev?.bytes ?? 0),
      received,
      dropped,
      if_dropped: since(c.ifDropped, prev?.ifDropped ?? 0),
      // On Linux the kernel counts dropped packets among the received ones; max() keeps this ≤ 100 elsewhere.
      drop_pct: received + dropped === 0 ? 0 : Math.round((100 * dropped * 1000) / Math.max(received, dropped)) / 1000,
      received_total: c.received,
      dropped_total: droppedTotal,
    };
  }
}

/** Per-key increase of running counters; keys that did not move are left out. */
function difference(now: Record<string, number>, before: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const key of Object.keys(now)) {
    const delta = now[key] - (before[key] ?? 0);
    if (delta > 0) out[key] = delta;
  }
  return out;
}

function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
