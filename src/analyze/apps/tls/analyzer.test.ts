import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Packet, TCP_ACK, TCP_FIN } from '../../../decode/packet.js';
import { GREASE_CLIENT_HELLO, SSLV2_CLIENT_HELLO, TLS13_SERVER_HELLO } from './fixtures/hellos.js';
import { TlsAnalyzer, tlsRegistration, type TlsFlowRecord } from './index.js';
import { AppDriver } from '../testing/app-driver.js';
import { FakeAppContext, fillTcpPacket, hex, synPacket } from '../testing/fake-context.js';

const clientHello = hex(GREASE_CLIENT_HELLO); // 517 bytes: record header 5, handshake header 4, body 508
const serverHello = hex(TLS13_SERVER_HELLO); // 127 bytes
const CLIENT_ISN = 0xfffffff0; // data starts at 0xfffffff1: the hello straddles the 2^32 wrap
const SERVER_ISN = 1000;

type Driver = AppDriver<TlsAnalyzer>;

function setup(): { ctx: FakeAppContext; tls: Driver; pkt: Packet } {
  const ctx = new FakeAppContext();
  return { ctx, tls: new AppDriver(ctx, tlsRegistration, (c) => new TlsAnalyzer(c)), pkt: new Packet() };
}

/** Sends `bytes` from the client as segments cut at `cuts` (offsets into bytes), in the given order. */
function sendClient(tls: Driver, pkt: Packet, bytes: Buffer, cuts: number[], order?: number[]): void {
  const edges = [0, ...cuts, bytes.length];
  const segments = edges.slice(1).map((end, i) => ({ start: edges[i], end }));
  for (const i of order ?? segments.map((_, k) => k)) {
    const { start, end } = segments[i];
    tls.packet(7, true, fillTcpPacket(pkt, { seq: CLIENT_ISN + 1 + start, payload: bytes.subarray(start, end), ts: 10 + i }));
  }
}

function handshake(tls: Driver, pkt: Packet): void {
  tls.packet(7, true, synPacket(pkt, CLIENT_ISN, 9));
  tls.packet(7, false, synPacket(pkt, SERVER_ISN, 9, (CLIENT_ISN + 1) >>> 0));
}

test('ClientHello split inside the record header and inside the extension list, then ServerHello: one record', () => {
  const { ctx, tls, pkt } = setup();
  handshake(tls, pkt);
  // Cut 1 after 3 bytes (16 03 01 | 02 00): inside the record header. Cut 2 at 300: inside the extensions
  // (they run from body offset 105, stream offset 114, to the end).
  sendClient(tls, pkt, clientHello, [3, 300]);
  assert.equal(ctx.records.length, 0, 'nothing before the ServerHello');
  assert.deepEqual(ctx.services, [[7, 'ssl']]);
  tls.packet(7, false, fillTcpPacket(pkt, { seq: SERVER_ISN + 1, payload: serverHello, ts: 20 }));
  assert.equal(ctx.records.length, 1);
  const r = ctx.records[0] as TlsFlowRecord;
  assert.equal(r.type, 'tls');
  assert.equal(r.ts, 12, 'time of the segment that completed the ClientHello');
  assert.equal(r.uid, 'C7');
  assert.equal(r.server_name, 'secure.adnxs.com');
  assert.equal(r.version, 'TLSv13');
  assert.equal(r.client_version, 'TLSv13');
  assert.equal(r.cipher, 'TLS_AES_128_GCM_SHA256');
  assert.deepEqual(r.client_alpn, ['h2', 'http/1.1']);
  assert.equal(r.client_cipher_count, 16);
  assert.equal(r.ja3, 'b32309a26951912be7dba376398abc3b');
  assert.equal(r.ja3s, 'eb1d94daa7e0344597e756a1fb6e7054');
  assert.deepEqual(ctx.services, [[7, 'ssl']], 'confirmed once');
  // Later segments (encrypted data) and the flow's end add nothing.
  tls.packet(7, true, fillTcpPacket(pkt, { seq: CLIENT_ISN + 1 + clientHello.length, payload: hex('17 03 03 00 02 ab cd') }));
  tls.end(7);
  tls.finish();
  assert.equal(ctx.records.length, 1);
  assert.equal(ctx.weirds.total(), 0);
});

