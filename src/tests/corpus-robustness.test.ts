/**
 * Every corpus file, damaged ones included, runs to the end through the whole engine without an exception:
 * bad traffic becomes weirds, a damaged file a CaptureFileError after the packets before the damage. Every
 * record is also written as ECS, which formats times as dates (a corpus file stamped past the year 275760
 * once crashed it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { corpusPath, corpusSkipReason, haveCorpus, readManifest } from '../test-support/corpus.js';
import { runEngineOnFile } from '../test-support/run-engine.js';
import { toEcs } from '../analyze/ecs.js';

test('corpus: every file runs to the end without an exception', { skip: corpusSkipReason() }, async () => {
  const rows = haveCorpus() ? readManifest() : [];
  let damaged = 0;
  for (const row of rows) {
    const run = await runEngineOnFile(corpusPath(row.path));
    if (run.error) {
      damaged++;
      assert.match(run.error.message, /byte \d+/, `${row.path}: the error names the byte offset`);
      assert.ok(!run.error.message.includes('\n'), `${row.path}: the error is one line`);
    }
    assert.equal(run.records.at(-1)?.type, 'summary', `${row.path}: the summary comes last`);
    for (const record of run.records) JSON.stringify(toEcs(record));
  }
  assert.equal(rows.length, 406);
  assert.ok(damaged > 0 && damaged < 40, `${damaged} damaged files`);
});
