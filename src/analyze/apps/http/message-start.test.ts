import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isRequestLine, isStatusLine } from './message-start.js';

/** Runs a test on `line` placed at an offset in a bigger buffer, as stream bytes are. */
function check(fn: (buf: Buffer, start: number, end: number) => boolean, line: string): boolean {
  const buf = Buffer.from(`xx${line}yy`, 'latin1');
  return fn(buf, 2, 2 + line.length);
}

test('request lines: a method, a target without spaces, and an HTTP/d.d version', () => {
  assert.equal(check(isRequestLine, 'GET / HTTP/1.1'), true);
  assert.equal(check(isRequestLine, 'M-SEARCH * HTTP/1.1'), true);
  assert.equal(check(isRequestLine, 'CCM_POST /x?a=1 HTTP/1.0'), true);
  assert.equal(check(isRequestLine, 'GET /a b HTTP/1.1'), false, 'a space inside the target');
  assert.equal(check(isRequestLine, 'GET /index.html'), false, 'no version: a body line could read so');
  assert.equal(check(isRequestLine, 'get / HTTP/1.1'), false, 'lower-case method');
  assert.equal(check(isRequestLine, 'GET  HTTP/1.1'), false, 'no target');
  assert.equal(check(isRequestLine, 'GET / HTTP/1.x'), false);
  assert.equal(check(isRequestLine, 'GET /\x01 HTTP/1.1'), false, 'a control byte in the target');
  assert.equal(check(isRequestLine, `${'A'.repeat(25)} / HTTP/1.1`), false, 'a method longer than 24');
  assert.equal(check(isRequestLine, 'HTTP/1.1 200 OK'), false);
});

test('status lines: HTTP/d.d, three digits, then a reason or nothing', () => {
  assert.equal(check(isStatusLine, 'HTTP/1.1 200 OK'), true);
  assert.equal(check(isStatusLine, 'HTTP/1.0 404 Not Found'), true);
  assert.equal(check(isStatusLine, 'HTTP/1.1 204'), true);
  assert.equal(check(isStatusLine, 'HTTP/1.1 2000 OK'), false);
  assert.equal(check(isStatusLine, 'HTTP/1.1 20 OK'), false);
  assert.equal(check(isStatusLine, 'HTTP/1.1  200 OK'), false);
  assert.equal(check(isStatusLine, 'GET / HTTP/1.1'), false);
});
