import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DATE_RANGE_SECONDS, isoTimeOf } from './time-text.js';

test('isoTimeOf: a time a Date holds, to the millisecond', () => {
  assert.equal(isoTimeOf(1718000000.123456), '2024-06-10T06:13:20.123Z');
  assert.equal(isoTimeOf(-1), '1969-12-31T23:59:59.000Z');
  assert.equal(isoTimeOf(DATE_RANGE_SECONDS), '+275760-09-13T00:00:00.000Z');
});

test('isoTimeOf: none for a time past what a Date holds, or no time at all', () => {
  assert.equal(isoTimeOf(DATE_RANGE_SECONDS + 1), undefined);
  assert.equal(isoTimeOf(-1.8e13), undefined);
  assert.equal(isoTimeOf(Number.NaN), undefined);
  assert.equal(isoTimeOf(Number.POSITIVE_INFINITY), undefined);
});
