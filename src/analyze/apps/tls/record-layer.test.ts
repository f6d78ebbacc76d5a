import { test } from 'node:test';
import assert from 'node:assert/strict';
import { weirdName } from '../../../decode/weirds.js';
import { GREASE_CLIENT_HELLO, SSLV2_CLIENT_HELLO } from './fixtures/hellos.js';
import { FirstHandshake, readFirstHandshake as readInto } from './record-layer.js';
import { hex } from '../testing/fake-context.js';

const record = hex(GREASE_CLIENT_HELLO);
// 16 03 01 02 00 | 01 00 01 fc ...: one 512-byte record, a 508-byte (0x1fc) ClientHello body.
const body = record.subarray(9);
const readFirstHandshake = (data: Buffer, offset: number, length: number, cap?: number): FirstHandshake => readInto(data, offset, length, new FirstHandshake(), cap);

/** Re-frames one handshake message (header + body) into records whose payloads have the given sizes. */
function reRecord(message: Buffer, sizes: number[]): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (const size of [...sizes, message.length - sizes.reduce((a, b) => a + b, 0)]) {
    parts.push(Buffer.from([0x16, 0x03, 0x01, size >> 8, size & 0xff]), message.subarray(at, at + size));
    at += size;
  }
  return Buffer.concat(parts);
}

test('a ClientHello in one record is found in place (no copy)', () => {
  const r = readFirstHandshake(record, 0, record.length);
  assert.equal(r.status, 'ok');
  if (r.status !== 'ok') return;
  assert.equal(r.sslv2, false);
  assert.equal(r.msgType, 1);
  assert.equal(r.length, 0x1fc);
  assert.equal(r.buf, record);
  assert.equal(r.offset, 9);
});

test('every prefix of the record is incomplete and asks for more than it has', () => {
  for (let cut = 0; cut < record.length; cut++) {
    const r = readFirstHandshake(record, 0, cut);
    assert.equal(r.status, 'incomplete', `cut at ${cut}`);
    if (r.status === 'incomplete') assert.ok(r.needed > cut && r.needed <= record.length, `cut ${cut}: needed ${r.needed}`);
  }
});

test('a message spread over three records (one split inside the handshake header) is reassembled', () => {
  const message = record.subarray(5); // handshake header + body
  const stream = reRecord(message, [3, 200]);
  assert.equal(stream.length, record.length + 10);
  const r = readFirstHandshake(stream, 0, stream.length);
  assert.equal(r.status, 'ok');
  if (r.status !== 'ok') return;
  assert.equal(r.msgType, 1);
  assert.equal(r.length, 0x1fc);
  assert.ok(r.buf.subarray(r.offset, r.offset + r.length).equals(body));
  // Short of the last record: incomplete, needing exactly the whole stream.
  const partial = readFirstHandshake(stream, 0, stream.length - 1);
  assert.deepEqual([partial.status, partial.needed], ['incomplete', stream.length]);
});

test('bytes at a non-zero offset are read from there', () => {
  const shifted = Buffer.concat([Buffer.from([0xaa, 0xbb, 0xcc]), record]);
  const r = readFirstHandshake(shifted, 3, record.length);
  assert.equal(r.status, 'ok');
  if (r.status === 'ok') assert.equal(r.offset, 12);
});

test('a non-handshake first record is ssl_unexpected_record', () => {
  // 17 03 03 00 05: application data, as a flow joined mid-stream shows.
  const r = readFirstHandshake(hex('17 03 03 00 05 01 02 03 04 05'), 0, 10);
  assert.equal(r.status, 'error');
  if (r.status === 'error') assert.equal(weirdName(r.weird), 'ssl_unexpected_record');
  const http = Buffer.from('GET / HTTP/1.1\r\n');
  const h = readFirstHandshake(http, 0, http.length);
  assert.equal(h.status === 'error' && weirdName(h.weird), 'ssl_unexpected_record');
});

test('a record longer than 2^14 + 2048 is ssl_record_too_long', () => {
  const r = readFirstHandshake(hex('16 03 01 48 01 01'), 0, 6);
  assert.equal(r.status === 'error' && weirdName(r.weird), 'ssl_record_too_long');
});

test('a handshake message longer than the cap is ssl_handshake_too_long as soon as its header is read', () => {
  // Handshake header 01 01 00 00: a 65536-byte ClientHello, over the 64 KiB cap.
  const r = readFirstHandshake(hex('16 03 01 00 04 01 01 00 00'), 0, 9);
  assert.equal(r.status === 'error' && weirdName(r.weird), 'ssl_handshake_too_long');
  // Under a small cap, a normal hello is too long too.
  const small = readFirstHandshake(record, 0, 100, 256);
  assert.equal(small.status === 'error' && weirdName(small.weird), 'ssl_handshake_too_long');
});

test('an SSLv2 record is returned whole with its message type', () => {
  const v2 = hex(SSLV2_CLIENT_HELLO); // 80 2e: 46-byte record; 01 = CLIENT-HELLO
  const r = readFirstHandshake(v2, 0, v2.length);
  assert.equal(r.status, 'ok');
  if (r.status !== 'ok') return;
  assert.equal(r.sslv2, true);
  assert.equal(r.msgType, 1);
  assert.equal(r.offset, 3);
  assert.equal(r.length, 45);
  const short = readFirstHandshake(v2, 0, 20);
  assert.deepEqual([short.status, short.needed], ['incomplete', 48]);
});
