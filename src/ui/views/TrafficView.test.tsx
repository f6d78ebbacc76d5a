import { test } from 'node:test';
import assert from 'node:assert/strict';
import traffic from './TrafficView.js';
import { FakeAgentClient } from '../testing/fake-agent-client.js';
import { T0, stats, statsSecond } from '../testing/sample-records.js';
import { renderView } from '../testing/render-view.js';

test('traffic: in and out charts on one scale, newest second on the right, protocol mix in percent', async () => {
  const a = new FakeAgentClient('a');
  const v = renderView(traffic, [a]);
  // Second 1: 1000 B in (8 kb/s), 250 B out; second 2: 500 B in, 0 out.
  // 100 packets in all, each counted once per layer: the link layer (sll) is in every one.
  a.emit(stats(statsSecond(T0, { packets: 40, bytes_in: 1000, bytes_out: 250, protocols: { sll: 40, ipv4: 40, tcp: 30, udp: 10 } })));
  a.emit(stats(statsSecond(T0 + 1, { packets: 60, bytes_in: 500, bytes_out: 0, protocols: { sll: 60, ipv4: 60, tcp: 30, icmp: 30 } })));
  await v.refresh();
  const lines = v.frame().split('\n');
  assert.ok(lines.every((l) => l.length <= 80));
  assert.match(lines[0], /^a — bits\/s, last 65s/);
  const inRows = lines.filter((l, i) => i > 0 && i < lines.findIndex((x) => x.startsWith('out ')));
  // The first "in" row is the chart's top: 8 kb/s fills it in the second-to-last column, 4 kb/s does not.
  // (Ink trims the trailing blank of the last column.)
  assert.match(inRows[0], /^in 4\.00kb\/s {67}█$/);
  assert.equal(inRows[0].length, 79);
  assert.match(inRows[inRows.length - 1], /^max 8\.00kb\/s {66}██$/);
  const outRow = lines.find((l) => l.startsWith('out '));
  assert.match(outRow ?? '', /^out 0b\/s/);
  // Shares of the 100 packets: ipv4 100%, tcp 60, icmp 30, udp 10; the link layer is not a protocol of the mix.
  const mix = lines.slice(lines.findIndex((l) => l.startsWith('Protocols')) + 1);
  assert.match(mix[0], /^ipv4\s+100%\s+█+/);
  assert.match(mix[1], /^tcp\s+60%\s+█+/);
  assert.match(mix[2], /^icmp\s+30%\s+█+/);
  assert.ok(!lines.some((l) => l.startsWith('sll')), v.frame());
  v.unmount();
});
