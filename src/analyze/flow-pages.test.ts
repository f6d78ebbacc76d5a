/**
 * The agent gives back the pages a burst of flows touched once most of them have ended (the flow table's
 * releaseSparse after a sweep: madvise through the capture addon), first moving the flows no analyzer holds
 * state of down into the free slots. Every record is what it would have been: a burst of 20,000 DNS lookups
 * with a few long TCP connections and some NTP and ping exchanges in its midst, then more lookups on slots
 * handed out again, through a pipeline that gives the pages back and one that does not. The sessions' HTTP
 * requests straddle the release, so the app dispatch's and TCP streams' columns must keep their place too;
 * the NTP and ping flows talk again after it, at the slots they were moved to.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ACK, batchOf, dnsMessage, FIN, type Frame, icmpEcho, PSH, SYN, tcp4, udp4 } from '../test-support/frames.js';
import { releasePages, tryLoadCaptureAddon } from '../capture/live-addon.js';
import { hex } from './apps/testing/fake-context.js';
import { GREASE_CLIENT_HELLO, TLS13_SERVER_HELLO } from './apps/tls/fixtures/hellos.js';
import { IPPROTO_TCP } from '../decode/packet.js';
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

/** An HTTP request in two halves, one before the burst's pages go back and the other after. */
const REQUEST_HEAD = Buffer.from('GET /report HTTP/1.1\r\nHost: example.com\r\n');
const REQUEST_TAIL = Buffer.from('Accept: */*\r\n\r\n');
const RESPONSE = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');

/**
 * A TCP connection from 10.200.0.n: at `ts` its handshake and half of a request (`open`), or the other half
 * and the answer: an http record only if its streams and its HTTP state followed it wherever it moved. The
 * first session sends the request's second half first, kept behind the hole until the first comes.
 */
function session(n: number, ts: number, open: boolean): Frame[] {
  const client = `10.200.0.${n}`;
  const port = 40_000 + n;
  const tail = 101 + REQUEST_HEAD.length;
  const half = (first: boolean): Frame['bytes'] =>
    first ? tcp4(client, SERVER, port, 80, PSH | ACK, 101, 501, REQUEST_HEAD) : tcp4(client, SERVER, port, 80, PSH | ACK, tail, 501, REQUEST_TAIL);
  const headFirst = n !== 1;
  if (open) {
    return [
      { bytes: tcp4(client, SERVER, port, 80, SYN, 100, 0), ts },
      { bytes: tcp4(SERVER, client, 80, port, SYN | ACK, 500, 101), ts: ts + 0.001 },
      { bytes: tcp4(client, SERVER, port, 80, ACK, 101, 501), ts: ts + 0.002 },
      { bytes: half(headFirst), ts: ts + 0.003 },
    ];
  }
  return [
    { bytes: half(!headFirst), ts },
    { bytes: tcp4(SERVER, client, 80, port, PSH | ACK, 501, tail + REQUEST_TAIL.length, RESPONSE), ts: ts + 0.001 },
  ];
}

const CLIENT_HELLO = hex(GREASE_CLIENT_HELLO);
const SERVER_HELLO = hex(TLS13_SERVER_HELLO);
const ENCRYPTED = Buffer.from('170303000a00112233445566778899', 'hex');

/**
 * A TLS connection from 10.202.0.n: its handshake and hellos at `ts` (`open`: its ssl record is out and the
 * analyzer releases it), or encrypted data both ways and its close. The first connection's ServerHello comes
 * after the release instead: the analyzer follows it, half read, to its new id.
 */
function tlsSession(n: number, ts: number, open: boolean): Frame[] {
  const client = `10.202.0.${n}`;
  const port = 41_000 + n;
  const c = 101 + CLIENT_HELLO.length;
  const s = 501 + SERVER_HELLO.length;
  const serverHello = { bytes: tcp4(SERVER, client, 443, port, PSH | ACK, 501, c, SERVER_HELLO), ts: ts + 0.004 };
  if (open) {
    return [
      { bytes: tcp4(client, SERVER, port, 443, SYN, 100, 0), ts },
      { bytes: tcp4(SERVER, client, 443, port, SYN | ACK, 500, 101), ts: ts + 0.001 },
      { bytes: tcp4(client, SERVER, port, 443, ACK, 101, 501), ts: ts + 0.002 },
      { bytes: tcp4(client, SERVER, port, 443, PSH | ACK, 101, 501, CLIENT_HELLO), ts: ts + 0.003 },
      ...(n === 1 ? [] : [serverHello]),
    ];
  }
  return [
    ...(n === 1 ? [{ ...serverHello, ts: ts - 0.001 }] : []),
    { bytes: tcp4(client, SERVER, port, 443, PSH | ACK, c, s, ENCRYPTED), ts },
    { bytes: tcp4(SERVER, client, 443, port, PSH | ACK, s, c + ENCRYPTED.length, ENCRYPTED), ts: ts + 0.001 },
    { bytes: tcp4(client, SERVER, port, 443, FIN | ACK, c + ENCRYPTED.length, s + ENCRYPTED.length), ts: ts + 0.002 },
    { bytes: tcp4(SERVER, client, 443, port, FIN | ACK, s + ENCRYPTED.length, c + ENCRYPTED.length + 1), ts: ts + 0.003 },
  ];
}

