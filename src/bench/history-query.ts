/**
 * History query: a store filled with a week of generated per-second statistics, appended and rolled up for
 * real (1 s kept for the last 24 h by retention, 1 min and 1 h for the rest, ten top talkers a second), then
 * a 24-hour range query at one-minute resolution, timed many times. The peer is the same question asked of
 * the per-second table directly (what the rollups save). The fill flushes once per 60 appended seconds
 * (the agent flushes each second; a week of single-second transactions would time the disk, not the store).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DATABASE_FILE, HistoryStore } from '../store/history-store.js';
import type { StatsSecond } from '../stats/stats-record.js';
import type { BenchOptions, BenchResult, Benchmark, Target, ToolResult } from './types.js';

const WEEK = 7 * 86_400;
const DAY = 86_400;
const TARGET_MS = 50;
const QUERY_RUNS = 50;
const FLUSH_EVERY = 60;
const END = 1_718_000_000 - (1_718_000_000 % 3600); // an hour boundary, so the week is whole hours

/** A plausible second: a daily rhythm plus noise from a small LCG (deterministic for a seed). */
function secondAt(ts: number, rand: () => number): StatsSecond {
  const daily = 1 + Math.sin(((ts % DAY) / DAY) * 2 * Math.PI);
  const packets = Math.round(2000 * daily + 500 * rand());
  const bytes = packets * (400 + Math.round(600 * rand()));
  const talkers = Array.from({ length: 10 }, (_, i) => ({ host: `10.0.${(ts + i) % 7}.${i * 13}`, bytes: Math.round(bytes / (i + 2)), packets: Math.round(packets / (i + 2)), flows: 1, local: true }));
  return {
    type: 'stats', ts, duration: 1, packets, bytes,
    packets_in: packets >> 1, packets_out: packets - (packets >> 1), bytes_in: bytes >> 1, bytes_out: bytes - (bytes >> 1),
    interfaces: [{ name: 'eth0', packets, bytes: packets * 100, received: packets, dropped: 0, if_dropped: 0, drop_pct: 0, received_total: 0, dropped_total: 0 }],
    protocols: {}, top_talkers: talkers, flows_active: 100, flows_opened: Math.round(packets / 40), flows_closed: 0,
    dns: { queries: Math.round(packets / 100), answers: 0, rcodes: {} }, weirds: {}, cpu_percent: 0, rss_bytes: 0,
  };
}

function lcg(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => ((x = (Math.imul(x, 1_103_515_245) + 12_345) >>> 0) / 2 ** 32);
}

function timeRuns(fn: () => unknown, runs: number): { median: number; max: number; first: number } {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  const sorted = [...times].sort((a, b) => a - b);
  return { first: times[0], median: sorted[sorted.length >> 1], max: sorted[sorted.length - 1] };
}

export const historyQuery: Benchmark = {
  name: 'history-query',
  title: 'History: a 24-hour range at 1-minute resolution over a week of per-second data',
  async run(options: BenchOptions): Promise<BenchResult> {
    const parent = mkdtempSync(join(tmpdir(), 'loopy-bench-store-'));
    try {
      const start = END - WEEK;
      let clock = start;
      const store = HistoryStore.open(join(parent, 'data'), { clock: () => clock });
      const rand = lcg(options.seed);
      options.log(`filling a store with ${WEEK.toLocaleString('en')} seconds (a week) of generated statistics`);
      const fill0 = process.hrtime.bigint();
      for (let ts = start; ts < END; ts++) {
        store.appendStats(secondAt(ts, rand));
        if ((ts - start) % FLUSH_EVERY === FLUSH_EVERY - 1) {
          clock = ts;
          store.flush();
        }
      }
      store.flush();
      const fillSeconds = Number(process.hrtime.bigint() - fill0) / 1e9;
      const range = { since: END - DAY, until: END, resolution: '1m' as const };
      const points = store.series(range).length;
      const query = timeRuns(() => store.series(range), QUERY_RUNS);
      const usedMb = store.usedBytes() / 1e6;
      store.close();

      // The peer: the same 24 hours summed per minute straight from the per-second table.
      const db = new Database(join(parent, 'data', DATABASE_FILE), { readonly: true });
      const rows1s = db.prepare('SELECT count(*) FROM stats_1s').pluck().get() as number;
      const naive = db.prepare('SELECT ts - ts % 60 AS m, sum(packets), sum(bytes), sum(packets_in), sum(packets_out), sum(bytes_in), sum(bytes_out), sum(flows_opened), sum(dns_queries), sum(dropped), sum(alerts) FROM stats_1s WHERE ts >= ? AND ts < ? GROUP BY m');
      const naiveTime = timeRuns(() => naive.all(range.since, range.until), 10);
      db.close();

      const results: ToolResult[] = [
        { tool: 'loopy-store fill', command: `append + flush ${WEEK} s (rate = seconds stored/s)`, status: 'ok', wallSeconds: fillSeconds, packetsPerSecond: WEEK / fillSeconds, peakRssBytes: null },
        { tool: 'loopy-store query', command: `series 24 h @ 1m (${points} points), median of ${QUERY_RUNS}`, status: 'ok', wallSeconds: query.median / 1000, packetsPerSecond: 1000 / query.median, peakRssBytes: null },
        { tool: 'stats_1s directly', command: `GROUP BY minute over ${rows1s} rows of stats_1s, median of 10`, status: 'ok', wallSeconds: naiveTime.median / 1000, packetsPerSecond: 1000 / naiveTime.median, peakRssBytes: null },
      ];
      const targets: Target[] = [
        { description: `24-hour query at 1-minute resolution ≤ ${TARGET_MS} ms`, met: query.median <= TARGET_MS, actual: `median ${query.median.toFixed(2)} ms, first ${query.first.toFixed(2)} ms, max ${query.max.toFixed(2)} ms` },
        { description: 'a week of seconds stored faster than real time', met: WEEK / fillSeconds > 1, actual: `${fillSeconds.toFixed(1)} s to fill, ${usedMb.toFixed(1)} MB in use` },
      ];
      return {
        name: this.name,
        title: this.title,
        input: `${WEEK.toLocaleString('en')} generated seconds (seed ${options.seed}), 10 top talkers each; ${rows1s.toLocaleString('en')} rows left in stats_1s after retention`,
        results,
        ratios: [{ label: 'query time from stats_1s ÷ from the rollups', value: naiveTime.median / query.median }],
        targets,
      };
    } finally {
      rmSync(parent, { recursive: true, force: true });
    }
  },
};
