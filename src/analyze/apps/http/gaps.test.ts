/**
 * Content gaps in HTTP streams, built by hand: segments the capture missed (FakeHttpConnection.lose) and the
 * other side's ACK that proves them lost, or the flow's end. Each gap is one http_content_gap weird.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeHttpConnection as Conn, pick } from './testing/fake-connection.js';

test('a hole in a body of known length: the body goes on, the next request is parsed when the ACK proves the loss', () => {
  const c = new Conn();
  c.send(true, 'POST /upload HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n0123', 10); // 4 of the 10 body bytes
  c.lose(true, '4567');
  c.send(true, '89GET /next HTTP/1.1\r\nHost: h\r\n\r\n', 12); // kept: it lies past the hole
  assert.equal(c.ctx.weirds.total(), 0, 'the hole might still fill');
  c.ack(false, 13); // the server acknowledges every byte sent: "4567" was lost to the capture
  c.send(false, 'HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n' + 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok', 14);
  assert.deepEqual(c.records.map(pick), [
    [10, 1, 'POST', '/upload', 201, 'Created', 10, 0],
    [12, 2, 'GET', '/next', 200, 'OK', 0, 2],
  ]);
  assert.equal(c.records[0].missed_bytes, 4);
  assert.equal(c.records[1].missed_bytes, undefined);
  assert.deepEqual(c.ctx.weirds.list(), [{ name: 'http_content_gap', count: 1 }]);
});

test('a hole in a body of known length: Zeek counts the lost bytes in the body length; missed_bytes says how many', () => {
  const c = new Conn();
  c.send(true, 'GET /file HTTP/1.1\r\n\r\n', 10);
  c.send(false, 'HTTP/1.1 200 OK\r\nContent-Length: 3000\r\n\r\n' + 'a'.repeat(1000), 11);
  c.lose(false, 'b'.repeat(1000));
  c.send(false, 'c'.repeat(1000), 13);
  c.ack(true, 14);
  assert.deepEqual(c.records.map(pick), [[10, 1, 'GET', '/file', 200, 'OK', 0, 3000]]);
  assert.equal(c.records[0].missed_bytes, 1000);
});

test('a hole in a head: the head is reported as far as its lines go, and parsing resumes at the next request line', () => {
  const c = new Conn();
  c.send(true, 'GET /a HTTP/1.1\r\nHost: example.com\r\nUser-Ag', 10);
  // The rest of /a's head and the start of /lost, never captured; no ACK either (a one-sided capture).
  c.lose(true, 'ent: x\r\n\r\nGET /lost HTTP/1.1\r\nHo');
  c.send(true, 'st: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n', 12);
  assert.equal(c.records.length, 0);
  c.http.end(3); // what was kept behind the hole is parsed now, dated by its own segment
  assert.deepEqual(c.records.map(pick), [
    [10, 1, 'GET', '/a', undefined, undefined, 0, 0],
    [12, 2, 'GET', '/b', undefined, undefined, 0, 0],
  ]);
  assert.equal(c.records[0].host, 'example.com');
  assert.equal(c.records[0].user_agent, undefined, 'its line was cut by the hole');
  assert.equal(c.records[0].missed_bytes, undefined, 'no body bytes were lost');
  assert.deepEqual(c.ctx.weirds.list(), [{ name: 'http_content_gap', count: 1 }]);
});

test('a response lost whole: its request is reported without a status and the next response pairs with the next request', () => {
  const c = new Conn();
  c.send(true, 'GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\nGET /3 HTTP/1.1\r\n\r\n', 10);
  c.send(false, 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\none', 11);
  c.lose(false, 'HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\ntwo');
  c.send(false, 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nthree', 13);
  c.ack(true, 14);
  assert.deepEqual(c.records.map(pick), [
    [10, 1, 'GET', '/1', 200, 'OK', 0, 3],
    [10, 2, 'GET', '/2', undefined, undefined, 0, 0],
    [10, 3, 'GET', '/3', 200, 'OK', 0, 5],
  ]);
});

test('a request lost whole before any data: a placeholder keeps requests and responses in step', () => {
  const c = new Conn();
  c.lose(true, 'GET /1 HTTP/1.1\r\n\r\n');
  c.send(true, 'GET /2 HTTP/1.1\r\n\r\n', 11);
  c.ack(false, 12);
  c.send(false, 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na' + 'HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n', 13);
  assert.deepEqual(c.records.map(pick), [
    [11, 1, undefined, undefined, 200, 'OK', 0, 1],
    [11, 2, 'GET', '/2', 404, 'Not Found', 0, 0],
  ]);
  // A lost request that nothing answers leaves no record.
  const d = new Conn();
  d.lose(true, 'GET /1 HTTP/1.1\r\n\r\n');
  d.send(true, 'GET /2 HTTP/1.1\r\n\r\n', 11);
  d.http.finish();
  assert.deepEqual(d.records.map(pick), [[11, 2, 'GET', '/2', undefined, undefined, 0, 0]]);
});

test('a hole in a chunked body ends the response as far as known; the next response is found', () => {
  const c = new Conn();
  c.send(true, 'GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n', 10);
  c.send(false, 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel', 11);
  c.lose(false, 'lo\r\n6\r\n wo');
  c.send(false, 'rld\r\n0\r\n\r\nHTTP/1.1 304 Not Modified\r\n\r\n', 13);
  c.ack(true, 14);
  assert.deepEqual(c.records.map(pick), [
    [10, 1, 'GET', '/1', 200, 'OK', 0, 5],
    [10, 2, 'GET', '/2', 304, 'Not Modified', 0, 0],
  ]);
  assert.equal(c.records[0].missed_bytes, 2, 'the rest of the 5-byte chunk');
});

test('a head cut short by the end of the flow (a snap length, a lost last segment) is reported as far as known', () => {
  const c = new Conn();
  c.send(true, 'GET /x HTTP/1.1\r\nHost: h\r\n\r\n', 10);
  c.send(false, 'HTTP/1.1 200 OK\r\nContent-Type: text/pl', 11);
  c.http.end(3);
  assert.deepEqual(c.records.map(pick), [[10, 1, 'GET', '/x', 200, 'OK', 0, 0]]);
  assert.equal(c.ctx.weirds.total(), 0, 'no gap: the stream just ended');
});
