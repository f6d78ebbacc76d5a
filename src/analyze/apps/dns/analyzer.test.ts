import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TCP_ACK, TCP_PSH, TCP_SYN } from '../../../decode/packet.js';
import type { DnsRecord } from '../../records.js';
import { dnsRegistration } from './index.js';
import { FakeEngine, type Segment } from './testing/drive.js';
import { TCPDUMP_QUERY, TCPDUMP_RESPONSE } from './testing/fixtures.js';

// The real query/response pair of tcpdump dns_udp.pcap (id 0x5934), re-numbered where a test needs several.
function withId(msg: Buffer, id: number): Buffer {
  const copy = Buffer.from(msg);
  copy.writeUInt16BE(id, 0);
  return copy;
}

/** RFC 1035 4.2.2 framing: a 2-byte length in front of the message. */
function framed(...msgs: Buffer[]): Buffer {
  return Buffer.concat(msgs.flatMap((m) => [Buffer.from([m.length >> 8, m.length & 0xff]), m]));
}

const CLIENT = { src: '192.168.1.11', srcPort: 44222 };
const SERVER = { src: '209.87.249.18', srcPort: 53 };

function udp(ts: number, fromClient: boolean, payload: Buffer): Segment {
  const [a, b] = fromClient ? [CLIENT, SERVER] : [SERVER, CLIENT];
  return { ts, proto: 'udp', src: a.src, srcPort: a.srcPort, dst: b.src, dstPort: b.srcPort, payload };
}

function tcp(ts: number, fromClient: boolean, seq: number, ack: number, payload: Buffer, flags = TCP_ACK | TCP_PSH): Segment {
  const [a, b] = fromClient ? [CLIENT, SERVER] : [SERVER, CLIENT];
  return { ts, proto: 'tcp', src: a.src, srcPort: a.srcPort, dst: b.src, dstPort: b.srcPort, seq, ack, tcpFlags: flags, payload };
}

const dnsRecords = (e: FakeEngine) => e.records.filter((r): r is DnsRecord => r.type === 'dns');

/** Client ISN 1000 and server ISN 5000: client data starts at 1001, server data at 5001. */
function handshake(e: FakeEngine, ts = 1): void {
  e.feed(tcp(ts, true, 1000, 0, Buffer.alloc(0), TCP_SYN));
  e.feed(tcp(ts, false, 5000, 1001, Buffer.alloc(0), TCP_SYN | TCP_ACK));
  e.feed(tcp(ts, true, 1001, 5001, Buffer.alloc(0), TCP_ACK));
}

test('registration: name and ports', () => {
  assert.equal(dnsRegistration.name, 'dns');
  assert.deepEqual(dnsRegistration.udpPorts, [53, 5353, 5355]);
  assert.deepEqual(dnsRegistration.tcpPorts, [53]);
});

test('UDP query and response make one record with the rtt; the hook sees both messages', () => {
  const e = new FakeEngine();
  const flow = e.feed(udp(1000.5, true, TCPDUMP_QUERY));
  e.feed(udp(1000.630282, false, TCPDUMP_RESPONSE));
  const recs = dnsRecords(e);
  assert.equal(recs.length, 1);
  const r = recs[0];
  assert.equal(r.ts, 1000.5);
  assert.ok(Math.abs((r.rtt as number) - 0.130282) < 1e-9);
  assert.deepEqual([r.uid, r['id.orig_h'], r['id.resp_p'], r.proto], ['C1', '192.168.1.11', 53, 'udp']);
  assert.deepEqual([r.trans_id, r.query, r.qtype_name, r.rcode_name], [0x5934, 'www.tcpdump.org', 'A', 'NOERROR']);
  assert.deepEqual([r.AA, r.TC, r.RD, r.RA, r.Z], [true, false, true, false, 2]);
  assert.deepEqual(r.answers, ['192.139.46.66', '198.199.88.104']);
  assert.deepEqual(r.TTLs, [60, 60]);
  assert.equal(r.rejected, false);
  assert.deepEqual([...new Set(e.confirmed)], [flow], 'service confirmed, for that flow only');
  assert.deepEqual(e.messages.map((m) => [m.msg.qr, m.fromOrig, m.ts]), [[false, true, 1000.5], [true, false, 1000.630282]]);
});

test('a response with no query is a record of its own, at its own time', () => {
  const e = new FakeEngine();
  e.feed(udp(50, false, TCPDUMP_RESPONSE));
  const recs = dnsRecords(e);
  assert.equal(recs.length, 1);
  assert.equal(recs[0].ts, 50);
  assert.equal(recs[0].rtt, undefined);
  assert.equal(recs[0].query, 'www.tcpdump.org');
  assert.deepEqual(recs[0].answers, ['192.139.46.66', '198.199.88.104']);
});

