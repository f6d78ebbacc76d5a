import type { Command } from 'commander';
import { Engine } from '../analyze/engine.js';
import { defaultApps } from '../analyze/apps/index.js';
import { defaultProtocols } from '../decode/protocols/index.js';
import { CaptureFileError, openCaptureFile } from '../capture/capture-file.js';
import { ReadReport } from '../stats/read-report.js';
import { NdjsonWriter } from './ndjson-writer.js';
import { renderReadSummary } from './read-summary.js';
import { parsePositiveInt, UsageError } from './errors.js';
import type { PacketFilterFactory } from './filter.js';
import { loadPacketFilter } from './filter.js';

export interface ReadOptions {
  /** tcpdump's spelling: `loopy read -r FILE`. */
  read?: string;
  json?: boolean;
  filter?: string;
  maxFlows?: string;
}

export function registerRead(program: Command): void {
  program
    .command('read')
    .description('analyse a pcap or pcapng file (or - for stdin): a summary, or NDJSON records with --json')
    .argument('[file]', 'capture file, or - to read standard input')
    .option('-r, --read <file>', 'the capture file, as tcpdump -r takes it (- for standard input)')
    .option('--json', 'write NDJSON records (conn, dns, tls, http, weird, summary) instead of the summary')
    .option('-f, --filter <expr>', 'tcpdump-syntax capture filter: keep only the packets it matches')
    .option('--max-flows <n>', 'flow table size; the least recently active flow is evicted past it', '262144')
    .action(async (file: string | undefined, options: ReadOptions) => {
      const source = file ?? options.read;
      if (source === undefined) throw new UsageError('read needs a capture file: loopy read FILE (or -r FILE, or - for standard input)');
      if (file !== undefined && options.read !== undefined) throw new UsageError(`read takes one capture file, not both ${file} and -r ${options.read}`);
      process.exitCode = await runRead(source, options, process.stdout, process.stderr);
    });
}

/** Runs `loopy read`; returns the exit status (0, or 1 when the file is damaged or unreadable). */
export async function runRead(file: string, options: ReadOptions, stdout: NodeJS.WritableStream, stderr: NodeJS.WritableStream): Promise<number> {
  const maxFlows = parsePositiveInt(options.maxFlows ?? '262144', '--max-flows');
  const writer = options.json ? new NdjsonWriter(stdout as NodeJS.WritableStream & import('node:stream').Writable) : undefined;
  const report = options.json ? undefined : new ReadReport();
  const engine = new Engine({
    protocols: defaultProtocols,
    apps: defaultApps,
    maxFlows,
    onRecord: writer ? (r) => writer.write(r) : (r) => report!.add(r),
  });
  const filter: PacketFilterFactory | undefined = options.filter ? await loadPacketFilter(options.filter) : undefined;
  const capture = openCaptureFile(file);
  let failure: Error | undefined;
  try {
    for await (const batch of capture) {
      engine.processBatch(batch, filter?.matches(batch));
      if (writer) {
        await writer.drain();
        if (writer.isClosed) break;
      }
    }
  } catch (err) {
    if (!(err instanceof CaptureFileError)) throw err;
    failure = err;
  }
  if (failure && engine.packets === 0 && failure instanceof CaptureFileError && failure.code === 'LOOPY_FILE_UNREADABLE') {
    stderr.write(`loopy: ${failure.message}\n`);
    return 1;
  }
  engine.finish();
  if (writer) await writer.end();
  else stdout.write(renderReadSummary(file, capture.info()?.detail, report!));
  if (failure) {
    stderr.write(`loopy: ${failure.message}\n`);
    return 1;
  }
  return 0;
}
