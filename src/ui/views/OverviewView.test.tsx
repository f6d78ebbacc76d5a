import { test } from 'node:test';
import assert from 'node:assert/strict';
import overview, { overviewLayout } from './OverviewView.js';
import { FAKE_HELLO, FakeAgentClient } from '../testing/fake-agent-client.js';
import { ALERT_SCAN, ALERT_TUNNEL, DNS_NX, DNS_OK, T0, alert, dns, stats, statsSecond } from '../testing/sample-records.js';
import { renderView } from '../testing/render-view.js';

test('overview: a line per agent with rates, pkt/s, sparkline, drops, CPU and RSS; fleet totals; open alerts, talkers, DNS names', async () => {
  const a = new FakeAgentClient('unix:/run/a.sock', { state: 'connected', since: T0, agent: { ...FAKE_HELLO, name: 'alpha' } });
  const b = new FakeAgentClient('tls://b.example:7414', { state: 'disconnected', since: T0, error: 'ECONNREFUSED', retryInMs: 4000 });
  const v = renderView(overview, [a, b], { height: 21 });
  // 125 000 bytes in during 1 s = 1.00 Mb/s; 12 500 out = 100 kb/s.
  a.emit(stats(statsSecond(T0, { packets: 1200, bytes: 137500, bytes_in: 125000, bytes_out: 12500, packets_in: 900, packets_out: 300, flows_active: 42,
    dns: { queries: 7, answers: 7, rcodes: {} }, cpu_percent: 3.5, rss_bytes: 80 * 1024 * 1024,
    top_talkers: [{ host: '203.0.113.10', bytes: 60000, packets: 50, flows: 1, local: false }],
    interfaces: [{ name: 'eth0', packets: 980, bytes: 98_000, received: 1000, dropped: 20, if_dropped: 0, drop_pct: 2, received_total: 1000, dropped_total: 20 }] })));
  a.emit(alert(ALERT_SCAN));
  a.emit(alert({ ...ALERT_TUNNEL, state: 'closed', closed_reason: 'quiet' }));
  a.emit(dns({ ...DNS_OK, ts: T0 - 1 }));
  a.emit(dns({ ...DNS_NX, ts: T0 - 2 }));
  a.emit(dns({ ...DNS_OK, ts: T0 - 90, query: 'old.example' }));
  await v.refresh();
  const frame = v.frame();
  const lines = frame.split('\n');
  assert.ok(lines.every((l) => l.length <= 80), 'fits 80 columns');
  assert.ok(lines.length <= 21, 'fits its height');
  assert.match(lines[0], /agent\s+state\s+in\s+out\s+pkt\/s traffic\s+drop\s+cpu\s+rss/);
  // The sparkline: one second of traffic is the full block at the right end of its column.
  assert.match(frame, /● alpha\s+connected\s+1\.00Mb\/s\s+100kb\/s\s+1\.20k\s+▁*█\s+2\.0%\s+3\.5%\s+80M/);
  assert.match(frame, /○ tls:\/\/b\.ex…\s+down, retry 4s\s+—\s+—\s+—\s+—\s+—\s+—\s+—/);
  assert.match(frame, /○ tls:\/\/b\.example:7414: ECONNREFUSED/);
  assert.match(frame, /fleet 1\/2 up {2}in 1\.00Mb\/s out 100kb\/s {2}1\.20k pkt\/s {2}42 flows {2}7 dns\/s {2}1 alerts/);
  // Open alerts only, severity and detector whole.
  assert.match(frame, /open alerts \(1\)\nMEDIUM\s+port_scan\s+alpha\s+192\.168\.10\.250 scanned/);
  assert.doesNotMatch(frame, /dns_tunnel/);
  // 60 000 B over the last minute = 8.00 kb/s; names of the agent's last minute, most asked first.
  assert.match(frame, /203\.0\.113\.10\s+8\.00kb\/s maps\.example\.org\s+1/);
  assert.match(frame, /wwww\.example\.com\s+1/);
  assert.doesNotMatch(frame, /old\.example/);
  v.unmount();
});

test('overview: a disconnected agent keeps its name, shows reconnecting and "—" instead of its stale figures', async () => {
  const a = new FakeAgentClient('unix:/tmp/loopy-ui-x/agent.sock', { state: 'connected', since: T0, agent: { ...FAKE_HELLO, name: 'web-1' } });
  const v = renderView(overview, [a]);
  a.emit(stats(statsSecond(T0, { bytes_in: 1000, flows_active: 5, cpu_percent: 2 })));
  await v.refresh();
  assert.match(v.frame(), /● web-1\s+connected\s+8\.00kb\/s/, 'the hello\'s name, not the socket path');
  assert.match(v.frame(), /5 flows/);
  a.setState({ state: 'connecting', attempt: 3 });
  await v.refresh();
  const frame = v.frame();
  assert.match(frame, /○ web-1\s+connecting #3\s+—\s+—\s+—\s+—\s+—\s+—\s+—/);
  assert.match(frame, /fleet 0\/1 up  in 0b\/s out 0b\/s  0 pkt\/s  0 flows/);
  assert.doesNotMatch(frame, /agent\.sock/);
  v.unmount();
});

test('overview layout: the fixed parts first, panels as their lists need, the chart the rest (within bounds)', () => {
  // 80×24 (21 lines), two agents, 3 alerts, 10 talkers: alerts a third of the panel lines, lists the rest.
  const small = overviewLayout(21, { agents: 2, alerts: 3, lists: 10 }, false);
  assert.deepEqual(small, { agentRows: 2, chartRows: 5, alertRows: 3, listRows: 6 });
  assert.equal(small.agentRows + 1 + 1 + 1 + small.chartRows + 1 + small.alertRows + 1 + small.listRows, 21);
  // Few alerts and short lists: the chart grows, up to its cap.
  assert.equal(overviewLayout(47, { agents: 2, alerts: 1, lists: 3 }, true).chartRows, 12);
  // Side by side: one row of panels as tall as the longer list needs.
  assert.deepEqual(overviewLayout(47, { agents: 3, alerts: 2, lists: 10 }, true), { agentRows: 3, chartRows: 12, alertRows: 10, listRows: 10 });
});
