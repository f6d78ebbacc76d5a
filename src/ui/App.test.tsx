import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Text } from 'ink';
import { VIEWS } from './views/index.js';
import { FakeAgentClient } from './testing/fake-agent-client.js';
import { startShell as start } from './testing/shell.js';
import { CONN_REJ, CONN_TLS, DNS_OK, T0, dns, flow, stats, statsSecond } from './testing/sample-records.js';
import { tick } from './testing/render-view.js';
import { defineView } from './view-registry.js';

test('shell: tab bar, Overview first, status line with keys, fits 80×24 without reaching the last line', async () => {
  const a = new FakeAgentClient('unix:/run/a.sock');
  const ui = start([a]);
  await tick();
  const lines = ui.screen().split('\n');
  assert.match(lines[0], /1 Overview\s+2 Traffic\s+3 Hosts\s+4 Connections\s+5 DNS\s+6 Alerts\s+7 History/);
  assert.match(ui.screen(), /● …run\/a\.sock\s+connected/);
  // 23 lines: a frame as tall as the terminal would make Ink clear the screen on each update.
  assert.equal(lines.length, 23);
  assert.ok(lines.every((l) => l.length <= 80));
  assert.match(lines[22], /↑↓ agent  \/ filter  p pause  a agents  \? help  q quit\s+1\/1 up$/);
  await ui.press('q');
  await ui.done;
  assert.equal(a.closed, true, 'quitting closes the clients');
});

test('shell: a second\'s statistics show when they arrive, at most once a second; other events wait for the tick; p pauses', async () => {
  const a = new FakeAgentClient('a');
  const clock = { now: T0 + 60 };
  const ui = start([a], undefined, undefined, clock);
  await tick();
  a.emit(stats(statsSecond(T0, { flows_active: 16 })));
  await tick();
  assert.doesNotMatch(ui.screen(), /16 flows/, 'within a second of the last redraw: nothing redrawn');
  await ui.second();
  assert.match(ui.screen(), /16 flows/);
  clock.now += 1;
  a.emit(stats(statsSecond(T0 + 1, { flows_active: 17 })));
  // Without a tick (until() fires none): Ink may draw it a little late on a loaded machine.
  assert.match(await ui.until(/17 flows/), /17 flows/, 'a second later, the new statistics are drawn as they arrive');
  await ui.press('p');
  assert.match(ui.screen(), /PAUSED/);
  assert.equal(ui.ticking(), false);
  clock.now += 1;
  a.emit(stats(statsSecond(T0 + 2, { flows_active: 18 })));
  await tick();
  assert.match(ui.screen(), /17 flows/);
  await ui.press('p');
  assert.match(await ui.until(/18 flows/), /18 flows/, 'resuming shows the latest at once (no tick needed)');
  assert.equal(ui.ticking(), true);
  await ui.press('q');
  await ui.done;
});

