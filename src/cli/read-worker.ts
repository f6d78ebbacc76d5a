/**
 * One engine of `loopy read --workers N` (read-workers.ts), in a worker thread: `runRead` over its shard,
 * NDJSON to the descriptor the engines share (or to this thread's standard output, which Node pipes to the
 * coordinator), everything else as messages.
 */
import { Writable } from 'node:stream';
import { parentPort, workerData } from 'node:worker_threads';
import { UsageError } from './errors.js';
import { runRead } from './read-run.js';
import type { FromReadWorker, ReadWorkerData } from './read-workers.js';
import { lockedWriter } from './locked-output.js';

const port = parentPort!;
const data = workerData as ReadWorkerData;
const send = (message: FromReadWorker) => port.postMessage(message);

/** Lines for standard error go to the coordinator, which writes each distinct one once. */
const stderr = new Writable({
  write(chunk: Buffer | string, _encoding, callback) {
    send({ kind: 'stderr', line: chunk.toString() });
    callback();
  },
});

/** The NDJSON: straight to the shared descriptor when the coordinator gave one (locked-output.ts). */
const stdout = data.output !== undefined ? lockedWriter(data.output) : process.stdout;

try {
  const code = await runRead(data.file, data.options, stdout, stderr, {
    shard: data.shard,
    holdBack: (record) => send({ kind: 'held', record }),
    handOver: (part) => send({ kind: 'part', part }),
  });
  send({ kind: 'done', code });
} catch (err) {
  if (err instanceof UsageError) send({ kind: 'usage', message: err.message });
  else send({ kind: 'failed', message: (err as Error)?.stack ?? String(err) });
}
