import { test } from 'node:test';
import assert from 'node:assert/strict';
import { weirdName } from '../../../decode/weirds.js';
import { requestFraming } from './framing.js';
import { parseRequestHead, type RequestHead } from './head.js';
import { isRequestLine } from './message-start.js';
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
  const stream = new HttpMessageStream<RequestHead>(parseRequestHead, isRequestLine, {
    onHead: (head) => {
      events.push(`head ${head.method} ${head.uri}`);
      return requestFraming(head);
    },
    onBody: (n) => {
      // Body pieces depend on where segments were cut: sum consecutive ones.
      const last = events[events.length - 1];
      if (last !== undefined && /^body \d+$/.test(last)) events[events.length - 1] = `body ${Number(last.slice(5)) + n}`;
      else events.push(`body ${n}`);
    },
    onBodyGap: (n) => events.push(`body gap ${n}`),
    onMessageEnd: () => events.push('end'),
    onMessageLost: () => events.push('lost'),
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

test('a bad chunk size stops the stream with HTTP_bad_chunk_size', () => {
  const { stream, events } = recorder();
  const bytes = Buffer.from('POST /b HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\nGET /c HTTP/1.1\r\n\r\n');
  stream.feed(bytes, 0, bytes.length);
  assert.deepEqual(events, ['head POST /b', 'weird HTTP_bad_chunk_size']);
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

/** Feeds text as one segment placed at an offset in a bigger buffer, as packet payloads are. */
function feed(stream: HttpMessageStream<RequestHead>, text: string): void {
  const bytes = Buffer.concat([Buffer.alloc(5, 0x41), Buffer.from(text, 'latin1'), Buffer.from('GET /junk HTTP/1.1\r\n\r\n')]);
  stream.feed(bytes, 5, text.length);
}

test('a gap inside a body of known length costs body bytes only: the next request is parsed', () => {
  const { stream, events } = recorder();
  feed(stream, 'POST /a HTTP/1.1\r\nContent-Length: 11\r\n\r\nhel');
  stream.skipGap(5); // "lo wo" never captured
  feed(stream, 'rldGET /c HTTP/1.1\r\n\r\n');
  assert.deepEqual(events, ['head POST /a', 'body 3', 'body gap 5', 'body 3', 'end', 'head GET /c', 'end']);
  // A gap that ends exactly where the body does: the next bytes start a message.
  feed(stream, 'POST /d HTTP/1.1\r\nContent-Length: 4\r\n\r\n');
  stream.skipGap(4);
  feed(stream, 'GET /e HTTP/1.1\r\n\r\n');
  assert.deepEqual(events.slice(7), ['head POST /d', 'body gap 4', 'end', 'head GET /e', 'end']);
});

test('a gap past the end of a Content-Length body: the message ends, the next one is lost, resync at a request line', () => {
  const { stream, events } = recorder();
  feed(stream, 'POST /a HTTP/1.1\r\nContent-Length: 4\r\n\r\nab');
  // 2 body bytes, then "GET /b HTTP/1.1\r\nHost: x\r" (25 bytes) were lost: 27 in all.
  stream.skipGap(27);
  // What follows: the end of /b's head, then a body-like line that is no request (no version), then /c.
  feed(stream, '\nUser-Agent: u\r\n\r\nGET /not-a-request\r\nGET /c HTTP/1.1\r\n\r\n');
  assert.deepEqual(events, ['head POST /a', 'body 2', 'body gap 2', 'end', 'lost', 'head GET /c', 'end']);
  assert.equal(stream.stopped, false);
});

test('a gap in a head: the request line known is reported, then resync at the next request line', () => {
  const { stream, events } = recorder();
  feed(stream, 'GET /a HTTP/1.1\r\nHost: example.com\r\nUser-Ag');
  stream.skipGap(100);
  feed(stream, 'ent: x\r\n\r\n');
  feed(stream, 'GET /b HTTP/1.1\r\n\r\n');
  assert.deepEqual(events, ['head GET /a', 'end', 'head GET /b', 'end']);
});

test('a gap before a head has a whole first line loses that message', () => {
  const { stream, events } = recorder();
  feed(stream, 'GET /a HT');
  stream.skipGap(10); // "TP/1.1\r\nX:" lost with the rest of the first line
  feed(stream, 'xx\r\n\r\nGET /b HTTP/1.1\r\n\r\n');
  assert.deepEqual(events, ['lost', 'head GET /b', 'end']);
});

test('a gap in a chunked body ends the message as far as known; resync skips the chunks after the gap', () => {
  const { stream, events } = recorder();
  feed(stream, 'POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel');
  stream.skipGap(9); // "lo\r\n6\r\n w" lost: past the chunk's end
  feed(stream, 'orld\r\n0\r\n\r\nGET /b HTTP/1.1\r\n\r\n');
  assert.deepEqual(events, ['head POST /a', 'body 3', 'body gap 2', 'end', 'head GET /b', 'end']);
});

test('after a gap, a request line cut by a segment boundary is still found', () => {
  const bytes = 'x\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n';
  for (let cut = 1; cut < bytes.length; cut++) {
    const { stream, events } = recorder();
    stream.skipGap(3); // at the stream's start: one message lost
    feed(stream, bytes.slice(0, cut));
    feed(stream, bytes.slice(cut));
    assert.deepEqual(events, ['lost', 'head GET /b', 'end'], `cut at ${cut}`);
  }
});

test('after a gap, the first byte may start the next request', () => {
  const { stream, events } = recorder();
  feed(stream, 'GET /a HTTP/1.1\r\n\r\n');
  stream.skipGap(20);
  feed(stream, 'GET /b HTTP/1.1\r\n\r\n');
  assert.deepEqual(events, ['head GET /a', 'end', 'lost', 'head GET /b', 'end']);
});

test('a NUL keep-alive byte before the first request is skipped', () => {
  const { stream, events } = recorder();
  stream.feed(Buffer.from([0]), 0, 1);
  const bytes = Buffer.from('GET /c HTTP/1.1\r\n\r\n');
  stream.feed(bytes, 0, bytes.length);
  assert.deepEqual(events, ['head GET /c', 'end']);
});
