import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRange, presetRange, resolutionFor } from './history-range.js';

const NOW = 1718003600;

test('presets and their resolutions', () => {
  assert.deepEqual(presetRange(0, NOW + 0.7), { since: NOW - 3600, until: NOW, label: 'last hour' });
  assert.equal(resolutionFor(presetRange(0, NOW)).resolution, '1m');
  assert.equal(resolutionFor(presetRange(2, NOW)).resolution, '1h');
  assert.equal(resolutionFor({ since: 0, until: 300, label: '' }).resolution, '1s');
});

test('typed ranges: relative, absolute, start plus span; errors say what is expected', () => {
  assert.deepEqual(parseRange('-3h', NOW), { since: NOW - 10800, until: NOW, label: 'last 3h' });
  // 2024-06-10 06:00 UTC = 1717999200.
  assert.deepEqual(parseRange('2024-06-10 06:00 .. 2024-06-10 07:30', NOW), { since: 1717999200, until: 1718004600, label: '2024-06-10 06:00 .. 2024-06-10 07:30' });
  assert.equal((parseRange('2024-06-10T06:00 .. +90m', NOW) as { until: number }).until, 1718004600);
  assert.match((parseRange('yesterday', NOW) as { error: string }).error, /type "-3h"/);
  assert.match((parseRange('2024-06-10 07:00 .. 2024-06-10 06:00', NOW) as { error: string }).error, /end must come after/);
  assert.match((parseRange('2024-13-45 .. +1h', NOW) as { error: string }).error, /2024-13-45/);
});
