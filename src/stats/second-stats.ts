/**
 * Rolls the engine's state into one `stats` record per second without touching the per-packet path: the
 * flow table already counts packets and IP bytes per flow and direction, so each second we read those columns
 * against our own last-seen copies (typed arrays beside the flow table's, grown with it). A flow that ends
 * between two rolls is read one last time in the engine's onFlowEnd hook, before its counters go, so
 * nothing is lost. Totals, protocols and weirds are differences of the engine's running counters.
 *
 * Costs: one scan over the flow table's extent per second (typed arrays), one engine.summary() per second,
 * and a Map update per flow that moved this second (for the top talkers). Nothing per packet.
 */
import type { Engine, FlowEndReason } from '../analyze/engine.js';
import { formatIPv4, formatIPv6 } from '../analyze/format-address.js';
import { KEY_WORDS, growF64, growU8 } from '../analyze/flows/flow-table.js';
import type { LoopyRecord } from '../analyze/records.js';
import type { Packet } from '../decode/packet.js';
import { DEFAULT_LOCAL_NETS, LocalNets } from './local-nets.js';
import type { InterfaceCounters, InterfaceSecond, StatsExtra, StatsSecond, TopTalker } from './stats-record.js';

export type { InterfaceCounters, ProcessCounters, StatsExtra, StatsSecond, TopTalker, InterfaceSecond, DnsSecond } from './stats-record.js';

export interface SecondStatsOptions {
  /** CIDRs that count as "this host/site": traffic towards them is in, from them out. Default DEFAULT_LOCAL_NETS. */
  localNets?: readonly string[];
  /** Top talkers per record (default 10). */
  topN?: number;
  /** Start of the first second (seconds since the epoch); default the engine's first packet, else the first roll. */
  start?: number;
}

interface Talker {
  host: string;
  bytes: number;
  packets: number;
  flows: number;
  local: boolean;
}

/**
 * Wiring (the hooks must be given to the Engine, which is built first):
 *
 *   let stats!: SecondStats;
 *   const engine = new Engine({ ..., onRecord: (r) => { stats.onRecord(r); ... },
 *     onFlowStart: (f, p) => stats.onFlowStart(f, p), onFlowEnd: (f, why) => stats.onFlowEnd(f, why) });
 *   stats = new SecondStats(engine, { localNets: ['10.0.0.0/8'] });
 *   every second: engine.tick(now); send(stats.roll(now, { interfaces: capture.stats(), process: { cpuPercent, rssBytes } }));
 *
 * `now` is in seconds since the epoch, like packet times and engine.tick. Tick before rolling, so flows that
 * idled out are closed in this second's record.
 */
export class SecondStats {
  private readonly localNets: LocalNets;
  private readonly topN: number;
  // Per flow direction (flow * 2 + 0 orig, 1 resp): packets and IP bytes already counted in a record.
  private seenPkts = new Float64Array(0);
  private seenBytes = new Float64Array(0);
  // Per flow: whether each endpoint is local, the roll that last counted it for its hosts, its hosts as text.
  private origLocal = new Uint8Array(0);
  private respLocal = new Uint8Array(0);
  private countedInRoll = new Float64Array(0);
  private readonly hostText: Array<string | undefined> = [];

  private roll_ = 1;
  private lastRollTs: number;
  private lastPackets = 0;
  private lastBytes = 0;
  private lastProtocols: Record<string, number> = {};
  private lastWeirds: Record<string, number> = {};
  private readonly lastInterfaces = new Map<string, InterfaceCounters>();

  // This second's accumulators.
  private opened = 0;
  private closed = 0;
  private packetsIn = 0;
  private packetsOut = 0;
  private bytesIn = 0;
  private bytesOut = 0;
  private talkers = new Map<string, Talker>();
  private dnsQueries = 0;
  private dnsAnswers = 0;
  private dnsRcodes: Record<string, number> = {};