test('segments out of order, and the hello re-framed over two TLS records and four TCP segments', () => {
  const { ctx, tls, pkt } = setup();
  const message = clientHello.subarray(5);
  const twoRecords = Buffer.concat([hex('16 03 01 00 64'), message.subarray(0, 100), hex('16 03 01 01 9c'), message.subarray(100)]);
  handshake(tls, pkt);
  sendClient(tls, pkt, twoRecords, [2, 104, 107], [2, 0, 3, 1]);
  tls.end(7);
  assert.equal(ctx.records.length, 1);
  const r = ctx.records[0] as TlsFlowRecord;
  assert.equal(r.server_name, 'secure.adnxs.com');
  assert.equal(r.version, 'TLSv13', "without a ServerHello: the client's highest offer");
  assert.equal(r.cipher, undefined);
  assert.equal(r.ja3s, undefined);
  assert.equal(r.ja3, 'b32309a26951912be7dba376398abc3b');
});

test("a ServerHello seen before the client's retransmitted last segment waits for the ClientHello", () => {
  const { ctx, tls, pkt } = setup();
  handshake(tls, pkt);
  // The client's second segment was lost and is retransmitted after the server answered.
  tls.packet(7, true, fillTcpPacket(pkt, { seq: CLIENT_ISN + 1, payload: clientHello.subarray(0, 400), ts: 10 }));
  tls.packet(7, false, fillTcpPacket(pkt, { seq: SERVER_ISN + 1, payload: serverHello, ts: 11 }));
  assert.equal(ctx.records.length, 0);
  tls.packet(7, true, fillTcpPacket(pkt, { seq: CLIENT_ISN + 401, payload: clientHello.subarray(400), ts: 12 }));
  assert.equal(ctx.records.length, 1);
  const r = ctx.records[0] as TlsFlowRecord;
  assert.equal(r.server_name, 'secure.adnxs.com');
  assert.equal(r.cipher, 'TLS_AES_128_GCM_SHA256');
  assert.equal(r.ts, 12);
});

test('a ServerHello alone (client side never captured) is reported at flow end', () => {
  const { ctx, tls, pkt } = setup();
  tls.packet(7, false, fillTcpPacket(pkt, { seq: SERVER_ISN + 1, payload: serverHello, ts: 11 }));
  assert.equal(ctx.records.length, 0);
  tls.end(7);
  assert.equal(ctx.records.length, 1);
  const r = ctx.records[0] as TlsFlowRecord;
  assert.equal(r.version, 'TLSv13');
  assert.equal(r.server_name, undefined);
  assert.equal(r.ts, 11);
});

test('one byte per segment still finds the hello', () => {
  const { ctx, tls, pkt } = setup();
  handshake(tls, pkt);
  sendClient(tls, pkt, clientHello, Array.from({ length: clientHello.length - 1 }, (_, i) => i + 1));
  tls.finish();
  assert.equal(ctx.records.length, 1);
  assert.equal((ctx.records[0] as TlsFlowRecord).server_name, 'secure.adnxs.com');
});

test('a flow that is not TLS: one weird for the flow, no record, later segments ignored', () => {
  const { ctx, tls, pkt } = setup();
  handshake(tls, pkt);
  tls.packet(7, true, fillTcpPacket(pkt, { seq: CLIENT_ISN + 1, payload: Buffer.from('SSH-2.0-OpenSSH_9.6\r\n') }));
  tls.packet(7, false, fillTcpPacket(pkt, { seq: SERVER_ISN + 1, payload: Buffer.from('SSH-2.0-OpenSSH_9.2\r\n') }));
  tls.packet(7, false, fillTcpPacket(pkt, { seq: SERVER_ISN + 22, payload: serverHello }));
  tls.finish();
  assert.equal(ctx.records.length, 0);
  assert.deepEqual(ctx.services, []);
  assert.deepEqual(ctx.weirds.list(), [{ name: 'ssl_unexpected_record', count: 1 }]);
});

test('a truncated hello (lengths inside disagree) is ssl_bad_client_hello; the ServerHello still makes a record', () => {
  const { ctx, tls, pkt } = setup();
  handshake(tls, pkt);
  const broken = Buffer.from(clientHello);
  broken.writeUInt16BE(0x1000, 9 + 2 + 32 + 1 + 32); // cipher suites length far past the message
  sendClient(tls, pkt, broken, []);
  tls.packet(7, false, fillTcpPacket(pkt, { seq: SERVER_ISN + 1, payload: serverHello, ts: 30 }));
  assert.deepEqual(ctx.weirds.list(), [{ name: 'ssl_bad_client_hello', count: 1 }]);
  assert.equal(ctx.records.length, 1);
  const r = ctx.records[0] as TlsFlowRecord;
  assert.equal(r.server_name, undefined);
  assert.equal(r.version, 'TLSv13');
  assert.equal(r.ts, 30);
});

