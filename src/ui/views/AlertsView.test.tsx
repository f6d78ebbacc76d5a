import { test } from 'node:test';
import assert from 'node:assert/strict';
import alerts, { SUPPRESS_SECONDS } from './AlertsView.js';
import { FakeAgentClient } from '../testing/fake-agent-client.js';
import { ALERT_SCAN, ALERT_TUNNEL, alert } from '../testing/sample-records.js';
import { renderView, tick } from '../testing/render-view.js';

test('alerts: evidence longer than the screen is cut to the rows it has, never wrapped past them', async () => {
  const a = new FakeAgentClient('a');
  const v = renderView(alerts, [a], { height: 12 });
  // 1024 ports and 20 Community IDs: far more than 12 rows of 80 columns.
  const ports = Array.from({ length: 1024 }, (_, i) => i + 1);
  const ids = Array.from({ length: 20 }, (_, i) => `1:${String(i).padStart(27, 'x')}=`);
  a.emit(alert({ ...ALERT_SCAN, evidence: { ...ALERT_SCAN.evidence, ports }, community_ids: ids }));
  await v.refresh();
  await v.press('\r');
  const rows = v.frame().split('\n');
  assert.equal(rows.length, 12);
  assert.ok(rows.every((r) => r.length <= 80));
  assert.match(rows[3], /^src 192\.168\.10\.250  dst 192\.168\.20\.10/);
  assert.match(rows[5], /^ports: 1 2 3 4 5/);
  v.unmount();
});

test('alerts: open first by severity, closed after; evidence on Enter', async () => {
  const a = new FakeAgentClient('a');
  const v = renderView(alerts, [a]);
  a.emit(alert(ALERT_SCAN));
  a.emit(alert(ALERT_TUNNEL));
  a.emit(alert({ ...ALERT_SCAN, alert_id: 'Aold', state: 'closed', closed_reason: 'quiet', state_ts: ALERT_SCAN.ts + 60 }));
  await v.refresh();
  const lines = v.frame().split('\n');
  assert.ok(lines.every((l) => l.length <= 80));
  assert.match(lines[0], /^2 open, 1 closed/);
  assert.match(lines[2], /^high\s+OPEN\s+06:13:24 dns_tunnel\s+192\.168\.10\.251 sent 30 queries/);
  assert.match(lines[3], /^medium\s+OPEN\s+06:13:22 port_scan\s+192\.168\.10\.250 scanned 100 TCP ports/);
  assert.match(lines[4], /^medium\s+closed 06:13:22 port_scan/);
  await v.press('j');
  await v.press('\r');
  const detail = v.frame();
  assert.match(detail, /MEDIUM port_scan on a — OPEN/);
  assert.match(detail, /src 192\.168\.10\.250  dst 192\.168\.20\.10/);
  assert.match(detail, /ports: 3 7 11 17 24/);
  assert.match(detail, /distinct_ports: 100 \(threshold 100\)/);
  v.unmount();
});

test('alerts: A acknowledges on the agent, x suppresses the detector for the source for a day', async () => {
  const a = new FakeAgentClient('a');
  const v = renderView(alerts, [a], { now: 1718000100 });
  a.emit(alert(ALERT_SCAN));
  await v.refresh();
  await v.press('A');
  await v.refresh();
  assert.deepEqual(a.calls.at(-1), { method: 'acknowledgeAlert', args: 'AVGo6oKnmKqf7yTsdn' });
  assert.match(v.frame(), /^1 open, 0 closed/);
  assert.match(v.frame(), /medium\s+acked/);
  assert.match(v.frame(), /acknowledged port_scan on a/);
  await v.press('x');
  await tick();
  assert.deepEqual(a.calls.at(-1), { method: 'suppress', args: { detector: 'port_scan', source: '192.168.10.250', expiresAt: 1718000100 + SUPPRESS_SECONDS } });
  assert.match(v.frame(), /suppressed port_scan from 192\.168\.10\.250 on a for 24h/);
  v.unmount();
});

test("alerts: x on a process detector's alert suppresses it for the process's unit", async () => {
  const a = new FakeAgentClient('a');
  const v = renderView(alerts, [a], { now: 1718000100 });
  const process = { pid: 812, name: 'bash', exe: '/usr/bin/bash', user: 'www-data', unit: 'nginx.service' };
  a.emit(alert({ ...ALERT_SCAN, alert_id: 'AP1', detector: 'new_process_talker', message: 'bash (pid 812) connected out', evidence: { ...ALERT_SCAN.evidence, process } }));
  await v.refresh();
  await v.press('x');
  await tick();
  assert.deepEqual(a.calls.at(-1), { method: 'suppress', args: { detector: 'new_process_talker', unit: 'nginx.service', expiresAt: 1718000100 + SUPPRESS_SECONDS } });
  assert.match(v.frame(), /suppressed new_process_talker for nginx\.service on a for 24h/);
  v.unmount();
});

test('alerts: a failed action says so and which agent', async () => {
  const a = new FakeAgentClient('a');
  a.failWith = 'not connected';
  const v = renderView(alerts, [a]);
  a.emit(alert(ALERT_SCAN));
  await v.refresh();
  await v.press('x');
  await tick();
  assert.match(v.frame(), /suppress failed on a: not connected/);
  v.unmount();
});

test('alerts: A acknowledges the alert the cursor is on, by id, even when the list re-sorts under it', async () => {
  const a = new FakeAgentClient('a');
  const v = renderView(alerts, [a]);
  a.emit(alert(ALERT_TUNNEL));
  a.emit(alert(ALERT_SCAN));
  await v.refresh();
  await v.press('j');
  assert.match(v.frame().split('\n')[3], /^medium\s+OPEN\s+\S+ port_scan/);
  // Two more severe alerts arrive and sort above the chosen one: it moves down two rows, the cursor with it.
  a.emit(alert({ ...ALERT_TUNNEL, alert_id: 'Anew1', severity: 'critical' }));
  a.emit(alert({ ...ALERT_TUNNEL, alert_id: 'Anew2', severity: 'critical' }));
  await v.refresh();
  await v.press('A');
  await v.refresh();
  assert.deepEqual(a.calls.filter((c) => c.method === 'acknowledgeAlert'), [{ method: 'acknowledgeAlert', args: ALERT_SCAN.alert_id }]);
  assert.match(v.frame(), /acknowledged port_scan on a/);
  v.unmount();
});

test('alerts: the evidence names its hosts with the agent\'s passive DNS; the filter finds an alert by a host\'s name', async () => {
  const a = new FakeAgentClient('a');
  a.knownNames = { '192.168.20.10': 'files.corp.example' };
  const v = renderView(alerts, [a], { height: 12 });
  a.emit(alert(ALERT_SCAN));
  a.emit(alert(ALERT_TUNNEL));
  await v.refresh();
  await v.refresh('files.corp');
  assert.match(v.frame(), /^1 open, 0 closed matching "files\.corp"/);
  await v.press('\r');
  const rows = v.frame().split('\n');
  assert.match(rows[0], /port_scan/);
  assert.equal(rows[3], 'src 192.168.10.250  dst 192.168.20.10 files.corp.example');
  assert.equal(rows[4], 'hosts: 192.168.10.250, 192.168.20.10 files.corp.example');
  v.unmount();
});