  constructor(
    private readonly engine: Engine,
    options: SecondStatsOptions = {},
  ) {
    this.localNets = new LocalNets(options.localNets ?? DEFAULT_LOCAL_NETS);
    this.topN = Math.max(0, Math.floor(options.topN ?? 10));
    this.lastRollTs = options.start ?? Number.NaN;
    // Counters the engine already holds belong to no second of ours (a SecondStats made late starts at zero).
    this.lastPackets = engine.packets;
    this.lastBytes = engine.bytes;
    const summary = engine.summary();
    this.lastProtocols = summary.protocols;
    this.lastWeirds = summary.weirds;
    engine.connections.table.onGrow((n) => this.grow(n));
    const { table, pkts, ipBytes } = engine.connections;
    for (let flow = 0; flow < table.extent; flow++) {
      if (!table.isLive(flow)) continue;
      this.classify(flow);
      for (let d = flow * 2; d < flow * 2 + 2; d++) {
        this.seenPkts[d] = pkts[d];
        this.seenBytes[d] = ipBytes[d];
      }
    }
  }

  /** Wire into EngineOptions.onFlowStart. */
  onFlowStart(flow: number, _pkt: Packet): void {
    this.opened++;
    const d = flow * 2;
    // The first packet is already in the flow's counters: it is counted at the next roll, from zero.
    this.seenPkts[d] = this.seenPkts[d + 1] = 0;
    this.seenBytes[d] = this.seenBytes[d + 1] = 0;
    this.countedInRoll[flow] = 0;
    this.hostText[d] = this.hostText[d + 1] = undefined;
    this.classify(flow);
  }

  /** Decides once per flow whether each endpoint is one of ours. */
  private classify(flow: number): void {
    const table = this.engine.connections.table;
    const base = flow * KEY_WORDS;
    const version = (table.keys[base + 9] >>> 20) & 1 ? 6 : 4;
    const aLocal = this.localNets.contains(version, table.keys, base) ? 1 : 0;
    const bLocal = this.localNets.contains(version, table.keys, base + 4) ? 1 : 0;
    const origIsA = table.origIsA[flow] === 1;
    this.origLocal[flow] = origIsA ? aLocal : bLocal;
    this.respLocal[flow] = origIsA ? bLocal : aLocal;
  }

  /** Wire into EngineOptions.onFlowEnd: takes the flow's last packets before its counters are dropped or reset. */
  onFlowEnd(flow: number, reason: FlowEndReason): void {
    this.account(flow);
    // An active timeout reports the flow and restarts its counters at zero; any other end frees the slot.
    const d = flow * 2;
    this.seenPkts[d] = this.seenPkts[d + 1] = 0;
    this.seenBytes[d] = this.seenBytes[d + 1] = 0;
    if (reason !== 'active') this.closed++;
  }

