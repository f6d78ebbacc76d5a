/**
 * Captures stamped with times a date cannot hold, or a classic pcap cannot: a pcapng timestamp is 64 bits and
 * its interface's offset signed, so one damaged byte (or a capture tool's odd clock) puts a packet past the
 * year 275760 or before 1970. Every output of `loopy read` must still be written, and the run end as usual;
 * these crashed it with an internal error (found by fuzzing the capture files).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../test-support/cli.js';
import { udp4 } from '../test-support/frames.js';
import { testDir } from '../test-support/temp-dir.js';

const dir = testDir('loopy-times-');

/** A pcapng block: type, body, padded to 4 bytes, its length before and after. */
function block(type: number, body: Buffer): Buffer {
  const padded = Buffer.concat([body, Buffer.alloc((4 - (body.length % 4)) % 4)]);
  const b = Buffer.alloc(12 + padded.length);
  b.writeUInt32LE(type, 0);
  b.writeUInt32LE(b.length, 4);
  padded.copy(b, 8);
  b.writeUInt32LE(b.length, b.length - 4);
  return b;
}

/**
 * One Ethernet interface and its frames at counts `[hi, lo]` of its clock: µs, or whole seconds with
 * `secondsClock` (if_tsresol 0); an if_tsoffset option when given, in seconds.
 */
function pcapng(frames: Array<{ hi: number; lo: number; frame: Buffer }>, tsOffset?: bigint, secondsClock = false): Buffer {
  const shb = Buffer.alloc(16);
  shb.writeUInt32LE(0x1a2b3c4d, 0);
  shb.writeUInt16LE(1, 4);
  shb.writeBigInt64LE(-1n, 8);
  const idbHead = Buffer.alloc(8);
  idbHead.writeUInt16LE(1, 0); // Ethernet
  idbHead.writeUInt32LE(65535, 4);
  const options: Buffer[] = [];
  if (secondsClock) {
    const option = Buffer.alloc(8);
    option.writeUInt16LE(9, 0); // if_tsresol: 10^-0 s
    option.writeUInt16LE(1, 2);
    options.push(option);
  }
  if (tsOffset !== undefined) {
    const option = Buffer.alloc(12);
    option.writeUInt16LE(14, 0); // if_tsoffset
    option.writeUInt16LE(8, 2);
    option.writeBigInt64LE(tsOffset, 4);
    options.push(option);
  }
  if (options.length > 0) options.push(Buffer.alloc(4)); // opt_endofopt
  const epbs = frames.map(({ hi, lo, frame }) => {
    const head = Buffer.alloc(20);
    head.writeUInt32LE(0, 0);
    head.writeUInt32LE(hi, 4);
    head.writeUInt32LE(lo, 8);
    head.writeUInt32LE(frame.length, 12);
    head.writeUInt32LE(frame.length, 16);
    return block(6, Buffer.concat([head, frame]));
  });
  return Buffer.concat([block(0x0a0d0d0a, shb), block(1, Buffer.concat([idbHead, ...options])), ...epbs]);
}

const toBlocked = udp4('192.0.2.1', '198.51.100.7', 40000, 53, 20);
// High word 0xff000000 at µs: ~7.2e13 s, past the 8.64e12 s a Date holds.
const farFuture = join(dir, 'far-future.pcapng');
writeFileSync(farFuture, pcapng([{ hi: 0xff000000, lo: 0, frame: toBlocked }, { hi: 0xff000000, lo: 1000, frame: toBlocked }]));

test('read --format ecs: a packet past what a date holds is written with epoch milliseconds, not a crash', () => {
  const run = runCli(['read', farFuture, '--format', 'ecs']);
  assert.equal(run.status, 0, run.stderr);
  const docs = run.stdout.trim().split('\n').map((line) => JSON.parse(line) as { '@timestamp': string });
  assert.ok(docs.length > 0);
  const micros = 0xff000000 * 2 ** 32;
  for (const doc of docs) assert.equal(doc['@timestamp'], String(Math.round(micros / 1000)), JSON.stringify(doc));
});

test('read --format ecs: a time past what epoch milliseconds hold is written as whole digits at their limit', () => {
  // 2^64 - 1 seconds: 1.8e22 ms, which String() writes as 1.8446744073709552e+22 and a 64-bit long cannot hold.
  const farthest = join(dir, 'farthest.pcapng');
  writeFileSync(farthest, pcapng([{ hi: 0xffffffff, lo: 0xffffffff, frame: toBlocked }], undefined, true));
  const run = runCli(['read', farthest, '--format', 'ecs']);
  assert.equal(run.status, 0, run.stderr);
  const docs = run.stdout.trim().split('\n').map((line) => JSON.parse(line) as { '@timestamp': string });
  assert.ok(docs.length > 0);
  for (const doc of docs) assert.equal(doc['@timestamp'], '9223372036854775807', JSON.stringify(doc));
});

test('read: the alerts of a capture past what a date holds are summed up, their clock unknown', () => {
  const config = join(dir, 'blocklist.json');
  writeFileSync(config, JSON.stringify({ detectors: { blocklist: { entries: ['198.51.100.7'] } } }));
  const run = runCli(['read', farFuture, '--detect-config', config]);
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /blocklist: 192.0.2.1 reached blocklisted address 198.51.100.7[\s\S]*\?\?:\?\?:\?\? UTC, alert/);
});

test('read -w: packets stamped before 1970 are written at its first second, and said so on one line', () => {
  const before1970 = join(dir, 'before-1970.pcapng');
  // An offset of -4e9 s puts the packets (at 1 s and 2 s of the interface's clock) in 1843.
  writeFileSync(before1970, pcapng([{ hi: 0, lo: 1_000_000, frame: toBlocked }, { hi: 0, lo: 2_000_000, frame: toBlocked }], -4_000_000_000n));
  const out = join(dir, 'kept.pcap');
  const run = runCli(['read', before1970, '--json', '-w', out]);
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stderr, `loopy: -w ${out}: 2 packets stamped before 1970 or after 2106, which a pcap cannot hold: written at the nearest time it can\n`);
  const pcap = readFileSync(out);
  const records: number[] = [];
  for (let at = 24; at < pcap.length; at += 16 + pcap.readUInt32LE(at + 8)) records.push(pcap.readUInt32LE(at), pcap.readUInt32LE(at + 4));
  assert.deepEqual(records, [0, 0, 0, 0]);
});
