/**
 * History write: what keeping history costs the agent at 300 kpps of the realistic mix (35,000 closed flows
 * and 5,000 DNS transactions a second), the store before decision 13 (a row per record with its indexes,
 * written on the agent's thread) beside the store now (records packed into columns on the agent's thread,
 * segments written by the store's worker). Real records: the engine's on the bench capture, their times moved
 * forward second by second. For each design: CPU per record on the agent's thread and on the store's thread
 * (per-thread CPU from /proc/self/task/TID/schedstat), the store's share of one core at that rate, and how long a
 * flows query takes while the writes go on. Then a day of flows (20 a second, as a quieter server writes
 * them) and host queries over the whole day. Timings are asserted here, never in tests.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { ConnRecord, DnsRecord } from '../analyze/records.js';
import { CONN_COLUMNS, connParams } from '../store/conn-columns.js';
import { HistoryStore } from '../store/history-store.js';
import { RecordQueries } from '../store/record-queries.js';
import { migrate } from '../store/schema.js';
import { DATABASE_FILE, type HistoryQuery } from '../store/types.js';
import { WorkerHistoryStore } from '../store/worker-store.js';
import { runEngineOnFile } from '../test-support/run-engine.js';
import { benchCapture } from './capture-cache.js';
import type { BenchOptions, BenchResult, Benchmark, Target, ToolResult } from './types.js';

const CONN_PER_S = 35_000;
const DNS_PER_S = 5_000;
const RECORDS_PER_S = CONN_PER_S + DNS_PER_S;
const MEASURED_SECONDS = 10;
const QUERY_SECONDS = 5;
const QUERIES_PER_SECOND = 3;
const DAY = 86_400;
const DAY_RATE = 20;
const DAY_QUERY_RUNS = 15;
const QUERY_LIMIT = 1000;
/** Targets: the agent's thread per conn record (the budget leaves the store about this), and the store's whole share. */
const AGENT_THREAD_TARGET_US = 1;
const CORE_SHARE_TARGET = 0.1;
const RARE_HOST = '198.18.0.7';
const ABSENT_HOST = '198.18.0.99';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

/** A thread's CPU time in µs (the first schedstat field is nanoseconds on a CPU); NaN without /proc. */
function threadCpuUs(tid: number | string): number {
  try {
    return Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0]) / 1e3;
  } catch {
    return Number.NaN;
  }
}

const threads = () => new Set(readdirSync('/proc/self/task'));

/** The old design, as it was before decision 13: appends kept as objects, a row per record inserted at flush. */
class RowPerRecordStore {
  private conns: ConnRecord[] = [];
  private dnsRecords: DnsRecord[] = [];
  private readonly db: Database.Database;
  private readonly insertConn: Database.Statement;
  private readonly insertDns: Database.Statement;
  private readonly queries: RecordQueries;

  constructor(dir: string) {
    this.db = new Database(join(dir, DATABASE_FILE));
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    migrate(this.db, 4);
    this.insertConn = this.db.prepare(`INSERT INTO conn (${CONN_COLUMNS.join(', ')}) VALUES (${CONN_COLUMNS.map(() => '?').join(', ')})`);
    this.insertDns = this.db.prepare(
      'INSERT INTO dns (ts, uid, orig_h, orig_p, resp_h, resp_p, proto, trans_id, query, qtype_name, rcode_name, rtt, answers, record) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.queries = new RecordQueries(this.db);
  }

  appendConn(c: ConnRecord): void {
    this.conns.push(c);
  }

  appendDns(d: DnsRecord): void {
    this.dnsRecords.push(d);
  }

  flush(): void {
    const [conns, dns] = [this.conns, this.dnsRecords];
    this.conns = [];
    this.dnsRecords = [];
    this.db.transaction(() => {
      for (const c of conns) this.insertConn.run(connParams(c));
      for (const d of dns) {
        this.insertDns.run(d.ts, d.uid, d['id.orig_h'], d['id.orig_p'], d['id.resp_h'], d['id.resp_p'], d.proto, d.trans_id ?? null, d.query ?? null,
          d.qtype_name ?? null, d.rcode_name ?? null, d.rtt ?? null, d.answers === undefined ? null : JSON.stringify(d.answers), JSON.stringify(d));
      }
    })();
  }

  flows(q: HistoryQuery): ConnRecord[] {
    return this.queries.flows(q);
  }

  close(): void {
    this.db.close();
  }
}

/** What both designs offer the feed. */
interface StoreUnderTest {
  appendConn(c: ConnRecord): void;
  appendDns(d: DnsRecord): void;
  flush(): void;
  flows(q: HistoryQuery): ConnRecord[] | Promise<ConnRecord[]>;
  /** Resolves once everything flushed is written. */
  settled(): Promise<void>;
  close(): void;
}

interface FeedCost {
  /** µs on the agent's thread: appending conn, appending DNS, handing over (flush). */
  conn: number;
  dns: number;
  flush: number;
  worker: number;
  /** Every thread of the process (V8's helpers included). */
  process: number;
  records: number;
  connRecords: number;
  queryMs: number[];
  /** µs on the agent's thread per query (the old design runs it there; the new one receives the result). */
  queryAgentUs: number[];
}

/** Moves records forward in time and hands them out, second by second, the way the engine emits them. */
class Feed {
  private nextConn = 0;
  private nextDns = 0;

