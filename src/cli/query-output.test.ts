import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatCsv, formatNdjson, formatTable } from './query-output.js';
import { describeEvent } from './watch.js';
import type { AgentAlertRecord } from '../client/agent-client.js';

// A conn row as docs/records.md defines it (fields cut to those the table shows, plus one nested value).
const conn = {
  type: 'conn', _path: 'conn', ts: 1718000000, uid: 'C1', 'id.orig_h': '10.0.0.1', 'id.orig_p': 40000, 'id.resp_h': '2001:db8::1', 'id.resp_p': 443,
  proto: 'tcp', service: 'ssl', duration: 0.25, orig_bytes: 1200, resp_bytes: 45000, conn_state: 'SF', history: 'ShADadFf',
};

test('table: chosen columns, numbers right-aligned, IPv6 in brackets, the local processes last', () => {
  const curl = { pid: 4242, name: 'curl', exe: '/usr/bin/curl', user: 'alice' };
  const nginx = { pid: 812, name: 'nginx', unit: 'nginx.service' };
  const text = formatTable('flows', [
    { ...conn, orig_process: curl, resp_process: nginx },
    { ...conn, uid: 'C2', conn_state: 'S0', duration: undefined, resp_bytes: 0 },
    { ...conn, uid: 'C3', resp_process: nginx },
  ]);
  const lines = text.trimEnd().split('\n');
  assert.equal(lines.length, 4);
  assert.match(lines[0]!, /^time\s+proto\s+from\s+to\s+service\s+state\s+duration\s+bytes out\s+bytes in\s+processes$/);
  assert.match(lines[1]!, /tcp\s+10\.0\.0\.1:40000\s+\[2001:db8::1\]:443\s+ssl\s+SF\s+250\.0 ms\s+1,200\s+45,000\s+curl\[4242\] → nginx\[812\]$/);
  assert.match(lines[2]!, /S0\s+-\s+1,200\s+0\s+-$/);
  // Right alignment: the numbers end at the same place on every line; the processes start at their title.
  const at = lines[0]!.indexOf('processes');
  assert.equal(new Set(lines.map((l) => l.slice(0, at).trimEnd().length)).size, 1);
  assert.deepEqual(lines.slice(1).map((l) => l.slice(at)), ['curl[4242] → nginx[812]', '-', '→ nginx[812]']);
  assert.equal(formatTable('dns', []), 'no dns in that range\n');
});

test('csv: the given header whatever fields the rows have, RFC 4180 quoting, nested values as JSON', () => {
  const rows = [
    { ts: 1, query: 'a,b.example', answers: ['1.2.3.4', '5.6.7.8'] },
    { ts: 2, query: 'say "hi"', rcode_name: 'NXDOMAIN', extra: 'not a column' },
  ];
  assert.equal(formatCsv(['ts', 'query', 'rcode_name', 'answers'], rows), 'ts,query,rcode_name,answers\n1,"a,b.example",,"[""1.2.3.4"",""5.6.7.8""]"\n2,"say ""hi""",NXDOMAIN,\n');
  assert.equal(formatCsv(['ts', 'query'], []), 'ts,query\n');
});

test('ndjson: one row per line as given', () => {
  assert.equal(formatNdjson([{ type: 'x', a: 1 }, { type: 'y' }]), '{"type":"x","a":1}\n{"type":"y"}\n');
});

test('alerts table: an acknowledged alert says so (the acknowledged field of docs/records.md)', () => {
  const alert = { type: 'alert', _path: 'notice', ts: 1718000000, alert_id: 'A1', state: 'open', severity: 'high', detector: 'port_scan', src: '10.0.0.66', dst: '10.0.0.5', message: 'scan' };
  const lines = formatTable('alerts', [{ ...alert, acknowledged: true, acknowledged_at: 1718000100, acknowledged_by: 'loopy-ui 0.1.0' }, { ...alert, alert_id: 'A2' }]).trimEnd().split('\n');
  assert.match(lines[0]!, /^time\s+severity\s+detector\s+state\s+acked\s+source/);
  assert.match(lines[1]!, /open\s+yes\s+10\.0\.0\.66/);
  assert.match(lines[2]!, /open\s+-\s+10\.0\.0\.66/);
});

test('watch: an alert re-sent for its acknowledgement says who acknowledged it', () => {
  const alert: AgentAlertRecord = {
    type: 'alert', _path: 'notice', ts: 1718000000, alert_id: 'A1', state: 'update', state_ts: 1718000050, severity: 'high', detector: 'port_scan',
    message: '10.0.0.66 scanned 120 ports', community_ids: [],
    evidence: { counters: {}, thresholds: {}, hosts: [], first_seen: 1718000000, last_seen: 1718000050 },
  };
  assert.match(describeEvent({ topic: 'alerts', record: alert, missed: 0 }), /alert {2}high port_scan update: 10\.0\.0\.66 scanned 120 ports$/);
  const acked: AgentAlertRecord = { ...alert, acknowledged: true, acknowledged_at: 1718000100, acknowledged_by: 'loopy-ui 0.1.0' };
  assert.match(describeEvent({ topic: 'alerts', record: acked, missed: 0 }), /scanned 120 ports {2}\(acknowledged by loopy-ui 0\.1\.0\)$/);
});
