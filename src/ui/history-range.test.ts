import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRange, presetRange, resolutionFor } from './history-range.js';

const NOW = 1718003600;

test('presets and their resolutions', () => {
  // Whole steps, the unfinished one left out: NOW is 07:13:20, so the last hour is 06:13:00 to 07:13:00.
  assert.deepEqual(presetRange(0, NOW + 0.7), { since: NOW - 20 - 3600, until: NOW - 20, label: 'last hour' });
  assert.equal(resolutionFor(presetRange(0, NOW)).resolution, '1m');
  assert.equal(resolutionFor(presetRange(2, NOW)).resolution, '1h');
  assert.equal(resolutionFor({ since: 0, until: 300, label: '' }).resolution, '1s');
});

test('typed ranges: the forms of query --since, "-30m" too; absolute times in UTC; errors say what is expected', () => {
  assert.deepEqual(parseRange('-3h', NOW), { since: NOW - 20 - 10800, until: NOW - 20, label: 'last 3h' });
  assert.deepEqual(parseRange('3h', NOW), { since: NOW - 20 - 10800, until: NOW - 20, label: 'last 3h' });
  assert.deepEqual(parseRange('5m', NOW), { since: NOW - 300, until: NOW, label: 'last 5m' });
  // 2024-06-10 06:00 UTC = 1717999200.
  assert.deepEqual(parseRange('2024-06-10 06:00 .. 2024-06-10 07:30', NOW), { since: 1717999200, until: 1718004600, label: '2024-06-10 06:00 .. 2024-06-10 07:30' });
  assert.equal((parseRange('2024-06-10T06:00 .. +90m', NOW) as { until: number }).until, 1718004600);
  assert.equal((parseRange('2024-06-10T08:00+02:00 .. now', NOW) as { since: number }).since, 1717999200);
  assert.deepEqual(parseRange('2024-06-10T06:00:00Z', NOW), { since: 1717999200, until: NOW, label: '2024-06-10T06:00:00Z .. now' });
  assert.equal((parseRange('2h .. 1h', NOW) as { until: number }).until, NOW - 3600);
  assert.match((parseRange('yesterday', NOW) as { error: string }).error, /start 'yesterday' is not a time.*30m  2h  -30m/);
  assert.match((parseRange('', NOW) as { error: string }).error, /type a range: 30m/);
  assert.match((parseRange('2024-06-10 07:00 .. 2024-06-10 06:00', NOW) as { error: string }).error, /end must come after/);
  assert.match((parseRange('2024-13-45 .. +1h', NOW) as { error: string }).error, /2024-13-45/);
});