/** Host `n`'s NTP query (`answer` false) or answer, and a ping: flows no analyzer claims, which may move. */
function quiet(n: number, ts: number, answer: boolean): Frame[] {
  const host = `10.201.${n >> 8}.${n & 255}`;
  const ntp = answer ? udp4('192.0.2.123', host, 123, 30_000 + n, 48) : udp4(host, '192.0.2.123', 30_000 + n, 123, 48);
  const ping = answer ? icmpEcho('192.0.2.1', host, 0, n, 1) : icmpEcho(host, '192.0.2.1', 8, n, 1);
  return [{ bytes: ntp, ts }, { bytes: ping, ts: ts + 0.0001 }];
}

function run(release: boolean): { records: string[]; released: number; moved: number; movedTcp: number; passed: number[] } {
  const records: LoopyRecord[] = [];
  const pipeline = new Pipeline({ releaseFlowPages: release ? releasePages : undefined }).observe({ onRecord: (r) => records.push(r) });
  const table = pipeline.engine.connections.table;
  let movedTcp = 0;
  table.onMove((m) => {
    for (let i = 0; i < m.count; i++) if (table.protoOf(m.to[i]) === IPPROTO_TCP) movedTcp++;
  });
  // Packets counted per pass of the flow deltas (not at flows' ends): a moved flow's mark must follow it.
  const passed: number[] = [];
  let counted = 0;
  pipeline.flowDeltas.subscribe({ onFlowDelta: (_flow, origPkts, _ob, respPkts, _rb, ending) => void (ending || (counted += origPkts + respPkts)) });
  const pass = () => {
    counted = 0;
    pipeline.flowDeltas.pass();
    passed.push(counted);
  };
  pipeline.tick(T0);
  const burst: Frame[] = [];
  for (let n = 1; n <= 5; n++) burst.push(...session(n, T0 + 1.25, true), ...tlsSession(n, T0 + 1.3, true));
  for (let n = 0; n < 200; n++) burst.push(...quiet(n, T0 + 1 + n / 400, false));
  for (let i = 0; i < 20_000; i++) burst.push(...lookup(i, T0 + 1 + i / 40_000));
  burst.sort((a, b) => a.ts - b.ts);
  pipeline.process(batchOf(burst));
  pass();
  // The NTP and ping flows are answered (their slots marked for the next pass); the lookups end 10 s after
  // their answer, and the table, sparse, is compacted; the sessions stay open. Then more lookups, NTP
  // queries and pings, and the sessions talk.
  pipeline.process(batchOf(Array.from({ length: 200 }, (_, n) => quiet(n, T0 + 5 + n / 1000, true)).flat()));
  for (let t = 6; t <= 20; t += 2) pipeline.tick(T0 + t);
  pass();
  const after: Frame[] = [];
  for (let n = 0; n < 200; n++) after.push(...quiet(n, T0 + 21.5 + n / 1000, false));
  for (let i = 0; i < 300; i++) after.push(...lookup(100_000 + i, T0 + 21 + i / 1000));
  for (let n = 1; n <= 5; n++) after.push(...session(n, T0 + 22, false), ...tlsSession(n, T0 + 22.5, false));
  pipeline.process(batchOf(after.sort((a, b) => a.ts - b.ts)));
  pass();
  for (let t = 24; t <= 40; t += 2) pipeline.tick(T0 + t);
  pipeline.finish();
  return {
    records: records.filter((r) => r.type === 'conn' || r.type === 'dns' || r.type === 'http' || r.type === 'tls').map((r) => JSON.stringify(r)).sort(),
    released: pipeline.engine.flowPagesReleased,
    moved: table.flowsMoved,
    movedTcp,
    passed,
  };
}

const NO_ADDON = tryLoadCaptureAddon()?.releasePages === undefined ? 'the capture addon is not built (npm run build:native): its madvise gives the pages back' : false;