test('a client whose first handshake message is not a ClientHello is ssl_unexpected_handshake', () => {
  const { ctx, tls, pkt } = setup();
  handshake(tls, pkt);
  sendClient(tls, pkt, serverHello, []); // a ServerHello from the client side
  tls.finish();
  assert.deepEqual(ctx.weirds.list(), [{ name: 'ssl_unexpected_handshake', count: 1 }]);
  assert.equal(ctx.records.length, 0);
});

test('a hole the reassembler gives up on before the hello is whole is ssl_content_gap', () => {
  const { ctx, tls, pkt } = setup();
  handshake(tls, pkt);
  // Bytes 0-99 never arrive; 70000 bytes after them exceed the reassembler's 64 KiB out-of-order budget.
  tls.packet(7, true, fillTcpPacket(pkt, { seq: CLIENT_ISN + 101, payload: Buffer.alloc(70000, 0x16) }));
  tls.finish();
  assert.deepEqual(ctx.weirds.list(), [{ name: 'ssl_content_gap', count: 1 }]);
});

test('a ClientHello with a hole the server ACKs past is ssl_content_gap; the ServerHello is still reported', () => {
  const { ctx, tls, pkt } = setup();
  handshake(tls, pkt);
  // The ClientHello as three segments, [0,3) [3,300) [300,517): the middle one never captured.
  tls.packet(7, true, fillTcpPacket(pkt, { seq: CLIENT_ISN + 1, payload: clientHello.subarray(0, 3), ts: 10 }));
  tls.packet(7, true, fillTcpPacket(pkt, { seq: CLIENT_ISN + 1 + 300, payload: clientHello.subarray(300), ts: 12 }));
  assert.equal(ctx.weirds.total(), 0, 'the hole might still fill');
  // The server's ServerHello acknowledges all 517 bytes: the middle segment was lost to the capture.
  tls.packet(7, false, fillTcpPacket(pkt, { seq: SERVER_ISN + 1, payload: serverHello, ts: 20, ack: CLIENT_ISN + 1 + clientHello.length }));
  assert.deepEqual(ctx.weirds.list(), [{ name: 'ssl_content_gap', count: 1 }]);
  assert.equal(ctx.records.length, 1, 'both sides settled: the record goes out');
  const r = ctx.records[0] as TlsFlowRecord;
  assert.equal(r.server_name, undefined, 'nothing read from the bytes after the hole');
  assert.equal(r.ja3, undefined);
  assert.equal(r.version, 'TLSv13');
  assert.equal(r.ja3s, 'eb1d94daa7e0344597e756a1fb6e7054');
});

test('a ClientHello with a hole still open at the end of the flow is ssl_content_gap, not a silent nothing', () => {
  const { ctx, tls, pkt } = setup();
  handshake(tls, pkt);
  sendClient(tls, pkt, clientHello, [3, 300], [0, 2]); // the middle segment never captured, no ACK seen
  tls.end(7);
  assert.deepEqual(ctx.weirds.list(), [{ name: 'ssl_content_gap', count: 1 }]);
  assert.equal(ctx.records.length, 0);
});

test('a hello longer than the 64 KiB cap is ssl_handshake_too_long', () => {
  const { ctx, tls, pkt } = setup();
  handshake(tls, pkt);
  // Record of 16384 bytes starting a ClientHello that claims 0x012000 (73728) bytes.
  const start = Buffer.concat([hex('16 03 01 40 00 01 01 20 00'), Buffer.alloc(16380)]);
  sendClient(tls, pkt, start, [1000]);
  tls.packet(7, true, fillTcpPacket(pkt, { seq: 0, flags: TCP_ACK | TCP_FIN }));
  tls.finish();
  assert.deepEqual(ctx.weirds.list(), [{ name: 'ssl_handshake_too_long', count: 1 }]);
  assert.equal(ctx.records.length, 0);
});

