/**
 * The module view, enforced: each stage imports only from itself and the stages below it
 * (capture → decode → analyze → stats → host → detect → store → serve → client → ui → cli).
 * Tools (synth, bench, tests, test-support, packaging), test files and their helpers (*.test.ts, *.test-util.ts, testing/) and the
 * library entry point sit on top and may import anything.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { projectRoot } from '../test-support/corpus.js';

export const STAGES = ['capture', 'decode', 'analyze', 'stats', 'host', 'detect', 'store', 'serve', 'client', 'ui', 'cli'] as const;
const TOOLS = new Set(['synth', 'bench', 'tests', 'test-support', 'packaging', 'index.ts']);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    // testing/ folders hold test helpers (fakes, harnesses), which may import test support.
    if (statSync(path).isDirectory()) return name === 'testing' ? [] : sourceFiles(path);
    return /\.tsx?$/.test(name) && !/\.test(-util)?\.tsx?$/.test(name) ? [path] : [];
  });
}

function stageOf(srcRelative: string): string {
  return srcRelative.split('/')[0];
}

test('imports run downhill only', () => {
  const src = join(projectRoot, 'src');
  const violations: string[] = [];
  for (const file of sourceFiles(src)) {
    const from = stageOf(relative(src, file));
    if (TOOLS.has(from)) continue;
    const fromRank = STAGES.indexOf(from as (typeof STAGES)[number]);
    assert.ok(fromRank >= 0, `${relative(projectRoot, file)} is in no known stage folder: add it to STAGES or TOOLS`);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)) {
      const target = relative(src, resolve(dirname(file), m[1]));
      const to = stageOf(target);
      const toRank = STAGES.indexOf(to as (typeof STAGES)[number]);
      if (TOOLS.has(to) || toRank > fromRank) violations.push(`${relative(src, file)} imports ${target} (${from} → ${to} goes uphill)`);
    }
  }
  assert.deepEqual(violations, []);
});
