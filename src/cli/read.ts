/**
 * `loopy read`: its options and help. The run (read-run.ts) is loaded only when it runs, so `loopy read --help`
 * and `loopy --help` load none of the engine, and a run loads what it uses (see runRead).
 */
import type { Command } from 'commander';
import { DEFAULT_MAX_FLOWS } from '../analyze/flows/flow-table.js';
import { parsePositiveInt, UsageError } from './errors.js';
import { SEED_HELP } from './id-seed.js';
import { filterOf } from './trailing-filter.js';
import { RECORD_FORMAT_HELP, ZEEK_FORMAT_HELP, ZEEK_LOGS_HELP } from './output-options.js';

export interface ReadOptions {
  /** tcpdump's spelling: `loopy read -r FILE`. */
  read?: string;
  json?: boolean;
  filter?: string;
  maxFlows?: string;
  /** tcpdump's -c: stop after this many packets (of those the filter keeps). */
  count?: string;
  /** false with --no-detect. */
  detect?: boolean;
  detectConfig?: string;
  evidence?: string;
  seed?: string;
  /** tcpdump's -w: write the packets kept (after -f and -c) to this pcap file. */
  write?: string;
  /** `ndjson` (as --json) or `ecs`: records in the Elastic Common Schema. */
  format?: string;
  zeekLogs?: string;
  zeekFormat?: string;
  /** Engines in worker threads, each over the flows of one shard of the address pairs (default 1). */
  workers?: string;
}

/** More engines than this only add threads fighting for the same cores and memory. */
export const MAX_READ_WORKERS = 64;

export function registerRead(program: Command): void {
  program
    .command('read')
    .description('analyse a pcap or pcapng file (or - for stdin): a summary, or NDJSON records with --json')
    .argument('[file]', 'capture file, or - to read standard input')
    .argument('[expression...]', 'a filter as tcpdump takes it, in trailing words (loopy read F tcp port 80): the same as -f')
    .option('-r, --read <file>', 'the capture file, as tcpdump -r takes it (- for standard input)')
    .option('--json', 'write NDJSON records (conn, dns, tls, http, alert, weird, summary) instead of the summary')
    .option('-f, --filter <expr>', 'tcpdump-syntax capture filter: keep only the packets it matches')
    .option('-c, --count <n>', 'stop after this many packets (those the filter keeps), as tcpdump -c does')
    .option('-w, --write <file>', 'also write the packets kept (after the filter and -c) to this pcap file, as tcpdump -w does')
    .option('--max-flows <n>', 'flow table size; the least recently active flow is evicted past it', String(DEFAULT_MAX_FLOWS))
    .option('--no-detect', 'skip detection (no alert records, no Alerts section)')
    .option('--detect-config <file>', 'detection settings (JSON): thresholds, allow-lists, suppressions, blocklist, delivery')
    .option('--evidence <dir>', 'write a pcap of the packets around each alert into this directory')
    .option('--seed <n>', SEED_HELP)
    .option('--format <format>', RECORD_FORMAT_HELP)
    .option('--zeek-logs <dir>', ZEEK_LOGS_HELP)
    .option('--zeek-format <format>', ZEEK_FORMAT_HELP, 'tsv')
    .option('--workers <n>', 'engines in parallel threads, each over a share of the address pairs (default 1)', '1')
    .action(async (file: string | undefined, words: string[], options: ReadOptions) => {
      // With -r, every word is the filter's, as with tcpdump -r FILE tcp port 80.
      const expression = options.read !== undefined && file !== undefined ? [file, ...words] : words;
      const source = options.read ?? file;
      if (source === undefined) throw new UsageError('read needs a capture file: loopy read FILE (or -r FILE, or - for standard input)');
      options.filter = filterOf(options.filter, expression);
      const workers = parsePositiveInt(options.workers ?? '1', '--workers', MAX_READ_WORKERS);
      process.exitCode = workers > 1
        ? await (await import('./read-workers.js')).runShardedRead(source, options, workers, process.stdout, process.stderr)
        : await (await import('./read-run.js')).runRead(source, options, process.stdout, process.stderr);
      // Done before the input is (-c): a pipe still open (tcpdump -w -) would keep loopy waiting for it.
      if (source === '-') process.stdin.destroy();
    });
}