test('the client hello alone is reported at flow end, and the flow is forgotten', () => {
  const { ctx, tls, pkt } = setup();
  sendClient(tls, pkt, clientHello, [200]); // no SYN seen: the stream starts at the first segment
  tls.end(7);
  assert.equal(ctx.records.length, 1);
  tls.finish();
  assert.equal(ctx.records.length, 1, 'finish after onFlowEnd reports nothing again');
});

test('registration: Zeek service name, TLS ports, ClientHello probe', () => {
  assert.equal(tlsRegistration.name, 'ssl');
  assert.ok(tlsRegistration.tcpPorts?.includes(443) && tlsRegistration.tcpPorts.includes(853));
  const probe = tlsRegistration.probe!;
  assert.equal(probe(clientHello, 0, clientHello.length, 6), true);
  assert.equal(probe(clientHello, 0, 5, 6), false, 'too short to see the handshake type');
  assert.equal(probe(serverHello, 0, serverHello.length, 6), false, 'a ServerHello does not start a flow');
  assert.equal(probe(hex('16 03 05 02 00 01'), 0, 6, 6), false, 'record version 3.5');
  assert.equal(probe(hex('17 03 03 02 00 01'), 0, 6, 6), false, 'application data');
  assert.equal(probe(clientHello, 0, clientHello.length, 17), false, 'UDP');
  const get = Buffer.from('GET / HTTP/1.1\r\n');
  assert.equal(probe(get, 0, get.length, 6), false);
});

/** A later flow in slot 7 after `earlier` ended there: its output must be what it gives on an analyzer of its own. */
test("TLS state kept from a flow that ended carries nothing into the next flow of its slot", () => {
  const earlier: Record<string, (tls: Driver, pkt: Packet) => void> = {
    'both hellos (released once the record is out)': (tls, pkt) => {
      sendClient(tls, pkt, clientHello, []);
      tls.packet(7, false, fillTcpPacket(pkt, { seq: SERVER_ISN + 1, payload: serverHello, ts: 20 }));
    },
    'a ClientHello (SNI, ALPN, JA3), half a ServerHello kept': (tls, pkt) => {
      sendClient(tls, pkt, clientHello, []);
      tls.packet(7, false, fillTcpPacket(pkt, { seq: SERVER_ISN + 1, payload: serverHello.subarray(0, 50), ts: 20 }));
    },
    'not TLS (its weird counted)': (tls, pkt) => {
      tls.packet(7, true, fillTcpPacket(pkt, { seq: CLIENT_ISN + 1, payload: Buffer.from('SSH-2.0-OpenSSH_9.6\r\n') }));
    },
  };
  const later: Record<string, (tls: Driver, pkt: Packet) => void> = {
    'a ServerHello alone': (tls, pkt) => tls.packet(7, false, fillTcpPacket(pkt, { seq: SERVER_ISN + 1, payload: serverHello, ts: 30 })),
    'a ClientHello alone, in three segments': (tls, pkt) => sendClient(tls, pkt, clientHello, [3, 300]),
    'an SSLv2 ClientHello alone (no SNI, ALPN or JA3)': (tls, pkt) => sendClient(tls, pkt, hex(SSLV2_CLIENT_HELLO), []),
    'not TLS': (tls, pkt) => tls.packet(7, false, fillTcpPacket(pkt, { seq: SERVER_ISN + 1, payload: Buffer.from('SSH-2.0-OpenSSH_9.2\r\n') })),
  };
  const run = (ctx: FakeAppContext, tls: Driver, pkt: Packet, script: (tls: Driver, pkt: Packet) => void) => {
    const from = ctx.mark();
    handshake(tls, pkt);
    script(tls, pkt);
    tls.end(7);
    return ctx.outputSince(from);
  };
  for (const [earlierName, first] of Object.entries(earlier)) {
    for (const [laterName, second] of Object.entries(later)) {
      const { ctx, tls, pkt } = setup();
      run(ctx, tls, pkt, first);
      assert.equal(tls.analyzer.spareFlows, 1, `${earlierName}: kept`);
      const reused = run(ctx, tls, pkt, second);
      const alone = setup();
      assert.deepEqual(reused, run(alone.ctx, alone.tls, alone.pkt, second), `${laterName} after ${earlierName}`);
      assert.equal(tls.analyzer.spareFlows, 1, `${earlierName}, ${laterName}: taken, and kept again`);
    }
  }
});
