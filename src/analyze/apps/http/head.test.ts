import { test } from 'node:test';
import assert from 'node:assert/strict';
import { weirdName } from '../../../decode/weirds.js';
import { FRAME_CHUNKED, FRAME_INVALID, FRAME_TUNNEL, FRAME_UNTIL_CLOSE, parseChunkSize, requestFraming, responseFraming } from './framing.js';
import { findHeadEnd, MAX_HEAD_BYTES, parseRequestHead, parseResponseHead, type HeadResult } from './head.js';

/** tcp/zeek__http-get.pcap frame 4, the whole TCP payload (136 bytes; tshark -x / follow,tcp,ascii). */
const WGET_REQUEST =
  'GET /download/CHANGES.bro-aux.txt HTTP/1.1\r\nUser-Agent: Wget/1.14 (darwin12.2.0)\r\nAccept: */*\r\nHost: bro.org\r\nConnection: Keep-Alive\r\n\r\n';
/** tcp/zeek__http-get.pcap frame 9, the response head (the body, 4705 bytes, follows in the same segment). */
const APACHE_RESPONSE_HEAD =
  'HTTP/1.1 200 OK\r\nDate: Thu, 07 Mar 2013 21:43:07 GMT\r\nServer: Apache/2.4.3 (Fedora)\r\nLast-Modified: Wed, 29 Aug 2012 23:49:27 GMT\r\n' +
  'ETag: "1261-4c870358a6fc0"\r\nAccept-Ranges: bytes\r\nContent-Length: 4705\r\nKeep-Alive: timeout=5, max=100\r\nConnection: Keep-Alive\r\n' +
  'Content-Type: text/plain; charset=UTF-8\r\n\r\n';

function ok<T>(r: HeadResult<T>): { head: T; consumed: number } {
  assert.equal(r.status, 'ok', JSON.stringify(r));
  return r as { head: T; consumed: number };
}
function weird<T>(r: HeadResult<T>): string {
  assert.equal(r.status, 'error', JSON.stringify(r));
  return weirdName((r as { weird: number }).weird);
}

test('wget request from the corpus: method, uri, version, Host, User-Agent', () => {
  const buf = Buffer.from(WGET_REQUEST, 'latin1');
  assert.equal(buf.length, 136);
  const { head, consumed } = ok(parseRequestHead(buf, 0, buf.length));
  assert.equal(consumed, 136);
  assert.deepEqual(head, {
    method: 'GET', uri: '/download/CHANGES.bro-aux.txt', version: '1.1', host: 'bro.org', userAgent: 'Wget/1.14 (darwin12.2.0)',
    contentLength: -1, transferEncoding: 'none',
  });
  assert.equal(requestFraming(head), 0);
});

test('every prefix of a head is incomplete; bytes after the head are not consumed', () => {
  const buf = Buffer.from(WGET_REQUEST + 'GET /next', 'latin1');
  for (let cut = 0; cut < 136; cut++) assert.equal(parseRequestHead(buf, 0, cut).status, 'incomplete', `cut ${cut}`);
  assert.equal(ok(parseRequestHead(buf, 0, buf.length)).consumed, 136);
  // At an offset inside a bigger buffer, nothing outside [offset, offset + length) is read.
  const shifted = Buffer.concat([Buffer.from('xx\r\n\r\n'), buf]);
  assert.equal(ok(parseRequestHead(shifted, 6, 136)).head.host, 'bro.org');
  assert.equal(parseRequestHead(shifted, 6, 135).status, 'incomplete');
});

test('Apache response head from the corpus: status, reason, Content-Length framing', () => {
  const buf = Buffer.from(APACHE_RESPONSE_HEAD + 'body...', 'latin1');
  const { head, consumed } = ok(parseResponseHead(buf, 0, buf.length));
  assert.equal(consumed, APACHE_RESPONSE_HEAD.length);
  assert.equal(head.version, '1.1');
  assert.equal(head.statusCode, 200);
  assert.equal(head.statusMsg, 'OK');
  assert.equal(head.contentLength, 4705);
  assert.equal(responseFraming(head, 'GET'), 4705);
  assert.equal(responseFraming(head, 'HEAD'), 0, 'a response to HEAD has no body whatever its Content-Length');
});

test('bare LF line ends, an empty reason, folded and colon-less lines', () => {
  const r = ok(parseResponseHead(Buffer.from('HTTP/1.0 204\nX-A: 1\n  folded\nnonsense line\nTransfer-Encoding: gzip, Chunked\n\n'), 0, 79));
  assert.equal(r.head.statusCode, 204);
  assert.equal(r.head.statusMsg, '');
  assert.equal(r.head.transferEncoding, 'chunked');
  assert.equal(responseFraming(r.head, 'GET'), 0, '204 has no body');
});

