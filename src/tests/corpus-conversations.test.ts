/**
 * Golden test: for every corpus file tshark reads cleanly, Loopy's TCP and UDP conversations (endpoint pairs
 * and frames per direction) and its frame count equal tshark's. Remaining differences are listed in
 * known-differences.ts with their reason; a listed file that starts to match fails the test, so the list
 * stays true.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { corpusPath, corpusSkipReason, haveCorpus, readManifest, referencePath } from '../test-support/corpus.js';
import { runEngineOnFile } from '../test-support/run-engine.js';
import { readConversations, readFrameCount } from '../test-support/tshark-reference.js';
import { diffConversations, loopyConversations, tsharkConversations } from './conversations.js';
import { KNOWN_CONVERSATION_DIFFERENCES } from './known-differences.js';

const rows = haveCorpus() ? readManifest().filter((r) => r.tsharkStatus === 'ok') : [];

test('corpus: TCP/UDP conversations and frame counts match tshark', { skip: corpusSkipReason() }, async () => {
  const failures: string[] = [];
  const stale: string[] = [];
  let compared = 0;
  for (const row of rows) {
    const run = await runEngineOnFile(corpusPath(row.path));
    const diffs: string[] = [];
    const frames = readFrameCount(referencePath(row.path, 'frames.txt'));
    if (frames !== undefined && frames !== run.summary.packets) diffs.push(`frames: loopy ${run.summary.packets}, tshark ${frames}`);
    for (const proto of ['tcp', 'udp'] as const) {
      const reference = tsharkConversations(readConversations(referencePath(row.path, `conv_${proto}.txt`)));
      for (const d of diffConversations(loopyConversations(run.records, proto), reference)) diffs.push(`${proto} ${d}`);
    }
    compared++;
    const known = KNOWN_CONVERSATION_DIFFERENCES[row.path];
    if (diffs.length > 0 && !known) failures.push(`${row.path}:\n    ${diffs.slice(0, 6).join('\n    ')}${diffs.length > 6 ? `\n    … ${diffs.length - 6} more` : ''}`);
    if (diffs.length === 0 && known) stale.push(`${row.path} now matches tshark: remove it from known-differences.ts`);
  }
  assert.ok(compared > 250, `only ${compared} files compared`);
  assert.deepEqual([...failures, ...stale], []);
});