test('shell: number keys and Tab switch views; / filters the current view; Esc in the prompt or on the list clears it', async () => {
  const a = new FakeAgentClient('a');
  const ui = start([a]);
  a.emit(flow(CONN_TLS));
  a.emit(flow(CONN_REJ));
  a.emit(dns(DNS_OK));
  await ui.second();
  await ui.press('4');
  assert.match(ui.screen(), /2 connections, sorted by time/);
  assert.match(ui.screen(), /\/ filter  s sort  Enter record  p pause/);
  await ui.press('/', 'R', 'E', 'J');
  assert.match(ui.screen(), /^\/REJ█/m);
  await ui.press('\r');
  assert.match(ui.screen(), /1 connections matching "REJ"/);
  assert.match(ui.screen(), /filter: REJ\s+1\/1 up$/);
  await ui.press('\t');
  assert.match(ui.screen(), /1 DNS transactions, newest first/, 'the filter belongs to its view');
  await ui.press('\x1b[Z'); // Shift-Tab
  assert.match(ui.screen(), /1 connections matching "REJ"/);
  await ui.press('/', '\x1b');
  assert.match(ui.screen(), /2 connections, sorted by time/);
  await ui.press('/', '192.168.10.23:53999\r'); // a pasted chunk ending in Enter; an endpoint as shown
  assert.match(ui.screen(), /1 connections matching "192\.168\.10\.23:53999"/);
  await ui.press('\r');
  assert.match(ui.screen(), /connection CEqDpNw4XXYJhLHNFJ on a/);
  await ui.press('\x1b');
  assert.match(ui.screen(), /1 connections matching "192\.168\.10\.23:53999"/, 'Esc in a detail goes back and keeps the filter');
  await ui.press('\x1b');
  assert.match(ui.screen(), /2 connections, sorted by time/, 'Esc clears an applied filter, as ? says');
  assert.doesNotMatch(ui.screen(), /filter: /);
  await ui.press('?');
  assert.match(ui.screen(), /Loopy — keys/);
  assert.match(ui.screen(), /Connections: finished connections/);
  await ui.press('x');
  assert.match(ui.screen(), /2 connections/);
  await ui.press('q');
  await ui.done;
});

test('shell: a chooses the agents the views show; Overview keeps every agent', async () => {
  const a = new FakeAgentClient('alpha');
  const b = new FakeAgentClient('bravo', { state: 'disconnected', since: T0, error: 'ECONNREFUSED', retryInMs: 2000 });
  const ui = start([a, b]);
  a.emit(flow(CONN_TLS));
  await ui.second();
  assert.match(ui.screen(), /1\/2 up$/m);
  await ui.press('a');
  assert.match(ui.screen(), /\[ \] alpha\s+connected/);
  assert.match(ui.screen(), /\[ \] bravo\s+down, retry 2s/);
  await ui.press('j', ' ', '\r');
  await ui.press('4');
  assert.match(ui.screen(), /0 connections/);
  await ui.press('1');
  assert.match(ui.screen(), /alpha[\s\S]*bravo[\s\S]*not in the other views \(press a\): alpha/);
  // bravo comes back: shown at once, not at the next tick.
  b.setState({ state: 'connected', since: T0, agent: { version: 1, name: 'bravo', software: 'x', methods: [], topics: [] } });
  await tick();
  assert.match(ui.screen(), /2\/2 up$/m);
  await ui.press('q');
  await ui.done;
});

test('shell: a larger terminal is used, and a resize redraws at the new size', async () => {
  const a = new FakeAgentClient('a');
  const ui = start([a], { columns: 200, rows: 50 });
  await tick();
  assert.equal(ui.screen().split('\n').length, 49);
  const first = ui.screen().split('\n')[1];
  assert.ok(first.length > 150, 'the sparkline takes the width');
  ui.stdout.resize(80, 24);
  await tick();
  assert.equal(ui.screen().split('\n').length, 23);
  await ui.press('q');
  await ui.done;
});

test('registry: a new view is one definition added to the list; it gets its number key, keys and data', async () => {
  const seen: number[] = [];
  const probe = defineView({
    name: 'probe',
    title: 'Probe',
    topics: ['stats'],
    keys: [{ key: 'z', label: 'zap' }],
    description: 'a test view',
    component: ({ agents }) => {
      const n = agents[0]?.seconds.length ?? 0;
      seen.push(n);
      return <Text>probe sees {n} seconds</Text>;
    },
  });
  const a = new FakeAgentClient('a');
  const ui = start([a], undefined, [...VIEWS, probe]);
  a.emit(stats(statsSecond(T0)));
  await ui.second();
  await ui.press('9');
  assert.match(ui.screen().split('\n')[0], /9 Probe/);
  assert.match(ui.screen(), /probe sees 1 seconds/);
  assert.match(ui.screen(), /z zap  \/ filter/);
  await ui.press('q');
  await ui.done;
});
