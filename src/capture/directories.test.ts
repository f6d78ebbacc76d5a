import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeDirectory } from './directories.js';

test('missing parents are made with the mode; an existing directory is left as it is', () => {
  const root = mkdtempSync(join(tmpdir(), 'loopy-dirs-'));
  try {
    const deep = join(root, 'a', 'b', 'c');
    assert.equal(makeDirectory(deep, 0o700), join(root, 'a'));
    assert.equal(statSync(deep).mode & 0o777, 0o700);
    assert.equal(statSync(join(root, 'a')).mode & 0o777, 0o700);
    assert.equal(makeDirectory(deep, 0o755), undefined);
    writeFileSync(join(root, 'file'), 'x');
    assert.throws(() => makeDirectory(join(root, 'file', 'sub'), 0o700), { code: 'ENOTDIR' });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a directory procfs cannot hold is an error at once, not a loop (Node\'s recursive mkdir spins there)', () => {
  assert.throws(() => makeDirectory('/proc/loopy-nope/deeper', 0o700), (err: NodeJS.ErrnoException) => typeof err.code === 'string');
});
