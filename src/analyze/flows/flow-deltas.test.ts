import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Pipeline } from '../pipeline.js';
import { ACK, FIN, SYN, batchOf, tcp4, udp4 } from '../../test-support/frames.js';
import type { ConnRecord } from '../records.js';

const C = '192.168.10.5';
const S = '203.0.113.9';

/** A pipeline with a consumer that sums every delta, and the conn records it reports. */
function harness(timeouts = {}) {
  const pipeline = new Pipeline({ timeouts });
  const conns: ConnRecord[] = [];
  const sums = { pkts: 0, bytes: 0, calls: 0 };
  pipeline.observe({ onRecord: (r) => r.type === 'conn' && conns.push(r as ConnRecord) });
  pipeline.flowDeltas.subscribe({
    onFlowDelta(_flow, op, ob, rp, rb) {
      sums.pkts += op + rp;
      sums.bytes += ob + rb;
      sums.calls++;
    },
  });
  const totals = () => ({
    pkts: conns.reduce((n, c) => n + c.orig_pkts + c.resp_pkts, 0),
    bytes: conns.reduce((n, c) => n + c.orig_ip_bytes + c.resp_ip_bytes, 0),
  });
  return { pipeline, conns, sums, totals };
}

test('deltas add up to the conn records, even when a pass runs while a flow is being reported', () => {
  const { pipeline, sums, totals } = harness();
  // A consumer whose clock is moved by records (as detection's is) runs a pass in the middle of each flow's end.
  pipeline.observe({ onRecord: (r) => r.type === 'conn' && pipeline.flowDeltas.pass() });
  pipeline.process(batchOf([
    { ts: 10.0, bytes: tcp4(C, S, 40000, 80, SYN, 100, 0) },
    { ts: 10.1, bytes: tcp4(S, C, 80, 40000, SYN | ACK, 900, 101) },
    { ts: 10.2, bytes: tcp4(C, S, 40000, 80, ACK, 101, 901, 300) },
    { ts: 10.3, bytes: udp4(C, S, 5353, 53, 40) },
  ]));
  pipeline.flowDeltas.pass();
  pipeline.process(batchOf([
    { ts: 11.0, bytes: tcp4(S, C, 80, 40000, ACK | FIN, 901, 401, 1200) },
    { ts: 11.1, bytes: tcp4(C, S, 40000, 80, ACK | FIN, 401, 2102) },
    // The same 4-tuple again after the close: the old flow is reported, a new one starts in its slot.
    { ts: 11.2, bytes: tcp4(C, S, 40000, 80, SYN, 5000, 0) },
  ]));
  pipeline.finish();
  pipeline.flowDeltas.pass();
  assert.deepEqual({ pkts: sums.pkts, bytes: sums.bytes }, totals());
  assert.equal(totals().pkts, 7);
});

test('after an active timeout the restarted counters are read from zero: nothing lost, nothing twice', () => {
  const { pipeline, sums, totals, conns } = harness({ active: 2 });
  for (let second = 0; second < 8; second++) {
    pipeline.process(batchOf([0.2, 0.7].map((f) => ({ ts: 100 + second + f, bytes: udp4(C, S, 41000, 9999, 10) }))));
    if (second % 3 === 0) pipeline.flowDeltas.pass();
  }
  pipeline.finish();
  assert.ok(conns.length >= 3, `reported ${conns.length} times: the active timeout did not fire`);
  assert.deepEqual({ pkts: sums.pkts, bytes: sums.bytes }, totals());
  assert.equal(sums.pkts, 16);
});

test('a pass hands out exactly what each flow counted since the last, in index order, through active timeouts and ends', () => {
  const { pipeline, sums, totals } = harness({ active: 3, udpIdle: 4 });
  const order: number[][] = [];
  let thisPass: number[] = [];
  pipeline.flowDeltas.subscribe({ onFlowDelta: (flow, _op, _ob, _rp, _rb, ending) => void (ending || thisPass.push(flow)) });
  let seed = 3;
  const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
  // 300 UDP flows, a random few of them talking each tenth of a second for 20 s: some go quiet and end (idle),
  // the long ones are reported and restarted (active), slots are reused.
  for (let tick = 0; tick < 200; tick++) {
    const frames = [];
    for (let i = next() % 40; i > 0; i--) {
      const peer = next() % 300;
      const back = next() % 3 === 0;
      const client = `10.0.${peer >> 8}.${peer & 255}`;
      frames.push({ ts: 100 + tick / 10, bytes: back ? udp4(S, client, 53, 40000, next() % 100) : udp4(client, S, 40000, 53, next() % 100) });
    }
    pipeline.process(batchOf(frames));
    if (tick % 10 === 9) {
      pipeline.flowDeltas.pass();
      order.push(thisPass);
      thisPass = [];
    }
  }
  pipeline.finish();
  assert.deepEqual({ pkts: sums.pkts, bytes: sums.bytes }, totals(), 'nothing lost, nothing twice');
  for (const flows of order) assert.deepEqual(flows, [...new Set(flows)].sort((a, b) => a - b), 'each flow once a pass, in index order');
  assert.ok(order.every((flows) => flows.length > 0));
});