test('request lines tshark reads leniently: "HTTP/1." as version, no version at all', () => {
  // Both from tcp/zeek__http-methods.pcap (tshark -z follow,tcp,ascii of streams 5 and 6).
  const parse = (text: string) => ok(parseRequestHead(Buffer.from(text), 0, text.length)).head;
  const a = parse('GET / HTTP/1.\r\nHost: www.google.com\r\n\r\n');
  assert.equal(a.uri, '/');
  assert.equal(a.version, '1.');
  const b = parse('GET /HTTP/1.1\r\nHost: www.google.com\r\n\r\n');
  assert.equal(b.uri, '/HTTP/1.1');
  assert.equal(b.version, undefined);
  const star = parse('OPTIONS * HTTP/1.1\r\n\r\n');
  assert.equal(star.method, 'OPTIONS');
  assert.equal(star.uri, '*');
  assert.equal(parse('GET  /two-spaces HTTP/1.0\r\n\r\n').uri, '/two-spaces');
});

test('malformed request and status lines are weirds', () => {
  for (const line of ['GET/ HTTP/1.1', 'OPTIONS', 'OPTIONSHTTP/1.1', ' GET / HTTP/1.1', '\x16\x03\x01 x', 'GET  \r']) {
    const text = `${line}\r\nHost: x\r\n\r\n`;
    assert.equal(weird(parseRequestHead(Buffer.from(text, 'latin1'), 0, text.length)), 'bad_HTTP_request', line);
  }
  for (const line of ['HTTP/1.1 20 OK', 'HTTP/1.1 2000 OK', 'HTTP/1 200 OK', 'HTTP/1.1200 OK', 'ICY 200 OK']) {
    const text = `${line}\r\n\r\n`;
    assert.equal(weird(parseResponseHead(Buffer.from(text), 0, text.length)), 'bad_HTTP_reply', line);
  }
});

test('Content-Length: invalid or conflicting values lose the framing', () => {
  for (const cl of ['Content-Length: -1', 'Content-Length: 12abc', 'Content-Length: 5\r\nContent-Length: 6']) {
    const text = `POST / HTTP/1.1\r\n${cl}\r\n\r\n`;
    assert.equal(weird(parseRequestHead(Buffer.from(text), 0, text.length)), 'HTTP_bad_content_length', cl);
  }
  const same = 'POST / HTTP/1.1\r\ncontent-length: 5\r\nCONTENT-LENGTH:5 \r\n\r\n';
  assert.equal(ok(parseRequestHead(Buffer.from(same), 0, same.length)).head.contentLength, 5);
});

test('framing decisions (RFC 9112 6.3)', () => {
  const req = { method: 'POST', uri: '/', contentLength: -1, transferEncoding: 'none' as const };
  assert.equal(requestFraming({ ...req, transferEncoding: 'chunked' }), FRAME_CHUNKED);
  assert.equal(requestFraming({ ...req, transferEncoding: 'other' }), FRAME_INVALID);
  assert.equal(requestFraming({ ...req, contentLength: 11 }), 11);
  const resp = { version: '1.1', statusCode: 200, statusMsg: 'OK', contentLength: -1, transferEncoding: 'none' as const };
  assert.equal(responseFraming(resp, 'GET'), FRAME_UNTIL_CLOSE);
  assert.equal(responseFraming({ ...resp, statusCode: 304, contentLength: 9 }, 'GET'), 0);
  assert.equal(responseFraming({ ...resp, statusCode: 101 }, 'GET'), FRAME_TUNNEL);
  assert.equal(responseFraming(resp, 'CONNECT'), FRAME_TUNNEL);
  assert.equal(responseFraming({ ...resp, statusCode: 407, contentLength: 0 }, 'CONNECT'), 0);
});

test('chunk-size lines', () => {
  const size = (s: string): number => parseChunkSize(Buffer.from(s), 0, s.length);
  assert.equal(size('1a'), 26);
  assert.equal(size('FF;name=value'), 255);
  assert.equal(size('0'), 0);
  assert.equal(size('4 ;x'), 4);
  assert.equal(size(''), -1);
  assert.equal(size('g'), -1);
  assert.equal(size('12 34'), -1);
  assert.equal(size('1234567890abc'), -1, '13 hex digits');
});

test('a head with no end past 64 KiB is contentline_size_exceeded', () => {
  const big = Buffer.alloc(MAX_HEAD_BYTES, 0x61);
  big.write('GET / HTTP/1.1\r\nX: ');
  assert.equal(weird(parseRequestHead(big, 0, big.length)), 'contentline_size_exceeded');
  assert.equal(parseRequestHead(big, 0, big.length - 1).status, 'incomplete');
  assert.equal(findHeadEnd(Buffer.from('a\r\n\r\n'), 0, 5), 5);
  assert.equal(findHeadEnd(Buffer.from('a\n\nb'), 0, 4), 3);
  assert.equal(findHeadEnd(Buffer.from('a\r\n\r'), 0, 4), -1);
});
