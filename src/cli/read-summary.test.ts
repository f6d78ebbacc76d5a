import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DnsRecord, SummaryRecord } from '../analyze/records.js';
import { ReadReport, type Conversation } from '../stats/read-report.js';
import { renderReadSummary } from './read-summary.js';

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
