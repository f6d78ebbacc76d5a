import { test } from 'node:test';
import assert from 'node:assert/strict';
import dnsView from './DnsView.js';
import { FakeAgentClient } from '../testing/fake-agent-client.js';
import { DNS_NX, DNS_OK, dns } from '../testing/sample-records.js';
import { renderView } from '../testing/render-view.js';

test('dns: query log newest first, top names, NXDOMAIN and slowest', async () => {
  const a = new FakeAgentClient('a');
  const v = renderView(dnsView, [a]);
  a.emit(dns(DNS_OK));
  a.emit(dns(DNS_NX));
  a.emit(dns({ ...DNS_NX, ts: DNS_NX.ts + 1, rtt: 0.5 }));
  await v.refresh();
  const frame = v.frame();
  const lines = frame.split('\n');
  assert.ok(lines.every((l) => l.length <= 80));
  assert.match(lines[0], /^3 DNS transactions, newest first/);
  assert.match(lines[2], /^06:13:21 192\.168\.10\.20\s+wwww\.example\.com\s+A\s+NXDOMAIN\s+500ms/);
  assert.match(lines[4], /^06:13:20 192\.168\.10\.22\s+maps\.example\.org\s+AAAA\s+NOERROR\s+0ms\s+d2\.cdn\.ex…$/);
  const panels = lines.findIndex((l) => /^top names\s+NXDOMAIN\s+slowest/.test(l));
  assert.ok(panels > 0, frame);
  assert.match(lines[panels + 1], /^wwww\.example\.com\s+2 wwww\.example\.com\s+2 wwww\.example\.com\s+500ms/);
  assert.match(lines[panels + 2], /^maps\.example\.org\s+1\s+wwww\.example\.com\s+61ms/);
  v.unmount();
});

test('dns: the filter matches answers too', async () => {
  const a = new FakeAgentClient('a');
  const v = renderView(dnsView, [a], { filter: '2001:db8' });
  a.emit(dns(DNS_OK));
  a.emit(dns(DNS_NX));
  await v.refresh();
  assert.match(v.frame(), /^1 DNS transactions matching "2001:db8"/);
  assert.match(v.frame(), /maps\.example\.org/);
  assert.doesNotMatch(v.frame(), /wwww/);
  v.unmount();
});
