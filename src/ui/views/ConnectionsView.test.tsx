import { test } from 'node:test';
import assert from 'node:assert/strict';
import connections from './ConnectionsView.js';
import { FakeAgentClient } from '../testing/fake-agent-client.js';
import { CONN_REJ, CONN_TLS, flow } from '../testing/sample-records.js';
import { renderView } from '../testing/render-view.js';

test('connections: endpoints, service, state, bytes each way, RTT, retransmissions at 80 columns', async () => {
  const a = new FakeAgentClient('a');
  const v = renderView(connections, [a]);
  a.emit(flow(CONN_TLS));
  a.emit(flow({ ...CONN_REJ, orig_retrans: 2 }));
  await v.refresh();
  const lines = v.frame().split('\n');
  assert.ok(lines.every((l) => l.length <= 80));
  assert.match(lines[0], /^2 connections, sorted by time/);
  // At 80 columns the optional time and duration columns give way.
  assert.match(lines[1], /^originator\s+responder\s+svc\s+state\s+out\s+in\s+rtt\s+retx$/);
  // Newest start first: REJ started at .218, TLS at .012 (though TLS ended later).
  assert.match(lines[2], /^192\.168\.10\.23:53999\s+198\.51\.100\.27:443\s+tcp\s+REJ\s+0B\s+0B\s+-\s+2$/);
  assert.match(lines[3], /^192\.168\.10\.22:51721\s+203\.0\.113\.10:443\s+ssl\s+SF\s+600B\s+8\.0K\s+18ms\s+0$/);
  v.unmount();
});

test('connections: a wider terminal shows time, duration and, with two agents, the agent', async () => {
  const a = new FakeAgentClient('unix:/run/a.sock');
  const b = new FakeAgentClient('unix:/run/b.sock');
  const v = renderView(connections, [a, b], { width: 140 });
  a.emit(flow(CONN_TLS));
  b.emit(flow({ ...CONN_REJ, orig_process: { pid: 4242, name: 'curl', user: 'alice' } }));
  await v.refresh();
  const lines = v.frame().split('\n');
  assert.match(lines[1], /^time\s+originator\s+responder\s+svc\s+state\s+out\s+in\s+rtt\s+retx\s+process\s+dur\s+agent/);
  assert.match(lines[2], /^06:13:20 192\.168\.10\.23:53999\s+.*\s+curl\[4242\] →\s+7ms\s+unix:\/run\/b\.sock$/);
  assert.match(lines[3], /^06:13:20 192\.168\.10\.22:51721\s+.*\s+-\s+248ms\s+unix:\/run\/a\.sock$/);
  v.unmount();
});

test('connections: filter, sort and the record detail', async () => {
  const a = new FakeAgentClient('a');
  const v = renderView(connections, [a], { filter: 'rej' });
  // As an agent replaying a capture sends it: the shifted start time carries float noise below the microsecond.
  a.emit(flow({ ...CONN_TLS, ts: CONN_TLS.ts + 0.0000000371 }));
  a.emit(flow(CONN_REJ));
  await v.refresh();
  assert.match(v.frame(), /^1 connections matching "rej"/);
  assert.doesNotMatch(v.frame(), /51721/);
  await v.refresh('');
  await v.press('s');
  assert.match(v.frame(), /sorted by bytes/);
  await v.press('\r');
  assert.match(v.frame(), /connection ChdzBZ1GJs29gAm8NI on a/);
  assert.match(v.frame(), /community_id\s+1:LtLIP4YrsBmZCFiMSNg6wcFXNGw=/);
  assert.match(v.frame(), /\nts\s+1718000000\.011619  \(2024-06-10 06:13:20\.011 UTC\)\n/);
  await v.press('\x1b');
  assert.match(v.frame(), /sorted by bytes/);
  v.unmount();
});

test('connections sorted by time: the time column reads newest first, whatever the durations and arrival order', async () => {
  const a = new FakeAgentClient('a');
  const v = renderView(connections, [a], { width: 140, height: 12 });
  // Arrival order is end order (flows are reported when they finish); a long flow started first ends last.
  const flows = [
    { start: 100, duration: 1 },
    { start: 200, duration: 2 },
    { start: 50, duration: 3600 },
    { start: 150, duration: 90 },
  ].sort((x, y) => x.start + x.duration - (y.start + y.duration));
  flows.forEach((f, i) => a.emit(flow({ ...CONN_TLS, uid: `C${i}`, ts: 1718000000 + f.start, duration: f.duration })));
  await v.refresh();
  const lines = v.frame().split('\n');
  assert.match(lines[0], /sorted by time/);
  const shown = lines.slice(2, 6).map((l) => l.slice(0, 8));
  assert.deepEqual(shown, ['06:16:40', '06:15:50', '06:15:00', '06:14:10']);
  v.unmount();
});

test('connections: each end shows the name the agent\'s passive DNS has for its address; the filter finds it', async () => {
  const a = new FakeAgentClient('a');
  a.knownNames = { '203.0.113.10': 'www.example.com' };
  const v = renderView(connections, [a], { width: 200 });
  a.emit(flow(CONN_TLS));
  a.emit(flow(CONN_REJ));
  await v.refresh();
  // Asked once, for every address the flows showed; the answer is in the next snapshot.
  assert.deepEqual(a.namesAsked, [['192.168.10.22', '203.0.113.10', '192.168.10.23', '198.51.100.27']]);
  await v.refresh();
  const lines = v.frame().split('\n');
  assert.match(lines[3], /192\.168\.10\.22:51721\s+203\.0\.113\.10:443 www\.example\.com\s+ssl\s+SF/);
  assert.match(lines[2], /192\.168\.10\.23:53999\s+198\.51\.100\.27:443\s+tcp\s+REJ/);
  await v.refresh('example.com');
  assert.match(v.frame(), /^1 connections matching "example\.com"/);
  v.unmount();
});
