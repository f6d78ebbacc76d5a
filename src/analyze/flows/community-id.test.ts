import { test } from 'node:test';
import assert from 'node:assert/strict';
import { communityId } from './community-id.js';

const ip = (s: string) => Uint8Array.from(s.split('.').map(Number));

// Baseline values from the Community ID specification's README (seed 0 unless stated).
test('community id of the spec TCP example, both directions', () => {
  const a = ip('128.232.110.120');
  const b = ip('66.35.250.204');
  assert.equal(communityId(6, a, b, 34855, 80), '1:LQU9qZlK+B5F3KDmev6m5PMibrg=');
  assert.equal(communityId(6, b, a, 80, 34855), '1:LQU9qZlK+B5F3KDmev6m5PMibrg=');
});

test('community id changes with the seed', () => {
  const a = ip('128.232.110.120');
  const b = ip('66.35.250.204');
  assert.notEqual(communityId(6, a, b, 34855, 80, 1), communityId(6, a, b, 34855, 80, 0));
});

test('icmp echo request and reply share one community id; unpaired types do not flip', () => {
  const a = ip('192.168.0.89');
  const b = ip('192.168.0.1');
  assert.equal(communityId(1, a, b, 8, 0), communityId(1, b, a, 0, 0));
  assert.notEqual(communityId(1, a, b, 3, 1), communityId(1, b, a, 3, 1));
});