test('an unanswered query is reported when it times out in capture time, not before', () => {
  const e = new FakeEngine({ queryTimeout: 10 });
  e.feed(udp(100, true, TCPDUMP_QUERY));
  e.analyzer.advance(109.999);
  assert.equal(dnsRecords(e).length, 0);
  e.analyzer.advance(110);
  const recs = dnsRecords(e);
  assert.equal(recs.length, 1);
  assert.deepEqual([recs[0].ts, recs[0].query, recs[0].rcode, recs[0].rtt], [100, 'www.tcpdump.org', undefined, undefined]);
  // The late answer no longer has a query to pair with.
  e.feed(udp(111, false, TCPDUMP_RESPONSE));
  assert.equal(dnsRecords(e).length, 2);
  assert.equal(dnsRecords(e)[1].ts, 111);
});

test('pending queries are reported at flow end and at finish', () => {
  const e = new FakeEngine();
  const flow = e.feed(udp(1, true, withId(TCPDUMP_QUERY, 1)));
  e.feed(udp(2, true, withId(TCPDUMP_QUERY, 2)));
  e.end(flow);
  assert.deepEqual(dnsRecords(e).map((r) => r.trans_id), [1, 2]);
  e.feed({ ...udp(3, true, withId(TCPDUMP_QUERY, 3)), srcPort: 40001 });
  e.finish();
  assert.deepEqual(dnsRecords(e).map((r) => r.trans_id), [1, 2, 3]);
  assert.equal(e.analyzer.transactions.pending, 0);
});

test('a repeated transaction id pairs with the oldest query; a second response stands alone', () => {
  const e = new FakeEngine();
  e.feed(udp(1, true, TCPDUMP_QUERY));
  e.feed(udp(2, true, TCPDUMP_QUERY));
  e.feed(udp(3, false, TCPDUMP_RESPONSE));
  e.feed(udp(4, false, TCPDUMP_RESPONSE));
  e.feed(udp(5, false, TCPDUMP_RESPONSE));
  assert.deepEqual(dnsRecords(e).map((r) => [r.ts, r.rtt]), [[1, 2], [2, 2], [5, undefined]]);
});

test('TCP: two messages in one segment each way', () => {
  const e = new FakeEngine();
  handshake(e);
  const q = framed(withId(TCPDUMP_QUERY, 1), withId(TCPDUMP_QUERY, 2));
  e.feed(tcp(2, true, 1001, 5001, q));
  const r = framed(withId(TCPDUMP_RESPONSE, 2), withId(TCPDUMP_RESPONSE, 1));
  e.feed(tcp(3, false, 5001, 1001 + q.length, r));
  const recs = dnsRecords(e);
  assert.deepEqual(recs.map((x) => [x.trans_id, x.rtt, x.proto]), [[2, 1, 'tcp'], [1, 1, 'tcp']]);
  assert.equal(e.weirds.total(), 0);
});

test('TCP: one message over three segments, the length prefix itself split', () => {
  const e = new FakeEngine();
  handshake(e);
  e.feed(tcp(2, true, 1001, 5001, framed(TCPDUMP_QUERY)));
  const r = framed(TCPDUMP_RESPONSE);
  e.feed(tcp(3, false, 5001, 1001, r.subarray(0, 1)));
  e.feed(tcp(4, false, 5002, 1001, r.subarray(1, 101)));
  assert.equal(dnsRecords(e).length, 0, 'nothing until the message is complete');
  e.feed(tcp(5, false, 5102, 1001, r.subarray(101)));
  const recs = dnsRecords(e);
  assert.equal(recs.length, 1);
  assert.deepEqual([recs[0].rtt, recs[0].answers?.length], [3, 2]);
  assert.equal(e.messages.at(-1)?.ts, 5, 'the message completes with the third segment');
});

test('TCP: segments out of order are put back in order', () => {
  const e = new FakeEngine();
  handshake(e);
  e.feed(tcp(2, true, 1001, 5001, framed(TCPDUMP_QUERY)));
  const r = framed(TCPDUMP_RESPONSE);
  e.feed(tcp(3, false, 5101, 1001, r.subarray(100)));
  e.feed(tcp(3.1, false, 5041, 1001, r.subarray(40, 100)));
  assert.equal(dnsRecords(e).length, 0);
  e.feed(tcp(3.2, false, 5001, 1001, r.subarray(0, 40)));
  assert.equal(dnsRecords(e).length, 1);
  assert.deepEqual(dnsRecords(e)[0].answers, ['192.139.46.66', '198.199.88.104']);
  assert.equal(e.weirds.total(), 0);
});

test('TCP: a segment lost to the capture is skipped once the peer ACKs past it', () => {
  const e = new FakeEngine();
  handshake(e);
  const q1 = framed(withId(TCPDUMP_QUERY, 1));
  const q2 = framed(withId(TCPDUMP_QUERY, 2));
  e.feed(tcp(2, true, 1001, 5001, q1));
  e.feed(tcp(2.1, true, 1001 + q1.length, 5001, q2));
  const r1 = framed(withId(TCPDUMP_RESPONSE, 1)); // never captured
  const r2 = framed(withId(TCPDUMP_RESPONSE, 2));
  e.feed(tcp(3, false, 5001 + r1.length, 1001 + q1.length + q2.length, r2));
  assert.equal(dnsRecords(e).length, 0, 'it might only be reordered: wait');
  // The client acknowledges both responses: r1 was delivered, just not to us.
  e.feed(tcp(3.5, true, 1001 + q1.length + q2.length, 5001 + r1.length + r2.length, Buffer.alloc(0), TCP_ACK));
  const recs = dnsRecords(e);
  assert.deepEqual(recs.map((r) => r.trans_id), [2]);
  // q2 left at 2.1; r2 is handed over when the ACK at 3.5 proves the gap, dated by its own segment (3).
  assert.ok(Math.abs((recs[0].rtt as number) - 0.9) < 1e-9);
  assert.equal(e.weirds.get('dns_tcp_content_gap'), 1);
  e.finish();
  assert.deepEqual(dnsRecords(e).map((r) => [r.trans_id, r.rcode]), [[2, 0], [1, undefined]]);
});

