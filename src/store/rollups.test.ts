import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DATABASE_FILE, HistoryStore } from './history-store.js';
import { statsSecond, tempDir } from './store-fixtures.test-util.js';
import { SERIES_COLUMNS, type SeriesPoint } from './types.js';

const H0 = 1_699_999_200; // an hour boundary: 472,222 × 3600
const noRetention = () => 0; // a clock at the epoch: nothing is ever past retention

/** A deterministic pseudo-random packet count per second (LCG), so sums are not all alike. */
function countsFor(seconds: number, seed = 1): number[] {
  let x = seed;
  return Array.from({ length: seconds }, () => ((x = (x * 1_103_515_245 + 12_345) % 2 ** 31), x % 1000));
}

/** The expected points at a step, summed here from the inputs independently of SQL. */
function expected(start: number, counts: number[], step: number): SeriesPoint[] {
  const byBucket = new Map<number, SeriesPoint>();
  counts.forEach((n, i) => {
    const ts = start + i;
    const bucket = ts - (ts % step);
    const s = statsSecond(ts, n);
    const p = byBucket.get(bucket) ?? { ts: bucket, packets: 0, bytes: 0, packets_in: 0, packets_out: 0, bytes_in: 0, bytes_out: 0, flows_opened: 0, dns_queries: 0, dropped: 0, alerts: 0 };
    p.packets += s.packets;
    p.bytes += s.bytes;
    p.packets_in += s.packets_in;
    p.packets_out += s.packets_out;
    p.bytes_in += s.bytes_in;
    p.bytes_out += s.bytes_out;
    // Flows and DNS are counted from their records, not from stats (history-store.test.ts): none here.
    p.dropped += s.interfaces[0].dropped;
    byBucket.set(bucket, p);
  });
  return [...byBucket.values()];
}

function fill(store: HistoryStore, start: number, counts: number[], flushEvery: number): void {
  counts.forEach((n, i) => {
    store.appendStats(statsSecond(start + i, n));
    if (i % flushEvery === flushEvery - 1) store.flush();
  });
  store.flush();
}

test('minute and hour rollups equal the sums of the seconds, and the coarse tables really hold them', (t) => {
  const dir = tempDir(t);
  const store = HistoryStore.open(dir, { clock: noRetention });
  const start = H0 + 1795; // mid-minute, mid-hour: partial first buckets
  const counts = countsFor(3 * 3600 + 125);
  fill(store, start, counts, 7);
  const until = start + counts.length;
  assert.deepEqual(store.series({ since: start, until, resolution: '1s' }), expected(start, counts, 1));
  assert.deepEqual(store.series({ since: start, until, resolution: '1m' }), expected(start, counts, 60));
  assert.deepEqual(store.series({ since: start, until, resolution: '1h' }), expected(start, counts, 3600));

  // The rolled part is in stats_1m / stats_1h, the unfinished minute and hour only in the finer tables.
  const db = new Database(join(dir, DATABASE_FILE), { readonly: true });
  t.after(() => db.close());
  const lastSecond = until - 1;
  const lastMinute = lastSecond - (lastSecond % 60);
  const lastHour = lastMinute - (lastMinute % 3600);
  assert.equal(db.prepare('SELECT max(ts) FROM stats_1m').pluck().get(), lastMinute - 60);
  assert.equal(db.prepare('SELECT max(ts) FROM stats_1h').pluck().get(), lastHour - 3600);
  const minuteRows = db.prepare('SELECT * FROM stats_1m ORDER BY ts').all();
  assert.deepEqual(minuteRows, expected(start, counts, 60).filter((p) => p.ts < lastMinute));
  store.close();
});

test('a second that arrives after its minute and hour were rolled is added to them too', (t) => {
  const store = HistoryStore.open(tempDir(t), { clock: noRetention });
  const counts = countsFor(2 * 3600 + 10, 5);
  fill(store, H0, counts, 60);
  // An alert whose second is in the first (rolled) hour: the series counts it at every resolution.
  store.appendAlert({ type: 'alert', ts: H0 + 61.5, alert_id: 'late', detector: 'x', severity: 'low', message: 'm', state: 'open' });
  store.flush();
  const until = H0 + counts.length;
  for (const [resolution, step] of [['1s', 1], ['1m', 60], ['1h', 3600]] as const) {
    const points = store.series({ since: H0, until, resolution });
    assert.equal(points.reduce((a, p) => a + p.alerts, 0), 1, resolution);
    assert.equal(points.find((p) => p.alerts === 1)!.ts, H0 + 61 - ((H0 + 61) % step), resolution);
    assert.equal(points.reduce((a, p) => a + p.packets, 0), counts.reduce((a, b) => a + b, 0), resolution);
  }
  store.close();
});

test('top talkers: summed per minute, pruned to the top N once the minute is complete', (t) => {
  const store = HistoryStore.open(tempDir(t), { clock: noRetention, talkersPerMinute: 2 });
  // Minute H0: a 10 B/s for 60 s, b 5, c 1 (pruned); minute H0+60 (unfinished): d only.
  for (let i = 0; i < 60; i++) store.appendStats(statsSecond(H0 + i, 1, [['10.0.0.1', 10], ['10.0.0.2', 5], ['10.0.0.3', 1]]));
  store.appendStats(statsSecond(H0 + 60, 1, [['10.0.0.4', 7]]));
  store.flush();
  assert.deepEqual(store.topTalkers({ since: H0, until: H0 + 120 }), [
    { host: '10.0.0.1', bytes: 600, packets: 60 },
    { host: '10.0.0.2', bytes: 300, packets: 60 },
    { host: '10.0.0.4', bytes: 7, packets: 1 },
  ]);
  assert.deepEqual(store.topTalkers({ since: H0 + 60, until: H0 + 120 }).map((h) => h.host), ['10.0.0.4']);
  store.close();
});

test('series columns are the SeriesPoint fields', () => {
  assert.deepEqual([...SERIES_COLUMNS].sort(), Object.keys(expected(H0, [1], 1)[0]).filter((k) => k !== 'ts').sort());
});
