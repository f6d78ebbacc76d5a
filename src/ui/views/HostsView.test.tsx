import { test } from 'node:test';
import assert from 'node:assert/strict';
import hosts from './HostsView.js';
import { FakeAgentClient } from '../testing/fake-agent-client.js';
import { CONN_REJ, CONN_TLS, T0, flow, stats, statsSecond } from '../testing/sample-records.js';
import { renderView } from '../testing/render-view.js';

const talker = (host: string, bytes: number, packets: number, flows: number, local = true) => ({ host, bytes, packets, flows, local });

test('hosts: top talkers summed over the kept seconds, sorted by bytes then by packets with s, with the main peer', async () => {
  const a = new FakeAgentClient('a');
  const v = renderView(hosts, [a]);
  a.emit(stats(statsSecond(T0, { top_talkers: [talker('192.168.10.22', 6000, 10, 1), talker('192.168.10.23', 1000, 50, 2)] })));
  a.emit(stats(statsSecond(T0 + 1, { top_talkers: [talker('192.168.10.22', 3000, 5, 1)] })));
  a.emit(flow(CONN_TLS));
  a.emit(flow(CONN_REJ));
  await v.refresh();
  let lines = v.frame().split('\n');
  assert.match(lines[0], /2 hosts, sorted by bytes/);
  // .22: 9000 B = 8.8K over 60 s = 1.20 kb/s, 15 packets, talks to 203.0.113.10 over ssl (CONN_TLS).
  assert.match(lines[2], /^192\.168\.10\.22\s+1\.20kb\/s\s+8\.8K\s+15\s+1\s+203\.0\.113\.10\s+ssl/);
  assert.match(lines[3], /^192\.168\.10\.23\s+133b\/s\s+1000B\s+50\s+2\s+198\.51\.100\.27\s+tcp\/443/);
  await v.press('s');
  lines = v.frame().split('\n');
  assert.match(lines[0], /sorted by packets/);
  assert.match(lines[2], /^192\.168\.10\.23/);
  // Enter: the host's connections.
  await v.press('\r');
  assert.match(v.frame(), /192\.168\.10\.23:53999 → 198\.51\.100\.27:443 tcp REJ/);
  v.unmount();
});

test('hosts: the filter keeps matching hosts only', async () => {
  const a = new FakeAgentClient('a');
  const v = renderView(hosts, [a], { filter: '.23' });
  a.emit(stats(statsSecond(T0, { top_talkers: [talker('192.168.10.22', 6000, 10, 1), talker('192.168.10.23', 1000, 50, 2)] })));
  await v.refresh();
  assert.match(v.frame(), /1 hosts/);
  assert.doesNotMatch(v.frame(), /192\.168\.10\.22/);
  v.unmount();
});

test('hosts: hosts and their main peers show the names the agent\'s passive DNS has for them', async () => {
  const a = new FakeAgentClient('a');
  a.knownNames = { '203.0.113.10': 'www.example.com' };
  const v = renderView(hosts, [a], { width: 200 });
  a.emit(stats(statsSecond(T0, { top_talkers: [talker('192.168.10.22', 6000, 10, 1), talker('203.0.113.10', 5000, 8, 1, false)] })));
  a.emit(flow(CONN_TLS));
  await v.refresh();
  await v.refresh();
  const lines = v.frame().split('\n');
  assert.match(lines[2], /^192\.168\.10\.22\s+\S+\s+\S+\s+10\s+1\s+203\.0\.113\.10 www\.example\.com\s+ssl/);
  assert.match(lines[3], /^203\.0\.113\.10 www\.example\.com\s+/);
  await v.refresh('www.example');
  assert.match(v.frame(), /^Top talkers, last 60s — 2 hosts/);
  v.unmount();
});
