import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConnId } from '../../records.js';
import { DnsWire, parseDnsMessage, type DnsMessage } from './message.js';
import { hex } from './testing/hex.js';
import { buildDnsRecord, formatAnswer, isRejected, queryFieldsOf } from './zeek-record.js';

const CONN: ConnId = { uid: 'Cabc', 'id.orig_h': '10.0.0.1', 'id.orig_p': 40000, 'id.resp_h': '10.0.0.53', 'id.resp_p': 53, proto: 'udp' };

function msg(text: string): DnsMessage {
  const buf = hex(text);
  const r = parseDnsMessage(buf, 0, buf.length);
  assert.ok(r.ok, r.ok ? '' : r.weird);
  return r.msg;
}

/** The message parsed in place, as the analyzer parses it. */
function wire(text: string): DnsWire {
  const buf = hex(text);
  const w = new DnsWire();
  assert.ok(w.parse(buf, 0, buf.length) && w.error < 0);
  return w;
}

/** A response to "Example.COM" (type `qtype`) whose single answer is built from `rr` (type, then rdata hex). */
function answerText(type: string, rdata: string): string {
  const len = hex(rdata).length.toString(16).padStart(4, '0');
  return `
    0001 8180 0001 0001 0000 0000
    07 4578616d706c65 03 434f4d 00 ${type} 0001   # Example.COM
    c00c ${type} 0001 00000e10 ${len} ${rdata}     # TTL 3600
  `;
}

function answer(type: string, rdata: string): DnsMessage {
  return msg(answerText(type, rdata));
}

test('TXT with several strings: "TXT <len> <text>" per string, as Zeek joins them', () => {
  const m = answer('0010', '06 763d73706631 0b 68656c6c6f20776f726c64'); // "v=spf1", "hello world"
  assert.equal(formatAnswer(m.answers[0]), 'TXT 6 v=spf1 TXT 11 hello world');
});

test('SPF is written like TXT with its own label', () => {
  const m = answer('0063', '0e 763d73706631206d78202d616c6c'); // "v=spf1 mx -all"
  assert.equal(formatAnswer(m.answers[0]), 'SPF 14 v=spf1 mx -all');
});

test('MX is its exchange name, SRV its target, SOA its mname', () => {
  assert.equal(formatAnswer(answer('000f', '000a 04 6d61696c c00c').answers[0]), 'mail.Example.COM');
  assert.equal(formatAnswer(answer('0021', '0001 0002 01bb 03 737276 c00c').answers[0]), 'srv.Example.COM');
  const soa = answer('0006', '03 6e7331 c00c 0a 686f73746d6173746572 c00c 00000001 00000e10 00000258 00093a80 0000012c');
  assert.deepEqual(soa.answers[0].data, { kind: 'soa', mname: 'ns1.Example.COM', rname: 'hostmaster.Example.COM', serial: 1, refresh: 3600, retry: 600, expire: 604800, minimum: 300 });
  assert.equal(formatAnswer(soa.answers[0]), 'ns1.Example.COM');
});

test('types Loopy does not decode are <unknown type=N>; WKS and OPT give no answer', () => {
  assert.equal(formatAnswer(answer('001d', '00 12 16 13 00000000 00000000 00000000').answers[0]), '<unknown type=29>'); // LOC
  assert.equal(formatAnswer(answer('000b', '0a000001 06 00').answers[0]), null); // WKS
});

test('NAPTR and RRSIG in Zeek formats', () => {
  const naptr = answer('0023', '0064 000a 01 73 07 5349502b443255 00 04 5f736970 c00c');
  assert.equal(formatAnswer(naptr.answers[0]), 'NAPTR 100 10 s SIP+D2U _sip.Example.COM');
  // RRSIG over A (1), algorithm 8, signer = the root
  const rrsig = answer('002e', '0001 08 02 00000e10 00000000 00000000 1234 00 abcd');
  assert.equal(formatAnswer(rrsig.answers[0]), 'RRSIG 1 <Root>');
});

test('a matched pair: query fields from the query, flags and rcode from the response, rtt between them', () => {
  const query = wire('0001 0130 0001 0000 0000 0000 07 4578616d706c65 03 434f4d 00 0001 0001'); // RD, AD, CD
  const response = wire(answerText('0001', 'c0000201'));
  const rec = buildDnsRecord(CONN, queryFieldsOf(query, 100), response, 100.25);
  assert.deepEqual(rec, {
    type: 'dns', _path: 'dns', ts: 100, ...CONN, trans_id: 1, rtt: 0.25,
    query: 'example.com', qclass: 1, qclass_name: 'C_INTERNET', qtype: 1, qtype_name: 'A',
    rcode: 0, rcode_name: 'NOERROR', AA: false, TC: false, RD: true, RA: true, Z: 3,
    answers: ['192.0.2.1'], TTLs: [3600], rejected: false,
  });
});

