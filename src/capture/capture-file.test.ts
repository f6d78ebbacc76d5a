import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { META_CAPLEN, META_OFFSET, META_STRIDE } from './batch.js';
import { CaptureFileError, openCaptureFile } from './capture-file.js';
import { hexBytes, readAll, trickle, withTempFile } from './capture-test-support.js';

// Three records: 4, 0 and 9 bytes of data, microseconds, little-endian (built by hand, fields as in
// pcap-reader.test.ts): the 9-byte record with its header is bigger than a 7-byte chunk.
const PCAP = hexBytes(`
  d4c3b2a1 0200 0400 00000000 00000000 ffff0000 01000000   # header: usec LE, snaplen 65535, Ethernet
  0a000000 01000000 04000000 04000000 01020304             # @24  ts 10.000001, 4 bytes
  0b000000 02000000 00000000 00000000                      # @44  ts 11.000002, no data
  0c000000 03000000 09000000 40000000 a1a2a3a4a5a6a7a8a9   # @60  ts 12.000003, 9 of 64 bytes
`);

function summary(r: Awaited<ReturnType<typeof readAll>>): unknown[] {
  return r.packets.map((p) => [p.caplen, p.wirelen, p.iface, p.ts, p.hex]);
}

test('reading from a stream with 7-byte chunks gives what reading the path gives', async () => {
  const fromPath = await withTempFile('three.pcap', PCAP, (path) => readAll(openCaptureFile(path)));
  assert.equal(fromPath.error, undefined);
  assert.deepEqual(summary(fromPath), [
    [4, 4, 0, 10.000001, '01020304'],
    [0, 0, 0, 11.000002, ''],
    [9, 64, 0, 12.000003, 'a1a2a3a4a5a6a7a8a9'],
  ]);
  for (const piece of [1, 3, 7, 1000]) {
    const fromStream = await readAll(openCaptureFile('-', { input: trickle(PCAP, piece), chunkBytes: 7 }));
    assert.equal(fromStream.error, undefined, `piece ${piece}`);
    assert.deepEqual(summary(fromStream), summary(fromPath), `piece ${piece}`);
    assert.deepEqual(fromStream.info, { format: 'pcap', detail: 'pcap usec LE', bigEndian: false });
    assert.equal(fromStream.bytesRead, PCAP.length);
  }
});

test('a path with 7-byte chunks reads the same packets', async () => {
  const r = await withTempFile('three.pcap', PCAP, (path) => readAll(openCaptureFile(path, { chunkBytes: 7 })));
  assert.equal(r.error, undefined);
  assert.deepEqual(r.packets.map((p) => p.hex), ['01020304', '', 'a1a2a3a4a5a6a7a8a9']);
});

test('a stream cut mid-record yields the packets before it, then LOOPY_TRUNCATED with the record offset', async () => {
  const r = await readAll(openCaptureFile('-', { input: trickle(PCAP.subarray(0, 70), 4), chunkBytes: 7 }));
  assert.equal(r.packets.length, 2);
  assert.ok(r.error instanceof CaptureFileError);
  assert.equal(r.error.code, 'LOOPY_TRUNCATED');
  assert.equal(r.error.file, 'stdin');
  assert.equal(r.error.offset, 60);
});

test('an empty stream and a 3-byte stream are not capture files', async () => {
  for (const bytes of [Buffer.alloc(0), Buffer.from([0xd4, 0xc3, 0xb2])]) {
    const r = await readAll(openCaptureFile('-', { input: trickle(bytes, 2) }));
    assert.ok(r.error instanceof CaptureFileError);
    assert.equal(r.error.code, 'LOOPY_TRUNCATED');
    assert.equal(r.info, undefined);
  }
});

test('a stream error is LOOPY_FILE_UNREADABLE after the packets read so far', async () => {
  const input = new PassThrough();
  const reading = readAll(openCaptureFile('-', { input }));
  input.write(PCAP.subarray(0, 44));
  setImmediate(() => input.destroy(new Error('EIO: i/o error')));
  const r = await reading;
  assert.equal(r.packets.length, 1);
  assert.ok(r.error instanceof CaptureFileError);
  assert.equal(r.error.code, 'LOOPY_FILE_UNREADABLE');
  assert.match(r.error.message, /^stdin: byte 44: cannot read: EIO: i\/o error: /);
});

test('a missing file and a directory are LOOPY_FILE_UNREADABLE with a one-line message', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'loopy-capture-'));
  try {
    for (const [path, advice] of [
      [join(dir, 'nope.pcap'), /check the path$/],
      [dir, /give a capture file, not a directory$/],
    ] as const) {
      const r = await readAll(openCaptureFile(path));
      assert.ok(r.error instanceof CaptureFileError, path);
      assert.equal(r.error.code, 'LOOPY_FILE_UNREADABLE');
      assert.equal(r.error.file, path);
      assert.match(r.error.message, advice);
      assert.ok(r.error.message.startsWith(`${path}: byte 0: cannot read: `));
      assert.ok(!r.error.message.includes('\n'));
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('stdin that is a terminal is refused with a hint', async () => {
  const tty = Object.assign(new PassThrough(), { isTTY: true });
  const r = await readAll(openCaptureFile('-', { input: tty }));
  assert.ok(r.error instanceof CaptureFileError);
  assert.equal(r.error.code, 'LOOPY_FILE_UNREADABLE');
  assert.match(r.error.message, /^stdin: byte 0: stdin is a terminal: pipe a capture/);
});

test('a capture file can be iterated once; breaking early closes it', async () => {
  await withTempFile('three.pcap', PCAP, async (path) => {
    const file = openCaptureFile(path, { chunkBytes: 30 }); // first batch holds only the first record
    let batches = 0;
    for await (const batch of file) {
      batches++;
      assert.equal(batch.count, 1);
      break;
    }
    assert.equal(batches, 1);
    assert.throws(() => file[Symbol.asyncIterator](), /iterated only once/);
  });
});

test('a batch stays whole while the next chunk is read ahead: a slow consumer sees every frame intact', async () => {
  // 3,000 records of 0..255 bytes, each byte its record number: a frame overwritten by the read ahead shows.
  const records: Buffer[] = [Buffer.from('d4c3b2a1020004000000000000000000ffff000001000000', 'hex')];
  for (let i = 0; i < 3000; i++) {
    const len = (i * 37) % 256;
    const header = Buffer.alloc(16);
    header.writeUInt32LE(1000 + i, 0);
    header.writeUInt32LE(len, 8);
    header.writeUInt32LE(len, 12);
    records.push(header, Buffer.alloc(len, i & 0xff));
  }
  const file = Buffer.concat(records);
  await withTempFile('many.pcap', file, async (path) => {
    let seen = 0;
    for await (const batch of openCaptureFile(path, { chunkBytes: 5000 })) {
      // Give the read ahead every chance to land before this batch is looked at.
      await new Promise((resolve) => setTimeout(resolve, 1));
      for (let k = 0; k < batch.count; k++, seen++) {
        const offset = batch.meta[k * META_STRIDE + META_OFFSET];
        const caplen = batch.meta[k * META_STRIDE + META_CAPLEN];
        assert.equal(caplen, (seen * 37) % 256);
        for (let b = 0; b < caplen; b++) assert.equal(batch.data[offset + b], seen & 0xff, `record ${seen}`);
      }
    }
    assert.equal(seen, 3000);
  });
});
