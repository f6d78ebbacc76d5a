import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { boundaryAfter, tsvValue, zeekTime, ZeekLogs } from './zeek-logs.js';

const HOUR = 3600;
/** 2026-12-05 10:00:00 UTC. */
const TEN = Date.UTC(2026, 11, 5, 10) / 1000;

const weird = (ts: number, name: string) => ({ type: 'weird', _path: 'weird', ts, name, count: 1 });

test('the agent rotates on the hour: the log closed with #close, renamed by its opening time, a fresh one after', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'loopy-zeek14-rotate-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  let now = TEN + 59 * 60 + 58; // 10:59:58
  const logs = new ZeekLogs({ dir, format: 'tsv', rotateSeconds: HOUR, now: () => now });
  logs.write(weird(now, 'before_the_hour'));
  const stats: { type: string; ts: number } = { type: 'stats', ts: now };
  logs.write(stats); // no Zeek log: left out
  logs.flush();
  assert.deepEqual(readdirSync(dir), ['weird.log']);
  now = TEN + HOUR + 0.5; // 11:00:00.5: the first flush after the boundary rotates
  logs.write(weird(now, 'buffered_across_the_hour'));
  logs.flush();
  const rotated = 'weird.2026-12-05-10-59-58.log';
  assert.deepEqual(readdirSync(dir).sort(), [rotated]);
  const old = readFileSync(join(dir, rotated), 'utf8');
  assert.match(old, /\nbefore_the_hour|\tbefore_the_hour\t/);
  assert.match(old, /buffered_across_the_hour/, 'lines buffered before the flush that rotates end the old file');
  assert.ok(old.endsWith('#close\t2026-12-05-11-00-00\n'));
  now += 10;
  logs.write(weird(now, 'after_the_hour'));
  logs.flush();
  const fresh = readFileSync(join(dir, 'weird.log'), 'utf8');
  assert.ok(fresh.startsWith('#separator \\x09\n') && fresh.includes('#open\t2026-12-05-11-00-10\n'));
  assert.match(fresh, /after_the_hour/);
  // No rotation again before 12:00; then at 12:00.
  now = TEN + 2 * HOUR - 1;
  logs.flush();
  assert.ok(readdirSync(dir).includes('weird.log'));
  now = TEN + 2 * HOUR;
  logs.flush();
  assert.deepEqual(readdirSync(dir).sort(), [rotated, 'weird.2026-12-05-11-00-10.log']);
  logs.close();
});

test('a log a crashed agent left is kept under its dated name, not overwritten', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'loopy-zeek14-leftover-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'weird.log'), 'left over\n');
  const logs = new ZeekLogs({ dir, format: 'json', rotateSeconds: HOUR, now: () => TEN });
  logs.write(weird(TEN, 'x'));
  logs.close();
  const files = readdirSync(dir).sort();
  assert.equal(files.length, 2);
  assert.match(files[0], /^weird\.\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d\.log$/);
  assert.equal(readFileSync(join(dir, files[0]), 'utf8'), 'left over\n');
  assert.deepEqual(JSON.parse(readFileSync(join(dir, 'weird.log'), 'utf8')), { ts: TEN, name: 'x', count: 1 });
});

test("values as Zeek's ASCII writer writes them", () => {
  assert.equal(tsvValue(undefined, 'string'), '-');
  assert.equal(tsvValue([], 'set[string]'), '(empty)');
  assert.equal(tsvValue(['a,b', 'c'], 'vector[string]'), 'a\\x2cb,c');
  assert.equal(tsvValue([1, 2.5], 'vector[interval]'), '1.000000,2.500000');
  assert.equal(tsvValue(1718000000.011619, 'time'), '1718000000.011619');
  assert.equal(tsvValue(true, 'bool'), 'T');
  assert.equal(tsvValue('tab\there\\', 'string'), 'tab\\x09here\\x5c');
  assert.equal(tsvValue('-', 'string'), '\\x2d');
  assert.equal(tsvValue('(empty)', 'string'), '\\x28empty)');
  assert.equal(tsvValue('bücher.example', 'string'), 'bücher.example');
});

test('rotation times: the next multiple of the interval, named as Zeek names them', () => {
  assert.equal(boundaryAfter(TEN, HOUR), TEN + HOUR);
  assert.equal(boundaryAfter(TEN + 1799.9, HOUR), TEN + HOUR);
  assert.equal(zeekTime(TEN + 61.9), '2026-12-05-10-01-01');
});
