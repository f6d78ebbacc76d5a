/**
 * The agent gives back the pages a burst of flows touched once most of them have ended (the flow table's
 * releaseSparse after a sweep: madvise through the capture addon). No flow moves, so every record is what it
 * would have been: a burst of 20,000 DNS lookups with a few long TCP connections in its midst, then more lookups on slots
 * handed out again, through a pipeline that gives the pages back and one that does not. The sessions' HTTP
 * requests straddle the release, so the app dispatch's and TCP streams' columns must keep their place too.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ACK, batchOf, dnsMessage, type Frame, PSH, SYN, tcp4, udp4 } from '../test-support/frames.js';
import { releasePages, tryLoadCaptureAddon } from '../capture/live-addon.js';
import { Pipeline } from './pipeline.js';
import type { LoopyRecord } from './records.js';

const T0 = 1_700_000_000;
const RESOLVER = '192.0.2.53';
const SERVER = '198.51.100.80';

/** Client `i`'s lookup at `ts` and its answer: a flow of its own. */
function lookup(i: number, ts: number): Frame[] {
  const client = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
  const port = 1024 + (i % 60_000);
  return [
    { bytes: udp4(client, RESOLVER, port, 53, dnsMessage(i & 0xffff, false, `host${i}.example.com`)), ts },
    { bytes: udp4(RESOLVER, client, 53, port, dnsMessage(i & 0xffff, true, `host${i}.example.com`)), ts: ts + 0.001 },
  ];
}

/** An HTTP request in two halves, the first before the burst's pages go back and the second after. */
const REQUEST_HEAD = Buffer.from('GET /report HTTP/1.1\r\nHost: example.com\r\n');
const REQUEST_TAIL = Buffer.from('Accept: */*\r\n\r\n');
const RESPONSE = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');

/**
 * A TCP connection from 10.200.0.n: at `ts` its handshake and the first half of a request (`open`), or the
 * rest of the request and the answer: an http record only if its streams' columns kept their place.
 */
function session(n: number, ts: number, open: boolean): Frame[] {
  const client = `10.200.0.${n}`;
  const port = 40_000 + n;
  if (open) {
    return [
      { bytes: tcp4(client, SERVER, port, 80, SYN, 100, 0), ts },
      { bytes: tcp4(SERVER, client, 80, port, SYN | ACK, 500, 101), ts: ts + 0.001 },
      { bytes: tcp4(client, SERVER, port, 80, ACK, 101, 501), ts: ts + 0.002 },
      { bytes: tcp4(client, SERVER, port, 80, PSH | ACK, 101, 501, REQUEST_HEAD), ts: ts + 0.003 },
    ];
  }
  const seq = 101 + REQUEST_HEAD.length;
  return [
    { bytes: tcp4(client, SERVER, port, 80, PSH | ACK, seq, 501, REQUEST_TAIL), ts },
    { bytes: tcp4(SERVER, client, 80, port, PSH | ACK, 501, seq + REQUEST_TAIL.length, RESPONSE), ts: ts + 0.001 },
  ];
}

function run(release: boolean): { records: string[]; released: number } {
  const records: LoopyRecord[] = [];
  const pipeline = new Pipeline({ releaseFlowPages: release ? releasePages : undefined }).observe({ onRecord: (r) => records.push(r) });
  pipeline.tick(T0);
  const burst: Frame[] = [];
  for (let n = 1; n <= 5; n++) burst.push(...session(n, T0 + 1.25, true));
  for (let i = 0; i < 20_000; i++) burst.push(...lookup(i, T0 + 1 + i / 40_000));
  burst.sort((a, b) => a.ts - b.ts);
  pipeline.process(batchOf(burst));
  // The lookups end 10 s after their answer; the sessions stay open. Then more lookups, and the sessions talk.
  for (let t = 2; t <= 20; t += 2) pipeline.tick(T0 + t);
  const after: Frame[] = [];
  for (let i = 0; i < 300; i++) after.push(...lookup(100_000 + i, T0 + 21 + i / 1000));
  for (let n = 1; n <= 5; n++) after.push(...session(n, T0 + 22, false));
  pipeline.process(batchOf(after.sort((a, b) => a.ts - b.ts)));
  for (let t = 24; t <= 40; t += 2) pipeline.tick(T0 + t);
  pipeline.finish();
  return {
    records: records.filter((r) => r.type === 'conn' || r.type === 'dns' || r.type === 'http').map((r) => JSON.stringify(r)).sort(),
    released: pipeline.engine.flowPagesReleased,
  };
}

const NO_ADDON = tryLoadCaptureAddon()?.releasePages === undefined ? 'the capture addon is not built (npm run build:native): its madvise gives the pages back' : false;

test('giving back the flow columns\' pages after a burst changes no record', { skip: NO_ADDON }, () => {
  const plain = run(false);
  const released = run(true);
  assert.equal(plain.released, 0);
  // 20,000 flows of some 300 bytes of columns, less the pages the five sessions keep.
  assert.ok(released.released > 4_000_000, `${released.released} bytes released`);
  assert.equal(released.records.length, plain.records.length);
  assert.ok(plain.records.length > 40_000, `${plain.records.length} records`);
  assert.equal(released.records.filter((r) => r.includes('"type":"http"') && r.includes('"status_code":200')).length, 5, 'each session\'s request, begun before the release, was read whole after it');
  assert.deepEqual(released.records, plain.records);
});