test('giving back the flow columns\' pages after a burst, moving the flows left down first, changes no record', { skip: NO_ADDON }, () => {
  const plain = run(false);
  const released = run(true);
  assert.equal(plain.released, 0);
  assert.equal(plain.moved, 0);
  // The NTP and ping flows are spread through the burst: those above the lowest free slots moved down.
  assert.ok(released.moved > 300, `${released.moved} flows moved`);
  // The TCP connections moved too: HTTP's, their streams and requests half read, and TLS's, released.
  assert.equal(released.movedTcp, 10);
  assert.deepEqual(released.passed, plain.passed, 'the flow deltas read the moved flows\' packets when they would have');
  assert.deepEqual(plain.passed.slice(1), [400, 400 + 600 + 10 + 20 + 1], 'answers, then queries, lookups, the sessions\' ends and a late ServerHello');
  // 20,000 flows of some 300 bytes of columns, less the pages the five sessions keep.
  assert.ok(released.released > 4_000_000, `${released.released} bytes released`);
  assert.equal(released.records.length, plain.records.length);
  assert.ok(plain.records.length > 40_000, `${plain.records.length} records`);
  assert.equal(released.records.filter((r) => r.includes('"type":"http"') && r.includes('"status_code":200')).length, 5, 'each session\'s request, begun before the release, was read whole after it');
  assert.equal(released.records.filter((r) => r.includes('"type":"tls"')).length, 5);
  const tlsConns = released.records.filter((r) => r.includes('"type":"conn"') && r.includes('"id.resp_p":443'));
  assert.equal(tlsConns.filter((r) => r.includes('"conn_state":"SF"') && r.includes('"service":"ssl"')).length, 5, 'each TLS connection, moved, closed as one flow');
  assert.deepEqual(released.records, plain.records);
});

/** A whole short HTTP connection from 10.210.x.y: handshake, request, answer, close. */
function shortConnection(n: number, ts: number): Frame[] {
  const client = `10.210.${n >> 8}.${n & 255}`;
  const port = 30_000 + (n % 30_000);
  const request = Buffer.concat([REQUEST_HEAD, REQUEST_TAIL]);
  const [c, s] = [7000, 9000];
  const step = 0.00001;
  return [
    { bytes: tcp4(client, SERVER, port, 80, SYN, c, 0), ts },
    { bytes: tcp4(SERVER, client, 80, port, SYN | ACK, s, c + 1), ts: ts + step },
    { bytes: tcp4(client, SERVER, port, 80, ACK, c + 1, s + 1), ts: ts + 2 * step },
    { bytes: tcp4(client, SERVER, port, 80, PSH | ACK, c + 1, s + 1, request), ts: ts + 3 * step },
    { bytes: tcp4(SERVER, client, 80, port, PSH | ACK, s + 1, c + 1 + request.length, RESPONSE), ts: ts + 4 * step },
    { bytes: tcp4(client, SERVER, port, 80, FIN | ACK, c + 1 + request.length, s + 1 + RESPONSE.length), ts: ts + 5 * step },
    { bytes: tcp4(SERVER, client, 80, port, FIN | ACK, s + 1 + RESPONSE.length, c + 2 + request.length), ts: ts + 6 * step },
  ];
}

/**
 * HTTP sessions moved down, between DNS flows that cannot move (asked again and again): the runs they leave
 * are too short for a page of most columns, so only the move itself clears their slots. Then 20,000 new
 * HTTP connections take those slots.
 */
function secondBurst(release: boolean): { records: string[]; moved: number } {
  const records: LoopyRecord[] = [];
  const pipeline = new Pipeline({ releaseFlowPages: release ? releasePages : undefined }).observe({ onRecord: (r) => records.push(r) });
  pipeline.tick(T0);
  const asker = (k: number, ts: number): Frame => lookup(900_000 + k, ts)[0];
  const burst: Frame[] = [];
  for (let i = 0; i < 20_000; i++) {
    const ts = T0 + 1 + i / 40_000;
    burst.push(...(i % 1000 === 500 ? [asker(i, ts)] : lookup(i, ts)));
    if (i % 2000 === 1000) burst.push(...session(200 + i / 2000, ts + 0.00001, true));
  }
  pipeline.process(batchOf(burst.sort((a, b) => a.ts - b.ts)));
  for (let t = 2; t <= 16; t++) {
    if (t % 4 === 1) pipeline.process(batchOf(Array.from({ length: 20 }, (_, k) => asker(k * 1000 + 500, T0 + t + 0.5 + k / 1000))));
    pipeline.tick(T0 + t);
  }
  const moved = pipeline.engine.connections.table.flowsMoved;
  const second = Array.from({ length: 20_000 }, (_, n) => shortConnection(n, T0 + 17 + n / 40_000)).flat();
  second.sort((a, b) => a.ts - b.ts);
  for (let k = 0; k < second.length; k += 20_000) pipeline.process(batchOf(second.slice(k, k + 20_000)));
  for (let t = 18; t <= 40; t += 2) pipeline.tick(T0 + t);
  pipeline.finish();
  return { records: records.filter((r) => r.type === 'conn' || r.type === 'http').map((r) => JSON.stringify(r)).sort(), moved };
}

test('the slots moved flows leave are as a flow\'s end leaves them: new HTTP connections there are read afresh', { skip: NO_ADDON }, () => {
  const plain = secondBurst(false);
  const released = secondBurst(true);
  assert.equal(released.moved, 10, 'the ten HTTP sessions moved');
  assert.equal(released.records.filter((r) => r.includes('"type":"http"')).length, 20_010);
  assert.deepEqual(released.records, plain.records);
});
