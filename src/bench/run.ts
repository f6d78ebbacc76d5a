#!/usr/bin/env node
/**
 * npm run bench: runs every registered benchmark (registry.ts) and prints a table per benchmark with
 * ratios against the peers run in the same process tree, and the project's targets.
 *   node dist/bench/run.js [--packets N] [--seed S] [--only loopy[,tcpdump,tshark]] [--bench NAME] [--json]
 */
import { parseArgs } from 'node:util';
import { BENCHMARKS } from './registry.js';
import { formatResult } from './report.js';
import type { BenchResult } from './types.js';

const USAGE = 'usage: bench [--packets N (default 2000000)] [--seed S] [--only TOOL[,TOOL]] [--bench NAME[,NAME]] [--json]';

function fail(message: string): never {
  process.stderr.write(`bench: ${message}\n${USAGE}\n`);
  process.exit(2);
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        packets: { type: 'string' },
        seed: { type: 'string' },
        only: { type: 'string' },
        bench: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    fail((err as Error).message);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\nbenchmarks: ${BENCHMARKS.map((b) => b.name).join(', ')}\n`);
    return;
  }
  const packets = Number(values.packets ?? 2_000_000);
  if (!Number.isInteger(packets) || packets <= 0) fail(`--packets ${values.packets}: give a positive whole number`);
  const seed = Number(values.seed ?? 1);
  if (!Number.isInteger(seed)) fail(`--seed ${values.seed}: give a whole number`);
  const only = values.only ? values.only.split(',').map((s) => s.trim()).filter(Boolean) : null;
  const wanted = values.bench ? values.bench.split(',').map((s) => s.trim()) : null;
  for (const name of wanted ?? []) {
    if (!BENCHMARKS.some((b) => b.name === name)) fail(`unknown benchmark "${name}" (known: ${BENCHMARKS.map((b) => b.name).join(', ')})`);
  }
  const log = (line: string): void => {
    process.stderr.write(`bench: ${line}\n`);
  };
  const results: BenchResult[] = [];
  for (const b of BENCHMARKS) {
    if (wanted && !wanted.includes(b.name)) continue;
    const result = await b.run({ packets, seed, only, log });
    results.push(result);
    if (!values.json) process.stdout.write(`${formatResult(result)}\n\n`);
  }
  if (values.json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  // A contender that was asked for and failed is an error; missed targets are reported, not fatal.
  if (results.some((r) => r.results.some((t) => t.status === 'failed'))) process.exitCode = 1;
}

main().catch((err: Error) => {
  process.stderr.write(`bench: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
