import { test } from 'node:test';
import assert from 'node:assert/strict';
import overview from './OverviewView.js';
import { FAKE_HELLO, FakeAgentClient } from '../testing/fake-agent-client.js';
import { ALERT_SCAN, ALERT_TUNNEL, T0, alert, stats, statsSecond } from '../testing/sample-records.js';
import { renderView } from '../testing/render-view.js';

test('overview: one block per agent with rates, flows, DNS, alerts, drops, CPU and RSS', async () => {
  const a = new FakeAgentClient('unix:/run/a.sock');
  const b = new FakeAgentClient('tls://b.example:7414', { state: 'disconnected', since: T0, error: 'ECONNREFUSED', retryInMs: 4000 });
  const v = renderView(overview, [a, b]);
  // 125 000 bytes in during 1 s = 1.00 Mb/s; 12 500 out = 100 kb/s.
  a.emit(stats(statsSecond(T0, { bytes: 137500, bytes_in: 125000, bytes_out: 12500, packets_in: 900, packets_out: 300, flows_active: 42,
    dns: { queries: 7, answers: 7, rcodes: {} }, cpu_percent: 3.5, rss_bytes: 80 * 1024 * 1024,
    interfaces: [{ name: 'eth0', packets: 980, bytes: 98_000, received: 1000, dropped: 20, if_dropped: 0, drop_pct: 2, received_total: 1000, dropped_total: 20 }] })));
  a.emit(alert(ALERT_SCAN));
  a.emit(alert({ ...ALERT_TUNNEL, state: 'closed', closed_reason: 'quiet' }));
  await v.refresh();
  const frame = v.frame();
  const lines = frame.split('\n');
  assert.ok(lines.every((l) => l.length <= 80), 'fits 80 columns');
  assert.match(frame, /● unix:\/run\/a\.sock\s+connected\s+in\s+1\.00Mb\/s\s+out\s+100kb\/s/);
  assert.match(frame, /pps in 900 out 300  flows 42  dns 7\/s  alerts 1  drop 2\.0%  cpu 3\.5%  rss 80M/);
  assert.match(frame, /○ tls:\/\/b\.example:\S*\s+down, retry 4s/);
  // The sparkline: one second of traffic is the full block at the right end.
  assert.match(lines[0], /█$/);
  v.unmount();
});

test('overview: a disconnected agent keeps its name, shows reconnecting and "—" instead of its stale figures', async () => {
  const a = new FakeAgentClient('unix:/tmp/loopy-ui-x/agent.sock', { state: 'connected', since: T0, agent: { ...FAKE_HELLO, name: 'web-1' } });
  const v = renderView(overview, [a]);
  a.emit(stats(statsSecond(T0, { bytes_in: 1000, flows_active: 5, cpu_percent: 2 })));
  await v.refresh();
  assert.match(v.frame(), /● web-1\s+connected/, 'the hello\'s name, not the socket path');
  assert.match(v.frame(), /flows 5/);
  a.setState({ state: 'connecting', attempt: 3 });
  await v.refresh();
  const frame = v.frame();
  assert.match(frame, /○ web-1\s+connecting #3\s+in\s+—\s+out\s+—/);
  assert.match(frame, /pps in — out —  flows —  dns —  alerts 0  drop —  cpu —  rss —/);
  assert.doesNotMatch(frame, /agent\.sock/);
  v.unmount();
});
