import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDnsMessage, type DnsMessage } from './message.js';
import { TCPDUMP_QUERY, TCPDUMP_RESPONSE } from './testing/fixtures.js';
import { diffAgainstTshark, parseTsharkDnsTsv, tsharkFieldsOf } from './tshark-diff.js';

// corpus-reference/dns/tcpdump__dns_udp.pcap.dns.tsv, verbatim (tabs written \t).
const TSV = [
  '1\t192.168.1.11\t\t209.87.249.18\t\t0x5934\t0\twww.tcpdump.org\t1\t\t0\t\t\t',
  '2\t209.87.249.18\t\t192.168.1.11\t\t0x5934\t1\twww.tcpdump.org\t1\t0\t2\t192.139.46.66,198.199.88.104,209.87.249.18,97.107.133.15\t2607:f0b0:f::babe:f00d,2600:3c03::f03c:91ff:fe96:e8ef\t',
].join('\n') + '\n';

function parsed(buf: Buffer): DnsMessage {
  const r = parseDnsMessage(buf, 0, buf.length);
  assert.ok(r.ok);
  return r.msg;
}

test('reads tshark rows, empty fields and all', () => {
  const rows = parseTsharkDnsTsv(TSV);
  assert.equal(rows.length, 2);
  assert.deepEqual(rows[0], {
    frame: 1, src: ['192.168.1.11'], dst: ['209.87.249.18'], id: '0x5934', response: '0', qname: 'www.tcpdump.org',
    qtype: '1', rcode: '', answers: '0', a: '', aaaa: '', cname: '',
  });
});

test("a response's fields as tshark prints them: A/AAAA from every section, rcode only on responses", () => {
  const row = parseTsharkDnsTsv(TSV)[1];
  const fields = tsharkFieldsOf([parsed(TCPDUMP_RESPONSE)]);
  assert.deepEqual(fields, { id: row.id, response: row.response, qname: row.qname, qtype: row.qtype, rcode: row.rcode, answers: row.answers, a: row.a, aaaa: row.aaaa, cname: row.cname });
});

test('several messages in one frame join with commas; mismatches and missing frames are reported', () => {
  const q = parsed(TCPDUMP_QUERY);
  assert.equal(tsharkFieldsOf([q, q]).id, '0x5934,0x5934');
  assert.equal(tsharkFieldsOf([q, q]).qname, 'www.tcpdump.org,www.tcpdump.org');
  const observed = [
    { frame: 1, msg: q, src: '192.168.1.11', dst: '209.87.249.18' },
    { frame: 3, msg: parsed(TCPDUMP_RESPONSE), src: '10.9.9.9' },
  ];
  assert.deepEqual(diffAgainstTshark(observed, TSV), [
    { frame: 2, field: 'frame', ours: '', tshark: 'present' },
    { frame: 3, field: 'frame', ours: 'present', tshark: '' },
  ]);
  const wrongSource = [{ frame: 1, msg: q, src: '10.9.9.9' }, { frame: 2, msg: q }];
  assert.deepEqual(diffAgainstTshark(wrongSource, TSV).map((d) => d.field), ['src', 'response', 'rcode', 'answers', 'a', 'aaaa']);
});