test('TCP: DNS keeps at most 16 KiB behind a hole, then gives it up without waiting for an ACK', () => {
  const e = new FakeEngine();
  handshake(e);
  const lost = framed(withId(TCPDUMP_RESPONSE, 1)); // never captured, and the client never ACKs anything
  const segment = framed(...Array.from({ length: 10 }, (_, i) => withId(TCPDUMP_RESPONSE, 100 + i)));
  const fit = Math.floor((16 * 1024) / segment.length);
  let seq = 5001 + lost.length;
  for (let i = 0; i < fit; i++, seq += segment.length) e.feed(tcp(2 + i, false, seq, 1001, segment));
  assert.deepEqual([dnsRecords(e).length, e.weirds.total()], [0, 0], 'within 16 KiB: the hole might still fill');
  e.feed(tcp(100, false, seq, 1001, segment));
  assert.equal(e.weirds.get('dns_tcp_content_gap'), 1);
  assert.equal(dnsRecords(e).length, 10 * (fit + 1), 'every kept response, each at its own time');
  assert.equal(dnsRecords(e)[0].ts, 2);
});

test('TCP without the SYN, starting right after a lost length prefix (like dnscap do1t-nosyn-1nolen.pcap)', () => {
  const e = new FakeEngine();
  // The client's first captured segment is a bare query: its 2-byte length went out in a segment not captured.
  e.feed(tcp(1, true, 7000, 9000, withId(TCPDUMP_QUERY, 1)));
  e.feed(tcp(1.1, false, 9000, 7000 + TCPDUMP_QUERY.length, framed(withId(TCPDUMP_RESPONSE, 1))));
  // Then the framing is normal again.
  const next = framed(withId(TCPDUMP_QUERY, 2));
  e.feed(tcp(2, true, 7000 + TCPDUMP_QUERY.length, 9000, next));
  e.feed(tcp(2.2, false, 9000 + TCPDUMP_RESPONSE.length + 2, 7000, framed(withId(TCPDUMP_RESPONSE, 2))));
  assert.deepEqual(dnsRecords(e).map((r) => [r.trans_id, r.rcode_name]), [[1, 'NOERROR'], [2, 'NOERROR']]);
  assert.ok(Math.abs((dnsRecords(e)[1].rtt as number) - 0.2) < 1e-9);
});

test('TCP without the SYN, starting mid-message: the fragment is dropped, the next message found', () => {
  const e = new FakeEngine();
  const whole = framed(withId(TCPDUMP_RESPONSE, 1));
  e.feed(tcp(1, false, 9000, 7000, whole.subarray(50)));
  e.feed(tcp(2, false, 9000 + whole.length - 50, 7000, framed(withId(TCPDUMP_RESPONSE, 2))));
  assert.deepEqual(dnsRecords(e).map((r) => r.trans_id), [2]);
});

test('TCP: a length below a DNS header is a weird; framing resumes at the next segment', () => {
  const e = new FakeEngine();
  handshake(e);
  const junk = Buffer.from([0x00, 0x03, 0x41, 0x42, 0x43]);
  e.feed(tcp(2, true, 1001, 5001, junk));
  e.feed(tcp(3, true, 1001 + junk.length, 5001, framed(TCPDUMP_QUERY)));
  assert.equal(e.weirds.get('dns_tcp_bad_length'), 1);
  assert.equal(e.messages.length, 1);
  assert.equal(e.messages[0].msg.id, 0x5934);
});

test('TCP Fast Open: data on the SYN starts after the SYN sequence number', () => {
  const e = new FakeEngine();
  e.feed(tcp(1, true, 1000, 0, framed(TCPDUMP_QUERY), TCP_SYN));
  e.feed(tcp(1.5, false, 5000, 1001 + TCPDUMP_QUERY.length + 2, Buffer.alloc(0), TCP_SYN | TCP_ACK));
  e.feed(tcp(2, false, 5001, 1001, framed(TCPDUMP_RESPONSE)));
  assert.equal(dnsRecords(e).length, 1);
  assert.equal(dnsRecords(e)[0].rtt, 1);
});

test('garbage on port 53 counts a weird and makes no record', () => {
  const e = new FakeEngine();
  e.feed(udp(1, true, Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')));
  assert.equal(dnsRecords(e).length, 0);
  assert.ok(e.weirds.total() >= 1);
  assert.deepEqual(e.confirmed, []);
});
