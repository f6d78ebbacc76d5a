/**
 * The engines of `loopy read --workers N` share one descriptor: three threads writing large chunks of lines to
 * one pipe at once must leave every line whole and each thread's lines in its order. A pipe splits a write
 * larger than its buffer among other writers' bytes, so without the lock lines are cut.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { sharedOutput } from './locked-output.js';

const WRITERS = 3;
const CHUNKS = 12;
/** Lines a chunk: 4,000 lines of 100 bytes (no divisor of a 4 KiB page, where a pipe splits), 400 KB. */
const LINES = 4_000;
const LINE_BYTES = 100;

/** Each writer makes its chunks first, then all start writing at once (a shared start word), back to back. */
const WRITER_CODE = `
const { workerData } = require('node:worker_threads');
import(workerData.module).then(async ({ lockedWriter }) => {
  const out = lockedWriter(workerData.output);
  const chunks = [];
  let n = 0;
  for (let c = 0; c < ${CHUNKS}; c++) {
    let text = '';
    for (let i = 0; i < ${LINES}; i++) {
      const head = 'w' + workerData.id + ' ' + n++ + ' ';
      text += head + 'x'.repeat(${LINE_BYTES} - head.length - 1) + '\\n';
    }
    chunks.push(Buffer.from(text));
  }
  const start = new Int32Array(workerData.start);
  Atomics.add(start, 1, 1);
  Atomics.wait(start, 0, 0);
  for (const chunk of chunks) await new Promise((resolve, reject) => out.write(chunk, (err) => (err ? reject(err) : resolve())));
});
`;

test('threads sharing a pipe through lockedWriter write whole lines, each thread in order', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'loopy-locked-output-'));
  try {
    const fifo = join(dir, 'out');
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0, 'mkfifo');
    // The reader, another process, first: opening the pipe's writing end waits for it.
    const reader = spawn('cat', [fifo], { stdio: ['ignore', 'pipe', 'inherit'] });
    const received: Buffer[] = [];
    reader.stdout.on('data', (chunk: Buffer) => received.push(chunk));
    const readerDone = new Promise<void>((resolve) => reader.on('close', () => resolve()));
    const fd = openSync(fifo, constants.O_WRONLY);
    const output = sharedOutput(fd);
    const module = new URL('./locked-output.js', import.meta.url).href;
    const start = new SharedArrayBuffer(8);
    const writers = Array.from({ length: WRITERS }, (_, id) => new Promise<void>((resolve, reject) => {
      const worker = new Worker(WRITER_CODE, { eval: true, workerData: { module, output, id, start } });
      worker.on('error', reject);
      worker.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`writer ${id} exited ${code}`))));
    }));
    const word = new Int32Array(start);
    for (let waited = 0; Atomics.load(word, 1) < WRITERS && waited < 20_000; waited += 10) await new Promise((r) => setTimeout(r, 10));
    Atomics.store(word, 0, 1);
    Atomics.notify(word, 0);
    await Promise.all(writers);
    closeSync(fd);
    await readerDone;

    const lines = Buffer.concat(received).toString('latin1').split('\n');
    assert.equal(lines.pop(), '', 'the output ends with a whole line');
    assert.equal(lines.length, WRITERS * CHUNKS * LINES);
    const next = new Array<number>(WRITERS).fill(0);
    for (const line of lines) {
      const m = /^w(\d) (\d+) x+$/.exec(line);
      assert.ok(m !== null && line.length === LINE_BYTES - 1, `a whole line: ${JSON.stringify(line.slice(0, 80))}`);
      const id = Number(m[1]);
      assert.equal(Number(m[2]), next[id]++, `writer ${id}'s lines in order`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