  /** Feed every record the engine emits (EngineOptions.onRecord): DNS transactions are counted from them. */
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
    for (let flow = 0; flow < table.extent; flow++) if (table.isLive(flow)) this.account(flow);

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
      interfaces: extra.interfaces.map((c) => this.interfaceSecond(c)),
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
    this.talkers = new Map();
    this.dnsQueries = this.dnsAnswers = 0;
    this.dnsRcodes = {};
    return record;
  }

  /** Moves what the flow did since it was last read into this second's counters. */
  private account(flow: number): void {
    const conns = this.engine.connections;
    let flowPkts = 0;
    let flowBytes = 0;
    for (let dir = 0; dir < 2; dir++) {
      const d = flow * 2 + dir;
      const pkts = conns.pkts[d] - this.seenPkts[d];
      if (pkts <= 0) continue;
      const bytes = conns.ipBytes[d] - this.seenBytes[d];
      this.seenPkts[d] = conns.pkts[d];
      this.seenBytes[d] = conns.ipBytes[d];
      const senderLocal = dir === 0 ? this.origLocal[flow] : this.respLocal[flow];
      const receiverLocal = dir === 0 ? this.respLocal[flow] : this.origLocal[flow];
      // Local to local is both: it left one of our addresses and reached one (as loopback's rx and tx both count).
      if (receiverLocal === 1) {
        this.packetsIn += pkts;
        this.bytesIn += bytes;
      }
      if (senderLocal === 1) {
        this.packetsOut += pkts;
        this.bytesOut += bytes;
      }
      flowPkts += pkts;
      flowBytes += bytes;
    }
    if (flowPkts === 0) return;
    const newFlow = this.countedInRoll[flow] !== this.roll_;
    this.countedInRoll[flow] = this.roll_;
    this.addTalker(this.hostOf(flow, 0), this.origLocal[flow] === 1, flowBytes, flowPkts, newFlow);
    this.addTalker(this.hostOf(flow, 1), this.respLocal[flow] === 1, flowBytes, flowPkts, newFlow);
  }

  private addTalker(host: string, local: boolean, bytes: number, packets: number, newFlow: boolean): void {
    let t = this.talkers.get(host);
    if (t === undefined) {
      t = { host, bytes: 0, packets: 0, flows: 0, local };
      this.talkers.set(host, t);
    }
    t.bytes += bytes;
    t.packets += packets;
    if (newFlow) t.flows++;
  }

  /** The flow's originator (side 0) or responder (side 1) address as text, made once per flow. */
  private hostOf(flow: number, side: 0 | 1): string {
    const cached = this.hostText[flow * 2 + side];
    if (cached !== undefined) return cached;
    const table = this.engine.connections.table;
    const base = flow * KEY_WORDS;
    const onA = (table.origIsA[flow] === 1) === (side === 0);
    const at = base + (onA ? 0 : 4);
    const text = (table.keys[base + 9] >>> 20) & 1 ? formatIPv6(table.keys.subarray(at, at + 4)) : formatIPv4(table.keys[at]);
    this.hostText[flow * 2 + side] = text;
    return text;
  }

  private topTalkers(): TopTalker[] {
    if (this.topN === 0) return [];
    return [...this.talkers.values()]
      .sort((a, b) => b.bytes - a.bytes || b.packets - a.packets || (a.host < b.host ? -1 : a.host > b.host ? 1 : 0))
      .slice(0, this.topN)
      .map((t) => ({ host: t.host, bytes: t.bytes, packets: t.packets, flows: t.flows, local: t.local }));
  }

  /** pcap_stats counters are cumulative: the record carries this second's share and the running totals. */
  private interfaceSecond(c: InterfaceCounters): InterfaceSecond {
    const prev = this.lastInterfaces.get(c.interface);
    this.lastInterfaces.set(c.interface, { ...c });
    const droppedTotal = c.dropped + (c.addonDropped ?? 0);
    const prevDropped = prev ? prev.dropped + (prev.addonDropped ?? 0) : 0;
    // A counter that went backwards was reset (capture reopened): count from zero.
    const since = (now: number, before: number) => (now >= before ? now - before : now);
    const received = since(c.received, prev?.received ?? 0);
    const dropped = since(droppedTotal, prevDropped);
    return {
      name: c.interface,
      received,
      dropped,
      if_dropped: since(c.ifDropped, prev?.ifDropped ?? 0),
      // On Linux the kernel counts dropped packets among the received ones; max() keeps this ≤ 100 elsewhere.
      drop_pct: received + dropped === 0 ? 0 : Math.round((100 * dropped * 1000) / Math.max(received, dropped)) / 1000,
      received_total: c.received,
      dropped_total: droppedTotal,
    };
  }

  private grow(n: number): void {
    this.seenPkts = growF64(this.seenPkts, n * 2);
    this.seenBytes = growF64(this.seenBytes, n * 2);
    this.origLocal = growU8(this.origLocal, n);
    this.respLocal = growU8(this.respLocal, n);
    this.countedInRoll = growF64(this.countedInRoll, n);
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
