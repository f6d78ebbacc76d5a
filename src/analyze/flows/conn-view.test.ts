/**
 * Closed flows reach observers three ways: onConn (a reused view over the flow table), onRecord (the conn
 * record object), or not at all (connRecords: false). The view's fields are checked here against the record
 * they stand for, flow by flow, over a generated mix (TCP, UDP, ICMP, IPv4 and IPv6, VLAN).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { openCaptureFile } from '../../capture/capture-file.js';
import { generatedCapture } from '../../test-support/sample-frames.js';
import { Pipeline } from '../pipeline.js';
import type { ConnRecord, LoopyRecord } from '../records.js';
import { connViewJsonRoom, writeConnViewJson } from './conn-json.js';
import { CONN_NUMBERS, connKeyTexts, connProtoName, formatAddress } from './conn-record.js';

test('onConn, onRecord and connRecords: false each get what they asked for; the view reads as the record', async () => {
  const { bytes } = await generatedCapture({ seed: 9, packets: 3000, vlan: 7, ipv6Share: 0.3 });
  const input = new PassThrough();
  input.end(bytes);
  const skipped: LoopyRecord[] = [];
  const recorded: ConnRecord[] = [];
  const viewed: ConnRecord[] = [];
  const numbers = new Float64Array(CONN_NUMBERS.length);
  const words = new Uint32Array(8);
  const pipeline = new Pipeline({})
    .observe({ onRecord: (r) => skipped.push(r), connRecords: false })
    .observe({
      onConn: (conn) => {
        const record = conn.record();
        viewed.push(record);
        // The JSON line written from the view is JSON.stringify's, byte for byte, within the room it asks for.
        const history = conn.history();
        const room = connViewJsonRoom(history, conn.service);
        const buf = Buffer.alloc(room + 8);
        const end = writeConnViewJson(buf, 4, conn, history);
        assert.ok(end - 4 <= room);
        assert.equal(buf.toString('utf8', 4, end), JSON.stringify(record));
        conn.numbers(numbers);
        const fields = record as unknown as Record<string, number | undefined>;
        CONN_NUMBERS.forEach((name, i) => assert.equal(Number.isNaN(numbers[i]) ? undefined : numbers[i], fields[name], name));
        conn.addresses(words, 0);
        const texts = connKeyTexts(conn.proto, conn.version, words, 0, conn.origPort, conn.respPort, conn.serial);
        assert.deepEqual(
          [texts.uid, formatAddress(conn.version, words, 0), formatAddress(conn.version, words, 4), texts.communityId, conn.ts, connProtoName(conn.proto), conn.connState(), conn.history(), conn.service],
          [record.uid, record['id.orig_h'], record['id.resp_h'], record.community_id, record.ts, record.proto, record.conn_state, record.history, record.service],
        );
      },
    })
    .observe({ onRecord: (r) => r.type === 'conn' && recorded.push(r as ConnRecord) });
  await pipeline.run(openCaptureFile('-', { input }));
  pipeline.finish();
  assert.ok(viewed.length > 100 && viewed.some((c) => c['id.orig_h'].includes(':')) && viewed.some((c) => c.proto === 'icmp'));
  assert.equal(skipped.filter((r) => r.type === 'conn').length, 0);
  assert.ok(skipped.some((r) => r.type === 'dns'), 'other records still come');
  // The one record object per flow, shared by every consumer that asked.
  assert.equal(recorded.length, viewed.length);
  recorded.forEach((r, i) => assert.equal(r, viewed[i]));
});
