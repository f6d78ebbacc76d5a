import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConnRecord, ProcessRecord } from '../../analyze/records.js';
import processes from './ProcessesView.js';
import { FakeAgentClient } from '../testing/fake-agent-client.js';
import { CONN_REJ, CONN_TLS, flow } from '../testing/sample-records.js';
import { renderView } from '../testing/render-view.js';

const curl: ProcessRecord = { pid: 4242, name: 'curl', exe: '/usr/bin/curl', user: 'alice', unit: 'session-3.scope' };
const wget: ProcessRecord = { pid: 4300, name: 'wget', exe: '/usr/bin/wget', user: 'alice', unit: 'session-3.scope' };
const nginx: ProcessRecord = { pid: 812, name: 'nginx', exe: '/usr/sbin/nginx', user: 'www-data', unit: 'nginx.service' };

/** CONN_TLS (600 B out, 8.0K in) twice from curl, once accepted by nginx (seen from nginx: 8.0K out), and a REJ from wget. */
function emitSample(a: FakeAgentClient): ConnRecord[] {
  const records: ConnRecord[] = [
    { ...CONN_TLS, orig_process: curl },
    { ...CONN_TLS, uid: 'C2', ts: CONN_TLS.ts + 1, orig_process: curl },
    { ...CONN_TLS, uid: 'C3', ts: CONN_TLS.ts + 2, resp_process: nginx },
    { ...CONN_REJ, orig_process: wget },
    CONN_TLS,
  ];
  for (const r of records) a.emit(flow(r));
  return records;
}

test('processes: traffic per process from its own end, biggest first, at 80 columns', async () => {
  const a = new FakeAgentClient('a');
  const v = renderView(processes, [a]);
  emitSample(a);
  await v.refresh();
  const lines = v.frame().split('\n');
  assert.ok(lines.every((l) => l.length <= 80));
  assert.match(lines[0], /^3 processes, sorted by bytes \(u: by unit\)/);
  assert.match(lines[1], /^process\s+unit\s+user\s+conns\s+out\s+in\s+latest$/);
  assert.match(lines[2], /^curl\[4242\]\s+session-3\.scope\s+alice\s+2\s+1\.2K\s+16K\s+06:13:21$/);
  assert.match(lines[3], /^nginx\[812\]\s+nginx\.service\s+www-data\s+1\s+8\.0K\s+600B\s+06:13:22$/);
  assert.match(lines[4], /^wget\[4300\]\s+session-3\.scope\s+alice\s+1\s+0B\s+0B\s+06:13:20$/);
  v.unmount();
});

test('processes: u sums per unit, s sorts, / filters', async () => {
  const a = new FakeAgentClient('a');
  const v = renderView(processes, [a]);
  emitSample(a);
  await v.refresh();
  await v.press('u');
  const lines = v.frame().split('\n');
  assert.match(lines[0], /^2 units, sorted by bytes \(u: by process\)/);
  assert.match(lines[1], /^unit\s+procs\s+user\s+conns\s+out\s+in/);
  assert.match(lines[2], /^session-3\.scope\s+2\s+alice\s+3\s+1\.2K\s+16K/);
  assert.match(lines[3], /^nginx\.service\s+1\s+www-data\s+1\s+8\.0K\s+600B/);
  await v.press('s');
  await v.press('s');
  assert.match(v.frame(), /sorted by latest[\s\S]*\nnginx\.service/);
  await v.press('u');
  await v.refresh('www');
  assert.match(v.frame(), /^1 processes matching "www"/);
  assert.match(v.frame(), /nginx\[812\]/);
  assert.doesNotMatch(v.frame(), /curl/);
  v.unmount();
});

test('processes: Enter lists the connections of a process from its side, Enter again the record, Esc back', async () => {
  const a = new FakeAgentClient('a');
  const v = renderView(processes, [a], { width: 100, height: 40 });
  emitSample(a);
  await v.refresh();
  await v.press('j');
  await v.press('\r');
  const lines = v.frame().split('\n');
  assert.match(lines[0], /^nginx\[812\] on a: 1 connections, 8\.0K out, 600B in — user www-data, nginx\.service/);
  assert.match(lines[1], /^time\s+process\s+peer\s+svc\s+state\s+out\s+in$/);
  assert.match(lines[2], /^06:13:22 nginx\[812\]\s+← 192\.168\.10\.22:51721\s+ssl\s+SF\s+8\.0K\s+600B$/);
  await v.press('\r');
  assert.match(v.frame(), /^connection C3 of nginx\[812\] on a/);
  assert.match(v.frame(), /\nresp_process\s+nginx\[812\] \/usr\/sbin\/nginx, user www-data, unit nginx\.service$/);
  await v.press('\x1b');
  assert.match(v.frame(), /^3 processes, sorted by bytes/);
  v.unmount();
});

test('processes: without named connections the view says what names them', async () => {
  const a = new FakeAgentClient('a');
  const v = renderView(processes, [a]);
  a.emit(flow(CONN_TLS));
  await v.refresh();
  assert.match(v.frame(), /no connection names a process yet \(a live agent with CAP_SYS_PTRACE/);
  v.unmount();
});
