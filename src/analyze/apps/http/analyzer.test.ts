import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Packet, TCP_ACK, TCP_SYN } from '../../../decode/packet.js';
import { AppDriver } from '../testing/app-driver.js';
import { FakeAppContext, fillTcpPacket, synPacket } from '../testing/fake-context.js';
import { HttpAnalyzer, httpRegistration, type HttpRecord } from './index.js';
import { FakeHttpConnection as Conn, pick } from './testing/fake-connection.js';

test('pipelined requests pair with responses in order (HEAD, 100 Continue, chunked)', () => {
  const c = new Conn();
  // Three requests in one segment: a GET, a HEAD, and a POST with a 4-byte body.
  c.send(true, 'GET /one HTTP/1.1\r\nHost: example.com\r\nUser-Agent: test/1.0\r\n\r\n' + 'HEAD /two HTTP/1.1\r\nHost: example.com\r\n\r\n' + 'POST /three HTTP/1.1\r\nHost: example.com\r\nContent-Length: 4\r\n\r\n', 10);
  c.send(true, 'data', 11);
  assert.equal(c.records.length, 0, 'nothing until responses arrive');
  // 200 with a 5-byte body; 404 to the HEAD, whose Content-Length announces a body that is not sent;
  // 100 Continue (interim: pairs with nothing); 201 with a chunked body "abc" split across segments.
  c.send(false, 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello' + 'HTTP/1.1 404 Not Found\r\nContent-Length: 100\r\n\r\n', 20);
  assert.equal(c.records.length, 2);
  c.send(false, 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nab', 21);
  assert.equal(c.records.length, 2, 'the 201 is out only when its body has ended');
  c.send(false, 'c\r\n0\r\n\r\n', 22);
  assert.deepEqual(c.records.map(pick), [
    [10, 1, 'GET', '/one', 200, 'OK', 0, 5],
    [10, 2, 'HEAD', '/two', 404, 'Not Found', 0, 0],
    [10, 3, 'POST', '/three', 201, 'Created', 4, 3],
  ]);
  const first = c.records[0];
  assert.equal(first.type, 'http');
  assert.equal(first.uid, 'C3');
  assert.equal(first.host, 'example.com');
  assert.equal(first.user_agent, 'test/1.0');
  assert.equal(first.version, '1.1');
  assert.deepEqual(c.ctx.services, [[3, 'http']]);
  c.http.finish();
  assert.equal(c.records.length, 3);
  assert.equal(c.ctx.weirds.total(), 0);
});

test('a body that runs to the close is reported at flow end; unanswered requests too', () => {
  const c = new Conn();
  c.send(true, 'GET /stream HTTP/1.0\r\n\r\n', 10);
  c.send(false, 'HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n', 11);
  c.send(false, 'x'.repeat(3000), 12);
  c.send(true, 'GET /never HTTP/1.1\r\n\r\n', 13);
  assert.equal(c.records.length, 0);
  c.http.end(3);
  assert.deepEqual(c.records.map(pick), [
    [10, 1, 'GET', '/stream', 200, 'OK', 0, 3000],
    [13, 2, 'GET', '/never', undefined, undefined, 0, 0],
  ]);
});

test('101 Switching Protocols: the pair is reported and the rest of the flow is not HTTP', () => {
  const c = new Conn();
  c.send(true, 'GET /chat HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n', 10);
  c.send(false, 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x05hello', 11);
  c.send(true, '\x81\x85\x00\x00\x00\x00hello', 12);
  c.http.finish();
  assert.deepEqual(c.records.map(pick), [[10, 1, 'GET', '/chat', 101, 'Switching Protocols', 0, 0]]);
  assert.equal(c.ctx.weirds.total(), 0);
});

test('a malformed request stops the requests only; responses still come out, alone', () => {
  const c = new Conn();
  // From tcp/zeek__http-methods.pcap stream 7: "GET/ HTTP/1.1" (no space after the method), answered 400.
  c.send(true, 'GET/ HTTP/1.1\r\nHost: www.google.com\r\n\r\n', 10);
  c.send(false, 'HTTP/1.0 400 Bad Request\r\nContent-Length: 3\r\n\r\nbad', 11);
  c.http.finish();
  assert.deepEqual(c.records.map(pick), [[11, 1, undefined, undefined, 400, 'Bad Request', 0, 3]]);
  assert.deepEqual(c.ctx.weirds.list(), [{ name: 'bad_HTTP_request', count: 1 }]);
});

test('the side that speaks "HTTP/" first is the server, whatever the flow table calls it', () => {
  // The flow table saw the server's packet first, so the server is "orig" here.
  const c = new Conn(4, false);
  c.send(false, 'GET /x HTTP/1.1\r\n\r\n', 10, 100);
  const d = new Conn(5, false);
  d.send(true, 'HTTP/1.1 304 Not Modified\r\n\r\n', 11, 700);
  d.send(false, 'GET /y HTTP/1.1\r\n\r\n', 10, 100);
  c.send(true, 'HTTP/1.1 304 Not Modified\r\n\r\n', 11, 700);
  assert.deepEqual(c.records.map(pick), [[10, 1, 'GET', '/x', 304, 'Not Modified', 0, 0]]);
  d.http.finish();
  assert.deepEqual(d.records.map(pick), [
    [11, 1, undefined, undefined, 304, 'Not Modified', 0, 0], // a response before any request is alone
    [10, 2, 'GET', '/y', undefined, undefined, 0, 0], // and the later request is never answered
  ]);
});

test('a request carried on the SYN (TCP Fast Open) is read from the byte after the SYN', () => {
  const ctx = new FakeAppContext();
  const http = new AppDriver(ctx, httpRegistration, (c) => new HttpAnalyzer(c));
  const pkt = new Packet();
  const request = Buffer.from('GET /tfo HTTP/1.1\r\n\r\n');
  http.packet(1, true, fillTcpPacket(pkt, { seq: 42, flags: TCP_SYN, payload: request, ts: 1 }));
  http.packet(1, false, synPacket(pkt, 9000, 2, 43 + request.length));
  http.packet(1, false, fillTcpPacket(pkt, { seq: 9001, payload: Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'), ts: 3, flags: TCP_ACK, ack: 43 + request.length }));
  assert.deepEqual((ctx.records as HttpRecord[]).map(pick), [[1, 1, 'GET', '/tfo', 200, 'OK', 0, 0]]);
});

test('a client that never gets answers cannot queue without bound', () => {
  const c = new Conn();
  c.send(true, 'GET /r HTTP/1.1\r\n\r\n'.repeat(101), 10);
  assert.deepEqual(c.records.map(pick), [[10, 1, 'GET', '/r', undefined, undefined, 0, 0]], 'the oldest goes out unanswered');
  assert.deepEqual(c.ctx.weirds.list(), [{ name: 'HTTP_excessive_pipelining', count: 1 }]);
  c.http.finish();
  assert.equal(c.records.length, 101);
  assert.equal(c.records[100].trans_depth, 101);
});

test('registration: Zeek service name, HTTP ports, request-line probe', () => {
  assert.equal(httpRegistration.name, 'http');
  assert.deepEqual(httpRegistration.tcpPorts, [80, 8080, 8000, 8008, 3128, 8888]);
  const probe = (text: string, transport = 6): boolean => httpRegistration.probe!(Buffer.from(`..${text}`, 'latin1'), 2, text.length, transport);
  assert.equal(probe('GET / HTTP/1.1\r\n'), true);
  assert.equal(probe('PROPFIND /dav'), true, 'known method, line not complete yet');
  assert.equal(probe('CCM_POST / HTTP/1.1\r\nHost: x\r\n'), true, 'unknown method with an HTTP/1.x line');
  assert.equal(probe('SUBSCRIBE /evt HTTP/1.1\r\n'), true);
  assert.equal(probe('EHLO mail.example.com\r\n'), false, 'SMTP');
  assert.equal(probe('USER anonymous\r\n'), false, 'FTP');
  assert.equal(probe('CCM_POST / HTTP/1.1'), false, 'unknown method, line not complete');
  assert.equal(probe('get / HTTP/1.1\r\n'), false, 'methods are case-sensitive');
  assert.equal(probe('GET'), false);
  assert.equal(probe('GET / HTTP/1.1\r\n', 17), false, 'UDP (SSDP is not this analyzer)');
  assert.equal(probe('\x16\x03\x01\x02\x00\x01'), false);
});
