import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TimeSpecError, parseDuration, parseTimeRange, parseTimeSpec } from './time-spec.js';

const NOW = 1_718_000_000; // 2024-06-10T06:13:20Z

test('durations', () => {
  assert.equal(parseDuration('30s', '--x'), 30);
  assert.equal(parseDuration('15m', '--x'), 900);
  assert.equal(parseDuration('1.5h', '--x'), 5400);
  assert.equal(parseDuration('7d', '--x'), 604_800);
  assert.equal(parseDuration('2w', '--x'), 1_209_600);
  assert.throws(() => parseDuration('15', '--x'), (e: Error) => e instanceof TimeSpecError && /--x '15' is not a duration/.test(e.message));
  assert.equal(parseDuration('1y', '--x'), 365 * 86_400);
  assert.throws(() => parseDuration('1mo', '--x'), /not a duration/);
});

test('now, back from now, ISO 8601 and epoch seconds', () => {
  assert.equal(parseTimeSpec('now', NOW, '--until'), NOW);
  assert.equal(parseTimeSpec('1h', NOW, '--since'), NOW - 3600);
  assert.equal(parseTimeSpec('2024-06-10T06:13:20Z', NOW, '--since'), NOW);
  assert.equal(parseTimeSpec('2024-06-10T08:13:20+02:00', NOW, '--since'), NOW);
  // A date alone is midnight UTC (ECMAScript's rule for date-only ISO forms).
  assert.equal(parseTimeSpec('2024-06-10', NOW, '--since'), Date.UTC(2024, 5, 10) / 1000);
  assert.equal(parseTimeSpec('1718000000.5', NOW, '--since'), 1_718_000_000.5);
});

test('clear errors', () => {
  assert.throws(() => parseTimeSpec('yesterday', NOW, '--since'), /--since 'yesterday' is not a time: use 'now', a duration/);
  assert.throws(() => parseTimeSpec('2024-13-45', NOW, '--since'), /--since '2024-13-45' is not a real date/);
  assert.throws(() => parseTimeRange('now', '1h', NOW), /--since now is after --until 1h: swap them/);
  assert.deepEqual(parseTimeRange('1h', 'now', NOW), { since: NOW - 3600, until: NOW });
});
