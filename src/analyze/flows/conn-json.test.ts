import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { Pipeline } from '../pipeline.js';
import type { ConnRecord } from '../records.js';
import { openCaptureFile } from '../../capture/capture-file.js';
import { generatedCapture } from '../../test-support/sample-frames.js';
import { connJsonRoom, connToJson, writeConnJson } from './conn-json.js';

/** writeConnJson's bytes, checked to stay within the room it asks for. */
function written(r: ConnRecord): string {
  const room = connJsonRoom(r);
  const buf = Buffer.alloc(room + 16, 0xff);
  const end = writeConnJson(buf, 8, r);
  assert.ok(end - 8 <= room, `${end - 8} bytes written, room ${room}`);
  return buf.toString('utf8', 8, end);
}

// Field by field as connRecordOf builds it: the Community ID spec's TCP example (128.232.110.120:34855 →
// 66.35.250.204:80), with every optional field, then the same without them.
const full: ConnRecord = {
  type: 'conn', _path: 'conn',
  ts: 1718000000.122927,
  uid: 'CDCJwUHWOV6XShF7Ym',
  'id.orig_h': '128.232.110.120',
  'id.orig_p': 34855,
  'id.resp_h': '66.35.250.204',
  'id.resp_p': 80,
  proto: 'tcp',
  community_id: '1:LQU9qZlK+B5F3KDmev6m5PMibrg=',
  duration: 0.000394,
  orig_bytes: 0,
  resp_bytes: 4294967296,
  conn_state: 'SF',
  history: 'ShADadFf',
  orig_pkts: 5,
  orig_ip_bytes: 321,
  resp_pkts: 4,
  resp_ip_bytes: 4294967336,
  orig_retrans: 0,
  resp_retrans: 10,
  orig_ooo: 1,
  resp_ooo: 0,
};

test('a hand-built conn record, with and without its optional fields, is written as JSON.stringify writes it', () => {
  const withAll: ConnRecord = { ...full, service: 'http', vlan: 7, inner_vlan: 4094, rtt: 0.05 };
  const oddService: ConnRecord = { ...full, service: 'say "hi"\n' };
  for (const r of [full, withAll, oddService]) {
    assert.equal(written(r), JSON.stringify(r));
    assert.equal(written(r), connToJson(r));
  }
});

test('every conn record of a generated capture (TCP, UDP, ICMP, IPv6, VLANs) is written as JSON.stringify writes it', async () => {
  const { bytes } = await generatedCapture({ seed: 5, packets: 5000, vlan: 3, incidents: ['port_scan'] });
  const conns: ConnRecord[] = [];
  const pipeline = new Pipeline().observe({ onRecord: (r) => r.type === 'conn' && conns.push(r as ConnRecord) });
  const input = new PassThrough();
  input.end(bytes);
  await pipeline.run(openCaptureFile('-', { input }));
  pipeline.finish();
  assert.ok(conns.length > 100 && conns.some((c) => c.service) && conns.some((c) => c.rtt !== undefined) && conns.some((c) => c.proto === 'icmp') && conns.some((c) => c['id.orig_h'].includes(':')) && conns.some((c) => c.vlan !== undefined));
  for (const c of conns) assert.equal(written(c), JSON.stringify(c));
});