test('a lone query has no rcode, rtt or answers', () => {
  const query = wire('0001 0100 0001 0000 0000 0000 01 61 00 001c 0001');
  const rec = buildDnsRecord(CONN, queryFieldsOf(query, 5), null, 0);
  assert.equal(rec.ts, 5);
  assert.equal(rec.qtype_name, 'AAAA');
  assert.equal('rcode' in rec, false);
  assert.equal('rtt' in rec, false);
  assert.equal('answers' in rec, false);
});

test("rejected follows Zeek: a question and no RRs at all, or a bad rcode and no question", () => {
  const refusedNoRRs = wire('0001 8185 0001 0000 0000 0000 01 61 00 0001 0001');
  assert.equal(isRejected(refusedNoRRs), true);
  const nodataNoRRs = wire('0001 8180 0001 0000 0000 0000 01 61 00 0001 0001');
  assert.equal(isRejected(nodataNoRRs), true, 'Zeek marks any response without RRs, whatever its rcode');
  const nxdomainWithSoa = wire(`0001 8183 0001 0000 0001 0000 01 61 00 0001 0001
    c00c 0006 0001 0000003c 0016 00 00 00000001 00000001 00000001 00000001 00000001`);
  assert.equal(isRejected(nxdomainWithSoa), false);
  const formerrNoQuestion = wire('0001 8181 0000 0000 0000 0000');
  assert.equal(isRejected(formerrNoQuestion), true);
  const rec = buildDnsRecord(CONN, null, formerrNoQuestion, 1);
  assert.equal(rec.rejected, true);
  assert.equal(rec.rcode_name, 'FORMERR');
});

test('a lone response without a question takes the query from its first answer', () => {
  // mDNS-style announcement: no question, one A answer for host.local
  const announce = wire('0000 8400 0000 0001 0000 0000 04 686f7374 05 6c6f63616c 00 0001 8001 00000078 0004 c0a80105');
  const rec = buildDnsRecord(CONN, null, announce, 7);
  assert.equal(rec.query, 'host.local');
  assert.equal('qtype' in rec, false);
  assert.deepEqual(rec.answers, ['192.168.1.5']);
  assert.equal(rec.AA, true);
});

test("a record's answers, read from the bytes, are formatAnswer's text of the decoded RRs", () => {
  const cases: [string, string][] = [
    ['0001', 'c0000201'], // A
    ['001c', '20010db8000000000000000000000001'], // AAAA
    ['0005', '03 777777 c00c'], // CNAME
    ['0005', '00'], // CNAME to the root: an empty answer, left out
    ['000c', '04 686f7374 00'], // PTR
    ['0002', '03 6e7331 c00c'], // NS
    ['000f', '000a 04 6d61696c c00c'], // MX
    ['0021', '0001 0002 01bb 03 737276 c00c'], // SRV
    ['0006', '03 6e7331 c00c 0a 686f73746d6173746572 c00c 00000001 00000e10 00000258 00093a80 0000012c'], // SOA
    ['0010', '06 763d73706631 0b 68656c6c6f20776f726c64'], // TXT
    ['0023', '0064 000a 01 73 07 5349502b443255 00 04 5f736970 c00c'], // NAPTR
    ['002e', '0001 08 02 00000e10 00000000 00000000 1234 00 abcd'], // RRSIG
    ['002f', '04 6e657874 c00c 0006 4000 0000 0003'], // NSEC: owner and next
    ['001d', '00 12 16 13 00000000 00000000 00000000'], // LOC: unknown
    ['000b', '0a000001 06 00'], // WKS: nothing
    ['0001', ''], // empty rdata: unknown
    ['0001', 'c00002'], // A of 3 bytes: malformed
    ['000f', '000a 04 6d61696c'], // MX whose name runs off its rdata: malformed
  ];
  for (const [type, rdata] of cases) {
    const text = answerText(type, rdata);
    const expected = formatAnswer(msg(text).answers[0]);
    const rec = buildDnsRecord(CONN, null, wire(text), 1);
    assert.deepEqual(rec.answers, expected === null || expected === '' ? undefined : [expected], `type ${type} rdata ${rdata}`);
  }
});
