import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ZeekLogs } from '../store/zeek-logs.js';
import { NdjsonSink, RecordSinks } from './record-sinks.js';

/** A record of a type other than conn (conn records are written field by field: they must be whole). */
const rec = (type: string, n: number) => ({ type, n });

/** A reader that takes one write at a time and finishes it only when told. */
class SlowReader extends Writable {
  chunks: string[] = [];
  private pending: Array<() => void> = [];
  constructor() {
    super({ highWaterMark: 1 });
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.chunks.push(chunk.toString());
    this.pending.push(done);
  }
  release(): void {
    for (const done of this.pending.splice(0)) done();
  }
}

test('records become NDJSON lines in few writes; drain waits for a slow reader, without piling up listeners', async () => {
  const reader = new SlowReader();
  const sinks = new RecordSinks([{ sink: new NdjsonSink('slow', reader), close: false }]);
  for (let round = 0; round < 20; round++) {
    sinks.write(rec('weird', round));
    sinks.write(rec('dns', round));
    let drained = false;
    const waiting = sinks.drain().then(() => (drained = true));
    await new Promise((r) => setImmediate(r));
    assert.equal(drained, false, 'held back while the reader is busy');
    reader.release();
    await waiting;
  }
  assert.equal(reader.chunks.length, 20, 'one write per drain');
  assert.equal(reader.chunks[3], '{"type":"weird","n":3}\n{"type":"dns","n":3}\n');
  assert.equal(reader.listenerCount('drain'), 0);
  assert.ok(reader.listenerCount('error') <= 1, 'only the sink\'s own error listener stays');
});

test('a reader that goes away stops that sink only, and is reported once', async () => {
  const broken = new Writable({
    write(_chunk, _enc, done) {
      done(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
    },
  });
  const good: string[] = [];
  const seen: object[] = [];
  const sinks = new RecordSinks(
    [
      { sink: new NdjsonSink('stdout', broken), close: false },
      { sink: new NdjsonSink('file', new Writable({ write: (c, _e, d) => (good.push(c.toString()), d()) })), close: true },
    ],
    (r) => seen.push(r),
  );
  sinks.write(rec('stats', 1));
  await sinks.drain();
  await new Promise((r) => setImmediate(r));
  sinks.write(rec('stats', 2));
  await sinks.drain();
  await sinks.end();
  assert.deepEqual(sinks.failures().map((f) => [f.name, f.error.message]), [['stdout', 'write EPIPE']]);
  assert.deepEqual(sinks.failures(), [], 'reported once');
  assert.deepEqual(good.join(''), '{"type":"stats","n":1}\n{"type":"stats","n":2}\n');
  assert.equal(seen.length, 2, 'the callback gets every record');
});

test('Zeek logs as an agent output: written at the flush; a log that cannot be opened stops them only, reported once', () => {
  const dir = mkdtempSync(join(tmpdir(), 'loopy-zeek14-sink-'));
  try {
    const sinks = new RecordSinks([], undefined, new ZeekLogs({ dir, format: 'json', rotateSeconds: 3600, now: () => 1_800_000_000 }));
    assert.ok(sinks.active);
    sinks.write({ type: 'weird', _path: 'weird', ts: 1, name: 'truncated_IP', count: 2 } as { type: string });
    sinks.flush();
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'weird.log'), 'utf8')), { ts: 1, name: 'truncated_IP', count: 2 });
    rmSync(dir, { recursive: true, force: true }); // the directory goes: the next log cannot be made
    sinks.write({ type: 'dns' });
    sinks.write({ type: 'dns' });
    sinks.flush();
    assert.deepEqual(sinks.failures().map((f) => [f.name, (f.error as NodeJS.ErrnoException).code]), [['zeek-logs', 'ENOENT']]);
    assert.deepEqual(sinks.failures(), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
