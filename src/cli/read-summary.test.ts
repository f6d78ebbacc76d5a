import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DnsRecord, SummaryRecord } from '../analyze/records.js';
import { ReadReport, type Conversation } from '../stats/read-report.js';
import { renderReadSummary } from './read-summary.js';
import { cellWidth } from '../analyze/display-text.js';

const SUMMARY = {
  type: 'summary', packets: 40, bytes: 20000, first_ts: 1718000000, last_ts: 1718000010, flows: 3, flows_evicted: 0,
  link_types: { '1': 40 }, protocols: {}, weirds: {}, unsupported_link_types: {},
} as unknown as SummaryRecord;

/** The address of an endpoint as the summary writes it: `[2001:db8::1]:443` → `2001:db8::1`. */
const hostOf = (endpoint: string): string => endpoint.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1');

const conversation = (originator: string, responder: string, bytes: number): Conversation =>
  ({ originator, responder, origHost: hostOf(originator), respHost: hostOf(responder), proto: 'tcp', service: 'ssl', state: 'SF', packets: 12, bytes, duration: 1, rtt: 0.018, retrans: 0 });

function report(): ReadReport {
  const r = new ReadReport();
  r.tcp.add(conversation('192.168.10.22:51721', '203.0.113.10:443', 9000));
  r.tcp.add(conversation('[2001:db8:100::22]:51722', '[2001:db8:200::443]:443', 8000));
  r.tcp.add(conversation('[2001:db8:1234:5678:9abc:def0:1234:5678]:51723', '[2001:db8:1234:5678:9abc:def0:1234:9999]:443', 7000));
  for (const query of ['', '', 'api.example.com']) r.add({ type: 'dns', query, rcode_name: 'NOERROR', rtt: 0.2, 'id.resp_h': '192.168.10.1' } as unknown as DnsRecord);
  r.add(SUMMARY);
  return r;
}

test('read summary: conversation tables have column headers; an IPv6 conversation keeps its responder', () => {
  const lines = renderReadSummary('x.pcap', undefined, report()).split('\n');
  assert.ok(lines.every((l) => l.length <= 80), lines.join('\n'));
  const at = lines.indexOf('TCP conversations (top by bytes)');
  assert.match(lines[at + 1], /^ {2}originator → responder\s+state\s+pkts\s+bytes {2}service rtt$/);
  assert.match(lines[at + 2], /^ {2}192\.168\.10\.22:51721 → 203\.0\.113\.10:443\s+SF\s+12\s+8\.8 KiB {2}ssl 18\.0 ms$/);
  // Too long for one line: the originator, then the responder with the figures.
  assert.equal(lines[at + 3], '  [2001:db8:100::22]:51722 →');
  assert.match(lines[at + 4], /^ {4}\[2001:db8:200::443\]:443\s+SF\s+12\s+7\.8 KiB {2}ssl/);
  // Full-length addresses: the responder on a line of its own, whole, then the figures.
  assert.equal(lines[at + 5], '  [2001:db8:1234:5678:9abc:def0:1234:5678]:51723 →');
  assert.equal(lines[at + 6], '    [2001:db8:1234:5678:9abc:def0:1234:9999]:443');
  assert.match(lines[at + 7], /^ {44} SF\s+12\s+6\.8 KiB/);
});

test('read summary: the DNS names have a heading, and the root name shows as "."', () => {
  const text = renderReadSummary('x.pcap', undefined, report());
  assert.match(text, /\n {2}top names\s+queries\n {2}\.\s+2\n {2}api\.example\.com\s+1\n/);
  assert.match(text, /slowest: \. 200\.0 ms/);
  assert.doesNotMatch(text, /\n {2}\s+2\n/, 'no nameless row');
});

test('read summary: names escaped in records show as UTF-8, columns aligned in cells; protocols as shares of packets', () => {
  const r = new ReadReport();
  // 小猫.local as an LLMNR record escapes it, and an ASCII name below it: the counts line up.
  for (const query of ['\\xe5\\xb0\\x8f\\xe7\\x8c\\xab.local', '\\xe5\\xb0\\x8f\\xe7\\x8c\\xab.local', 'api.example.com']) r.add({ type: 'dns', query, rcode_name: 'NOERROR', rtt: 0.1, 'id.resp_h': '192.168.10.1' } as unknown as DnsRecord);
  r.add({ ...SUMMARY, protocols: { sll: 40, ipv4: 40, tcp: 30, udp: 10, dns: 3 } } as SummaryRecord);
  const lines = renderReadSummary('x.pcap', undefined, r).split('\n');
  const cat = lines.find((l) => l.includes('小猫.local'));
  const api = lines.find((l) => l.startsWith('  api.example.com'));
  assert.ok(cat && api, lines.join('\n'));
  assert.equal(cellWidth(cat), cellWidth(api), 'the counts stand in the same column');
  assert.match(cat, /^ {2}小猫\.local\s+2$/);
  assert.ok(!lines.some((l) => l.includes('\\xe5')));
  const protocols = lines[lines.findIndex((l) => l.startsWith('Protocols')) + 1];
  assert.equal(protocols.trim(), 'ipv4 40 (100%)  tcp 30 (75%)  udp 10 (25%)  dns 3 (7.5%)');
});