  constructor(
    private readonly conns: ConnRecord[],
    private readonly dns: DnsRecord[],
  ) {}

  connAt(second: number): ConnRecord {
    const c = this.conns[this.nextConn++ % this.conns.length];
    c.ts = second + (c.ts % 1);
    return c;
  }

  dnsAt(second: number): DnsRecord {
    const d = this.dns[this.nextDns++ % this.dns.length];
    d.ts = second + (d.ts % 1);
    return d;
  }
}

/** One second of records into the store, each part timed on this thread. */
function feedSecond(store: StoreUnderTest, feed: Feed, second: number, cost: FeedCost): void {
  const t = threadCpuUs(process.pid);
  for (let i = 0; i < CONN_PER_S; i++) store.appendConn(feed.connAt(second));
  const afterConn = threadCpuUs(process.pid);
  for (let i = 0; i < DNS_PER_S; i++) store.appendDns(feed.dnsAt(second));
  const afterDns = threadCpuUs(process.pid);
  store.flush();
  const afterFlush = threadCpuUs(process.pid);
  cost.conn += afterConn - t;
  cost.dns += afterDns - afterConn;
  cost.flush += afterFlush - afterDns;
  cost.records += RECORDS_PER_S;
  cost.connRecords += CONN_PER_S;
}

/** Feeds MEASURED_SECONDS at the real rate (after one second to warm up), then QUERY_SECONDS with flows queries between. */
async function measureDesign(store: StoreUnderTest, workerTid: string | undefined, feed: Feed, host: string): Promise<FeedCost> {
  const start = Math.floor(Date.now() / 1000) - 60;
  const cost: FeedCost = { conn: 0, dns: 0, flush: 0, worker: 0, process: 0, records: 0, connRecords: 0, queryMs: [], queryAgentUs: [] };
  const scratch: FeedCost = { ...cost, queryMs: [], queryAgentUs: [] };
  feedSecond(store, feed, start, scratch);
  await store.settled();
  const worker0 = workerTid === undefined ? 0 : threadCpuUs(workerTid);
  const process0 = process.cpuUsage();
  for (let s = 1; s <= MEASURED_SECONDS; s++) {
    const began = Date.now();
    feedSecond(store, feed, start + s, cost);
    await sleep(1000 - (Date.now() - began));
  }
  await store.settled();
  cost.worker = workerTid === undefined ? 0 : threadCpuUs(workerTid) - worker0;
  const p = process.cpuUsage(process0);
  cost.process = p.user + p.system;
  const range: HistoryQuery = { since: start, until: start + MEASURED_SECONDS + QUERY_SECONDS + 2, host, limit: QUERY_LIMIT };
  for (let s = 1; s <= QUERY_SECONDS; s++) {
    const began = Date.now();
    feedSecond(store, feed, start + MEASURED_SECONDS + s, scratch);
    for (let q = 0; q < QUERIES_PER_SECOND; q++) {
      const cpu0 = threadCpuUs(process.pid);
      const t0 = performance.now();
      await store.flows(range);
      cost.queryMs.push(performance.now() - t0);
      cost.queryAgentUs.push(threadCpuUs(process.pid) - cpu0);
    }
    await sleep(1000 - (Date.now() - began));
  }
  await store.settled();
  return cost;
}

function openOld(dir: string): StoreUnderTest {
  const store = new RowPerRecordStore(dir);
  return { appendConn: (c) => store.appendConn(c), appendDns: (d) => store.appendDns(d), flush: () => store.flush(), flows: (q) => store.flows(q), settled: async () => {}, close: () => store.close() };
}

function openNew(dir: string): { store: StoreUnderTest; workerTid: string | undefined } {
  const before = threads();
  const store = WorkerHistoryStore.open(dir);
  const workerTid = [...threads()].find((t) => !before.has(t));
  return { store, workerTid };
}

/** µs per record on the agent's thread, on the worker, and the share of a core at 40,000 records a second. */
function perRecord(c: FeedCost) {
  const agent = (c.conn + c.dns + c.flush) / c.records;
  const worker = c.worker / c.records;
  return {
    appendConn: c.conn / c.connRecords,
    appendDns: c.dns / (c.records - c.connRecords),
    flushMsPerSecond: c.flush / 1000 / MEASURED_SECONDS,
    agent,
    agentConn: (c.conn + (c.flush * CONN_PER_S) / RECORDS_PER_S) / c.connRecords,
    worker,
    total: agent + worker,
    process: c.process / c.records,
    coreShare: ((agent + worker) * RECORDS_PER_S) / 1e6,
  };
}

interface DayQueries {
  fillSeconds: number;
  bytes: number;
  ms: Record<'busy' | 'rare' | 'absent', number>;
}

/** A day of flows at DAY_RATE a second, flushed every second, then host queries over the whole day. */
function dayOfFlows(dir: string, design: 'old' | 'new', conns: ConnRecord[], rare: ConnRecord[], busyHost: string): DayQueries {
  const dayStart = Math.floor(Date.now() / 1000 / DAY) * DAY - 2 * DAY;
  const old = design === 'old' ? new RowPerRecordStore(dir) : undefined;
  const fresh = design === 'new' ? HistoryStore.open(dir, { clock: () => 0 }) : undefined;
  const store = (old ?? fresh)!;
  const t0 = performance.now();
  // Every so often a flow of a host seen nowhere else (two an hour).
  const rareEvery = (DAY * DAY_RATE) / rare.length;
  let n = 0;
  for (let second = 0; second < DAY; second++) {
    for (let i = 0; i < DAY_RATE; i++, n++) {
      const c = n % rareEvery === 0 ? rare[n / rareEvery] : conns[n % conns.length];
      c.ts = dayStart + second + (c.ts % 1);
      store.appendConn(c);
    }
    // The old layout does not depend on how often it is flushed (its commits took 2 ms each): once a minute
    // keeps the bench short. The segments do, so they are flushed every second as the agent does.
    if (design === 'new' || second % 60 === 59) store.flush();
  }
  const fillSeconds = (performance.now() - t0) / 1000;
  const time = (host: string) => {
    const q = { since: dayStart, until: dayStart + DAY, host, limit: QUERY_LIMIT };
    const times: number[] = [];
    for (let r = 0; r < DAY_QUERY_RUNS; r++) {
      const s = performance.now();
      store.flows(q);
      times.push(performance.now() - s);
    }
    return median(times);
  };
  const ms = { busy: time(busyHost), rare: time(RARE_HOST), absent: time(ABSENT_HOST) };
  store.close();
  const db = new Database(join(dir, DATABASE_FILE), { readonly: true });
  const bytes = (db.pragma('page_count', { simple: true }) as number) * (db.pragma('page_size', { simple: true }) as number);
  db.close();
  return { fillSeconds, bytes, ms };
}

function busiestHost(conns: ConnRecord[]): string {
  const counts = new Map<string, number>();
  for (const c of conns) for (const h of [c['id.orig_h'], c['id.resp_h']]) counts.set(h, (counts.get(h) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1])[0][0];
}

const us = (x: number) => `${x.toFixed(2)} µs`;
const pct = (x: number) => `${(100 * x).toFixed(1)} %`;

export const historyWrite: Benchmark = {
  name: 'history-write',
  title: 'History writes at 35,000 flows + 5,000 DNS a second: the old row-per-record store on the agent thread vs segments on a worker',
  async run(options: BenchOptions): Promise<BenchResult> {
    const capture = await benchCapture(options.seed, options.packets, options.log);
    options.log(`running the engine over ${capture.path} for its records`);
    const { records } = await runEngineOnFile(capture.path);
    const conns = records.filter((r): r is ConnRecord => r.type === 'conn');
    const dns = records.filter((r): r is DnsRecord => r.type === 'dns');
    const host = busiestHost(conns);
    const parent = mkdtempSync(join(tmpdir(), 'loopy-bench-history-write-'));
    try {
      options.log(`old design: ${MEASURED_SECONDS + QUERY_SECONDS + 1} s at ${RECORDS_PER_S.toLocaleString('en')} records/s, inserts on this thread`);
      const oldStore = openOld(mkdtempSync(join(parent, 'old-')));
      const oldCost = perRecordOf(await measureDesign(oldStore, undefined, new Feed(conns, dns), host));
      oldStore.close();
      options.log(`new design: the same, segments written by the store's worker`);
      const { store: newStore, workerTid } = openNew(mkdtempSync(join(parent, 'new-')));
      const newCost = perRecordOf(await measureDesign(newStore, workerTid, new Feed(conns, dns), host));
      newStore.close();

      const rare = Array.from({ length: 48 }, (_, i) => ({ ...conns[i * 7], 'id.orig_h': RARE_HOST }));
      options.log(`a day of flows (${DAY_RATE}/s, flushed each second) in each design, then host queries over it`);
      const dayOld = dayOfFlows(mkdtempSync(join(parent, 'day-old-')), 'old', conns, rare, host);
      const dayNew = dayOfFlows(mkdtempSync(join(parent, 'day-new-')), 'new', conns, rare, host);
      return report(conns.length, dns.length, host, oldCost, newCost, dayOld, dayNew);
    } finally {
      rmSync(parent, { recursive: true, force: true });
    }
  },
};

function perRecordOf(c: FeedCost): ReturnType<typeof perRecord> & { queryMs: number; queryMaxMs: number; queryAgentUs: number } {
  return { ...perRecord(c), queryMs: median(c.queryMs), queryMaxMs: Math.max(...c.queryMs), queryAgentUs: median(c.queryAgentUs) };
}

type Cost = ReturnType<typeof perRecordOf>;

function report(connCount: number, dnsCount: number, host: string, old: Cost, fresh: Cost, dayOld: DayQueries, dayNew: DayQueries): BenchResult {
  const row = (tool: string, c: Cost): ToolResult => ({
    tool,
    command:
      `agent thread ${us(c.agent)}/record (append conn ${us(c.appendConn)}, dns ${us(c.appendDns)}, flush ${c.flushMsPerSecond.toFixed(1)} ms/s), ` +
      `worker ${us(c.worker)}, whole process ${us(c.process)}; ${pct(c.coreShare)} of a core`,
    status: 'ok',
    wallSeconds: MEASURED_SECONDS,
    packetsPerSecond: RECORDS_PER_S,
    peakRssBytes: null,
  });
  const day = (tool: string, d: DayQueries): ToolResult => ({
    tool,
    command: `host query over a day, limit ${QUERY_LIMIT}: busy ${d.ms.busy.toFixed(1)} ms, rare ${d.ms.rare.toFixed(1)} ms, absent ${d.ms.absent.toFixed(1)} ms; ${(d.bytes / 1e6).toFixed(0)} MB`,
    status: 'ok',
    wallSeconds: d.fillSeconds,
    packetsPerSecond: (DAY * DAY_RATE) / d.fillSeconds,
    peakRssBytes: null,
  });
  const targets: Target[] = [
    { description: `agent-thread CPU per closed flow ≤ ${AGENT_THREAD_TARGET_US} µs (new)`, met: fresh.agentConn <= AGENT_THREAD_TARGET_US, actual: `new ${us(fresh.agentConn)}, old ${us(old.agentConn)}` },
    { description: `the store's CPU (all its threads) at ${RECORDS_PER_S.toLocaleString('en')} records/s ≤ ${pct(CORE_SHARE_TARGET)} of a core (new)`, met: fresh.coreShare <= CORE_SHARE_TARGET, actual: `new ${pct(fresh.coreShare)} (agent thread ${us(fresh.agent)} + worker ${us(fresh.worker)} a record), old ${pct(old.coreShare)} (${us(old.agent)}, all on the agent thread)` },
    { description: `a flows query (host, limit ${QUERY_LIMIT}) during the writes answers in ≤ 100 ms (new)`, met: fresh.queryMs <= 100, actual: `new median ${fresh.queryMs.toFixed(1)} ms (max ${fresh.queryMaxMs.toFixed(1)}; agent thread ${(fresh.queryAgentUs / 1000).toFixed(1)} ms), old ${old.queryMs.toFixed(1)} ms (max ${old.queryMaxMs.toFixed(1)}; all of it on the agent thread)` },
    { description: 'a host query over a day of flows (busy, rare, absent host) ≤ 200 ms (new)', met: Math.max(dayNew.ms.busy, dayNew.ms.rare, dayNew.ms.absent) <= 200, actual: `new ${dayNew.ms.busy.toFixed(1)} / ${dayNew.ms.rare.toFixed(1)} / ${dayNew.ms.absent.toFixed(1)} ms, old ${dayOld.ms.busy.toFixed(1)} / ${dayOld.ms.rare.toFixed(1)} / ${dayOld.ms.absent.toFixed(1)} ms` },
  ];
  return {
    name: 'history-write',
    title: historyWrite.title,
    input: `${connCount.toLocaleString('en')} conn and ${dnsCount.toLocaleString('en')} dns records from the bench capture, cycled; queries for ${host}; a day at ${DAY_RATE} flows/s`,
    results: [row('old: row per record', old), row('new: segments, worker', fresh), day('old: a day of flows', dayOld), day('new: a day of flows', dayNew)],
    ratios: [
      { label: 'agent-thread CPU per record, old ÷ new', value: old.agent / fresh.agent },
      { label: 'total CPU per record, old ÷ new', value: old.total / fresh.total },
      { label: 'bytes for a day of flows, old ÷ new', value: dayOld.bytes / dayNew.bytes },
    ],
    targets,
  };
}
