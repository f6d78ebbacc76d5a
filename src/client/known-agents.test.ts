import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FingerprintError, checkFingerprint, normalizeFingerprint } from './known-agents.js';
import { testDir } from '../test-support/temp-dir.js';

// Two SHA-256 fingerprints as Node's X509Certificate.fingerprint256 prints them.
const A = Array.from({ length: 32 }, (_, i) => (i * 7).toString(16).padStart(2, '0').toUpperCase()).join(':');
const B = Array.from({ length: 32 }, (_, i) => (255 - i).toString(16).padStart(2, '0').toUpperCase()).join(':');

const tempFile = () => join(testDir('loopy-known-'), 'sub', 'known_agents');

/** Checks and pins at once, as a client does once the peer has answered hello; returns the outcome. */
function checkAndPin(file: string, key: string, presented: string, expected?: string): string {
  const check = checkFingerprint(file, key, presented, expected);
  check.pin();
  return check.outcome;
}

test('normalizes the usual spellings of a fingerprint', () => {
  assert.equal(normalizeFingerprint(A.toLowerCase()), A);
  assert.equal(normalizeFingerprint(`SHA256:${A.replace(/:/g, '')}`), A);
  assert.equal(normalizeFingerprint('AB:CD'), null);
});

test('pins on first use, then matches; nothing is written before pin()', () => {
  const file = tempFile();
  assert.equal(checkFingerprint(file, '10.0.0.5:7070', A).outcome, 'pinned-first-use');
  assert.equal(existsSync(file), false, 'not pinned: the peer has not answered hello');
  assert.equal(checkAndPin(file, '10.0.0.5:7070', A), 'pinned-first-use');
  assert.equal(readFileSync(file, 'utf8'), `10.0.0.5:7070 ${A}\n`);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.equal(checkAndPin(file, '10.0.0.5:7070', A.toLowerCase()), 'matched');
  // Another agent gets its own line.
  assert.equal(checkAndPin(file, '10.0.0.6:7070', B), 'pinned-first-use');
});

test('a changed certificate is refused with one line that says what to do', () => {
  const file = tempFile();
  checkAndPin(file, 'h:1', A);
  assert.throws(
    () => checkAndPin(file, 'h:1', B),
    (e: Error) => e instanceof FingerprintError && !e.message.includes('\n') && e.message.includes(`now ${B}`) && e.message.includes(`${file}:1`) && /delete that line or pass --fingerprint/.test(e.message),
  );
});

test('an explicit fingerprint must match, and replaces the pin', () => {
  const file = tempFile();
  checkAndPin(file, 'h:1', A);
  assert.throws(() => checkAndPin(file, 'h:1', A, B), /not the expected/);
  assert.equal(checkAndPin(file, 'h:1', B, B), 'pinned-explicit');
  assert.equal(readFileSync(file, 'utf8'), `h:1 ${B}\n`);
  assert.equal(checkAndPin(file, 'h:1', B), 'matched');
  assert.throws(() => checkAndPin(file, 'h:1', B, 'nonsense'), /is not a SHA-256 fingerprint/);
});

test('a damaged known_agents line is reported with its line number', () => {
  const file = tempFile();
  checkAndPin(file, 'h:1', A);
  writeFileSync(file, `# comment\nh:1 garbage\n`);
  assert.throws(() => checkAndPin(file, 'h:1', A), /known_agents:2 is not 'HOST:PORT FINGERPRINT'/);
});
