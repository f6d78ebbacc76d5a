import { test } from 'node:test';
import assert from 'node:assert/strict';
import { weirdName } from '../../../decode/weirds.js';
import { requestFraming } from './framing.js';
import { parseRequestHead, type RequestHead } from './head.js';
import { HttpMessageStream } from './message-stream.js';

/**
 * A pipeline built by hand: three requests back to back on one connection.
 *   1. POST /a with Content-Length: 11 and body "hello world"
 *   2. POST /b chunked: "5;ext=1" + "hello", "6" + " world", last chunk "0", one trailer field, blank line
 *   3. GET /c, no body
 */
const PIPELINE =
  'POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\nhello world' +
  'POST /b HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n' +
  '\r\nGET /c HTTP/1.1\r\nHost: h\r\n\r\n';
const EXPECTED = ['head POST /a', 'body 11', 'end', 'head POST /b', 'body 11', 'end', 'head GET /c', 'end'];

function recorder(): { stream: HttpMessageStream<RequestHead>; events: string[] } {
  const events: string[] = [];
  const stream = new HttpMessageStream<RequestHead>(parseRequestHead, {
    onHead: (head) => {
      events.push(`head ${head.method} ${head.uri}`);
      return requestFraming(head);
    },
    onBody: (n) => {
      // Body pieces depend on where segments were cut: sum consecutive ones.
      const last = events[events.length - 1];
      if (last?.startsWith('body ')) events[events.length - 1] = `body ${Number(last.slice(5)) + n}`;
      else events.push(`body ${n}`);
    },
    onMessageEnd: () => events.push('end'),
    onError: (weird) => events.push(`weird ${weirdName(weird)}`),
  });
  return { stream, events };
}

test('pipeline with Content-Length and chunked bodies, fed whole', () => {
  const { stream, events } = recorder();
  const bytes = Buffer.from(PIPELINE);
  stream.feed(bytes, 0, bytes.length);
  assert.deepEqual(events, EXPECTED);
  assert.equal(stream.stopped, false);
});

test('the same pipeline cut into two segments at every offset', () => {
  const bytes = Buffer.from(PIPELINE);
  for (let cut = 1; cut < bytes.length; cut++) {
    const { stream, events } = recorder();
    // Each piece lives in its own buffer, at an offset, as packet payloads do.
    const first = Buffer.concat([Buffer.alloc(7), bytes.subarray(0, cut)]);
    const second = Buffer.concat([Buffer.alloc(3), bytes.subarray(cut), Buffer.from('JUNK AFTER THE PAYLOAD')]);
    stream.feed(first, 7, cut);
    stream.feed(second, 3, bytes.length - cut);
    assert.deepEqual(events, EXPECTED, `cut at ${cut}`);
  }
});

test('one byte at a time', () => {
  const { stream, events } = recorder();
  const bytes = Buffer.from(PIPELINE);
  for (let i = 0; i < bytes.length; i++) stream.feed(bytes, i, 1);
  assert.deepEqual(events, EXPECTED);
});

test('a bad chunk size stops the stream with http_bad_chunk_size', () => {
  const { stream, events } = recorder();
  const bytes = Buffer.from('POST /b HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\nGET /c HTTP/1.1\r\n\r\n');
  stream.feed(bytes, 0, bytes.length);
  assert.deepEqual(events, ['head POST /b', 'weird http_bad_chunk_size']);
  assert.equal(stream.stopped, true);
  stream.feed(bytes, 0, bytes.length);
  assert.equal(events.length, 2, 'nothing after stopping');
});

test('chunk data longer than its size is http_bad_chunk_end', () => {
  const { stream, events } = recorder();
  const bytes = Buffer.from('POST /b HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n');
  stream.feed(bytes, 0, bytes.length);
  assert.deepEqual(events, ['head POST /b', 'body 3', 'weird http_bad_chunk_end']);
});

test('a request with a transfer coding other than chunked is http_bad_transfer_encoding', () => {
  const { stream, events } = recorder();
  const bytes = Buffer.from('POST /x HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\nabc');
  stream.feed(bytes, 0, bytes.length);
  assert.deepEqual(events, ['head POST /x', 'weird http_bad_transfer_encoding']);
});

test('a gap inside a body of known length is skipped; a gap between messages loses framing', () => {
  const { stream, events } = recorder();
  const head = Buffer.from('POST /a HTTP/1.1\r\nContent-Length: 11\r\n\r\nhel');
  stream.feed(head, 0, head.length);
  stream.skipGap(5); // "lo wo" never captured
  const rest = Buffer.from('rldGET /c HTTP/1.1\r\n\r\n');
  stream.feed(rest, 0, rest.length);
  assert.deepEqual(events, ['head POST /a', 'body 6', 'end', 'head GET /c', 'end']);
  stream.skipGap(10);
  assert.deepEqual(events.slice(5), ['weird http_content_gap']);
  assert.equal(stream.stopped, true);
});

test('a NUL keep-alive byte before the first request is skipped', () => {
  const { stream, events } = recorder();
  stream.feed(Buffer.from([0]), 0, 1);
  const bytes = Buffer.from('GET /c HTTP/1.1\r\n\r\n');
  stream.feed(bytes, 0, bytes.length);
  assert.deepEqual(events, ['head GET /c', 'end']);
});
