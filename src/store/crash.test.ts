/**
 * kill -9 during writes, for real: a child (the store on its own thread, as in the agent) appends and flushes
 * every 100 ms and is killed with SIGKILL at a random moment. The database must pass PRAGMA integrity_check, hold every second the child reported flushed
 * (with all of its flows: one transaction), and take appends again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { DATABASE_FILE, HistoryStore } from './history-store.js';
import { statsSecond, tempDir } from './store-fixtures.test-util.js';
import { QUERY_LIMITS } from './types.js';

const here = dirname(fileURLToPath(import.meta.url));
const underTsx = import.meta.url.endsWith('.ts');
const childScript = join(here, `crash-child.test-util.${underTsx ? 'ts' : 'js'}`);
// An hour ago: the store in the child enforces retention by the wall clock.
const FIRST = Math.floor(Date.now() / 1000) - 3600;

/** Runs the child until it has reported `flushes` seconds plus a random fraction of one more, then SIGKILLs it. */
function runAndKill(dir: string, first: number, flushes: number): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(underTsx ? ['--import', 'tsx'] : []), childScript, dir, String(first)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const flushed: number[] = [];
    let buffered = '';
    let stderr = '';
    let killTimer: NodeJS.Timeout | undefined;
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.stdout.on('data', (c: Buffer) => {
      buffered += c.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) flushed.push(Number(line));
      if (flushed.length >= flushes && killTimer === undefined) {
        killTimer = setTimeout(() => child.kill('SIGKILL'), Math.random() * 100);
      }
    });
    const deadline = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the child did not report ${flushes} flushes in time: ${stderr}`));
    }, 30_000);
    child.on('exit', (code, signal) => {
      clearTimeout(deadline);
      if (signal !== 'SIGKILL') reject(new Error(`child exited ${code} ${signal}: ${stderr}`));
      else resolve(flushed);
    });
  });
}

test('kill -9 during writes loses at most the last second; the store opens clean and appends again', async (t) => {
  const dir = tempDir(t);
  for (let round = 0; round < 3; round++) {
    // Each run writes its own range of seconds, so what one run left is checked apart from the others.
    const first = FIRST + round * 1000;
    const flushed = await runAndKill(dir, first, 10);
    assert.ok(flushed.length >= 10);

    const db = new Database(join(dir, DATABASE_FILE));
    assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
    const rows = db.prepare('SELECT ts, packets FROM stats_1s WHERE ts >= ? AND ts < ? ORDER BY ts').all(first, first + 1000) as Array<{ ts: number; packets: number }>;
    const seconds = rows.map((r) => r.ts);
    for (const s of flushed) assert.ok(seconds.includes(s), `flushed second ${s} is missing`);
    // At most the second being flushed at the kill got in besides (its flush committed, the print did not).
    const extra = seconds.filter((s) => !flushed.includes(s));
    assert.ok(extra.length <= 1 && extra.every((s) => s === flushed.at(-1)! + 1), `unexpected seconds ${extra}`);
    for (const r of rows) assert.equal(r.packets, (r.ts % 1000) + 1, `second ${r.ts} written once, whole`);
    db.close();
    // All or nothing per flush: every stored second has all 1,500 of its flows, and no flow is without its second.
    // Second by second: a query returns at most QUERY_LIMITS.max rows, and a second holds 1,500.
    const store = HistoryStore.open(dir, { clock: () => 0 });
    const perSecond: Array<[number, number]> = [];
    for (let s = first; s <= (seconds.at(-1) ?? first) + 2; s++) {
      const n = store.flows({ since: s, until: s + 1, limit: QUERY_LIMITS.max }).length;
      if (n > 0) perSecond.push([s, n]);
    }
    store.close();
    assert.deepEqual(perSecond, seconds.map((s) => [s, 1500]));
  }

  // The agent carries on: open, append, flush, read back.
  const store = HistoryStore.open(dir, { clock: () => 0 });
  store.appendStats(statsSecond(FIRST + 5000, 7));
  store.flush();
  assert.deepEqual(store.series({ since: FIRST + 5000, until: FIRST + 5001, resolution: '1s' }).map((p) => p.packets), [7]);
  store.close();
});
