/**
 * The HTTP analyzer keeps an ended flow's state for the next flow (it is never copied by a scavenge again).
 * Nothing of the old flow may reach the new one: each earlier flow below leaves a different part of that
 * state set when it ends (requests queued, a body half read, a chunk-size line or a head cut in two, a side
 * that sent "HTTP/" first, a gap before any data, a stopped stream, a tunnel), then each later flow runs in
 * the same slot, and its records, confirmations and weirds must be those it gives on an analyzer of its own.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FlowOutput } from '../testing/fake-context.js';
import { FakeHttpConnection as Conn } from './testing/fake-connection.js';

const FLOW = 3;

type Script = (c: Conn) => void;

const EARLIER: Record<string, Script> = {
  'two requests queued, the second mid-body; a chunk-size line cut in two': (c) => {
    c.send(true, 'GET /a HTTP/1.1\r\nHost: a\r\n\r\nPOST /p HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc', 1);
    c.send(false, 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5', 2);
  },
  'the originator sent "HTTP/" first': (c) => {
    c.send(true, 'HTTP/1.1 304 Not Modified\r\n\r\n', 1);
    c.send(false, 'GET /y HTTP/1.1\r\n\r\n', 2);
  },
  'a gap before any data, acknowledged': (c) => {
    c.lose(true, 'GET /lost HTTP/1.1\r\n\r\n');
    c.send(true, 'GET /after HTTP/1.1\r\n\r\n', 1);
    c.ack(false, 2);
  },
  "a gap on the responder's side before any data, acknowledged": (c) => {
    c.lose(false, 'HTTP/1.1 100 Continue\r\n\r\n');
    c.send(false, 'HTTP/1.1 204 No Content\r\n\r\n', 1);
    c.ack(true, 2);
  },
  'requests stopped by a malformed line; a response head cut in two': (c) => {
    c.send(true, 'GET/ HTTP/1.1\r\nHost: x\r\n\r\n', 1);
    c.send(false, 'HTTP/1.1 200 OK\r\nContent-Le', 2);
  },
  'a body that runs to the close, after a gap in the head': (c) => {
    c.send(true, 'GET /s HTTP/1.0\r\n\r\n', 1);
    c.send(false, 'HTTP/1.0 200 OK\r\n', 2);
    c.lose(false, 'X-Lost: 1\r\n');
    c.send(false, '\r\nbody', 3);
    c.ack(true, 4);
  },
  'a tunnel (101), released': (c) => {
    c.send(true, 'GET /chat HTTP/1.1\r\nUpgrade: websocket\r\n\r\n', 1);
    c.send(false, 'HTTP/1.1 101 Switching Protocols\r\n\r\n\x81\x05hello', 2);
  },
};

const LATER: Record<string, Script> = {
  'a request answered with a length, then one never answered': (c) => {
    c.send(true, 'GET /b HTTP/1.1\r\nHost: b\r\nUser-Agent: u/1\r\n\r\n', 10);
    c.send(false, 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok', 11);
    c.send(true, 'HEAD /c HTTP/1.1\r\n\r\n', 12);
  },
  'a chunked response': (c) => {
    c.send(true, 'GET /d HTTP/1.1\r\n\r\n', 10);
    c.send(false, 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n', 11);
  },
  'a response head over two segments, with a gap inside its body': (c) => {
    c.send(true, 'GET /e HTTP/1.1\r\n\r\n', 10);
    c.send(false, 'HTTP/1.1 404 Not', 11);
    c.send(false, ' Found\r\nContent-Length: 8\r\n\r\nab', 12);
    c.lose(false, 'cd');
    c.send(false, 'efgh', 13);
    c.ack(true, 14);
  },
};

/** The flow's output when `script` runs on `c` and the flow ends. */
function run(c: Conn, script: Script): FlowOutput {
  const from = c.ctx.mark();
  script(c);
  c.http.end(FLOW);
  return c.ctx.outputSince(from);
}

for (const [earlierName, earlier] of Object.entries(EARLIER)) {
  test(`HTTP state kept from a flow that ended (${earlierName}) carries nothing into the next flow of its slot`, () => {
    for (const [laterName, later] of Object.entries(LATER)) {
      const first = new Conn(FLOW);
      run(first, earlier);
      assert.equal(first.http.analyzer.spareFlows, 1, 'the ended flow is kept');
      const reused = run(new Conn(FLOW, true, first), later);
      const alone = run(new Conn(FLOW), later);
      assert.ok(alone.records.length > 0);
      assert.deepEqual(reused, alone, laterName);
      assert.equal(first.http.analyzer.spareFlows, 1, 'taken, and kept again');
    }
  });
}
