/** Prometheus metrics, scraped from a real agent: every documented name is there, its counters agree with `loopy read`. */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, join } from 'node:path';
import { PACKAGE_VERSION } from '../capture/package-version.js';
import { agentDir, freePort, RealAgent } from '../client/testing/real-agent.js';
import { runCli } from '../test-support/cli.js';
import { generatedCapture } from '../test-support/sample-frames.js';

let agent: RealAgent | undefined;
after(() => agent?.stop());

function metric(text: string, name: string): number | undefined {
  const m = new RegExp(`^${name.replace(/[{}"]/g, (c) => `\\${c}`)} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
}

/** The metric names the README's table documents (its first column), and the default ones it names. */
function documentedMetrics(): string[] {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf('### Prometheus metrics'), readme.indexOf('A scrape config'));
  return [...section.matchAll(/^\| `([a-z_]+)` \|/gm), ...section.matchAll(/`((?:process|nodejs)_[a-z_]+)`/g)].map((m) => m[1]);
}

/** A webhook receiver on 127.0.0.1 that takes every alert (200), counting them. */
async function webhookReceiver(): Promise<{ server: Server; url: string; received: () => number }> {
  let count = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      count++;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/alerts`, received: () => count };
}

test('a real scrape has every documented metric, with the replay\'s packets, DNS, alert and its deliveries', async () => {
  const dir = agentDir();
  const file = join(dir, 'scan.pcap');
  writeFileSync(file, (await generatedCapture({ seed: 9, packets: 5000, incidents: ['port_scan'] })).bytes);
  const read = runCli(['read', file, '--json']);
  const records = read.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { type: string; packets?: number; bytes?: number });
  const summary = records.at(-1)!;
  const dnsQueries = records.filter((r) => r.type === 'dns').length;
  const alertRecords = records.filter((r) => r.type === 'alert').length;
  const hook = await webhookReceiver();
  // Syslog to a TCP port nobody listens on: every alert record fails, after one attempt.
  const closed = await freePort();
  const detectConfig = join(dir, 'detect.json');
  writeFileSync(detectConfig, JSON.stringify({ delivery: { webhook: { url: hook.url }, syslog: { host: '127.0.0.1', port: closed, protocol: 'tcp', attempts: 1 } } }));
  const port = await freePort();
  agent = RealAgent.start(file, join(dir, 'data'), [`unix:${join(dir, 'a.sock')}`], '--stay', ['--metrics', `127.0.0.1:${port}`, '--detect-config', detectConfig]);
  const iface = `{interface="${basename(file)}"}`;
  let text = '';
  // The receiver counts a delivery before its answer reaches the agent: wait for the agent's own count of both targets.
  const settled = (target: string, outcome: string) => metric(text, `loopy_alert_deliveries_total{target="${target}",outcome="${outcome}"}`) === alertRecords;
  try {
    for (let i = 0; i < 150; i++) {
      text = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text(), () => '');
      if (metric(text, `loopy_packets_total${iface}`) === summary.packets && settled('syslog', 'failed') && settled('webhook', 'sent')) break;
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    hook.server.close();
  }
  for (const name of documentedMetrics()) assert.match(text, new RegExp(`^# TYPE ${name} `, 'm'), `${name} is documented but not served`);
  assert.equal(metric(text, `loopy_packets_total${iface}`), summary.packets, `${agent.stderr.slice(-400)}\n${text.slice(0, 400)}`);
  assert.equal(metric(text, `loopy_bytes_total${iface}`), summary.bytes);
  assert.equal(metric(text, 'loopy_dns_queries_total'), dnsQueries);
  assert.equal(metric(text, 'loopy_alerts_total{detector="port_scan"}'), 1);
  assert.ok(alertRecords >= 2, 'the alert opened and closed');
  assert.equal(metric(text, 'loopy_alert_deliveries_total{target="webhook",outcome="sent"}'), hook.received());
  assert.equal(hook.received(), alertRecords);
  assert.equal(metric(text, 'loopy_alert_deliveries_total{target="syslog",outcome="failed"}'), alertRecords);
  assert.equal(metric(text, 'loopy_alert_deliveries_total{target="syslog",outcome="sent"}'), 0);
  assert.match(text, new RegExp(`^loopy_build_info\\{version="${PACKAGE_VERSION.replace(/\./g, '\\.')}",libpcap="[^"]+",node="${process.versions.node}"\\} 1$`, 'm'));
  assert.ok((metric(text, 'process_resident_memory_bytes') ?? 0) > 0);
  // The scanner is one source in port_scan's bounded table, shown with its labels.
  assert.ok((metric(text, 'loopy_detection_table_keys{detector="port_scan",table="sources"}') ?? 0) >= 1, text);
  assert.equal((await fetch(`http://127.0.0.1:${port}/`)).status, 404);
});

test('every loopy_ metric served is documented, and its name carries its unit', async () => {
  const { AgentMetrics } = await import('./metrics.js');
  const text = await new AgentMetrics({ version: '1.2.3', libpcap: '1.10.3', node: '20.0.0' }).registry.metrics();
  const served = [...text.matchAll(/^# TYPE (loopy_\S+) (\S+)$/gm)].map((m) => ({ name: m[1], type: m[2] }));
  const documented = new Set(documentedMetrics());
  for (const { name, type } of served) {
    assert.ok(documented.has(name), `${name} is served but not in the README`);
    if (type === 'counter') assert.match(name, /_total$/, `${name}: a counter ends in _total`);
    else assert.doesNotMatch(name, /_total$|_percent$/, `${name}: a gauge is no _total, and a share is a _ratio`);
  }
  assert.match(text, /^loopy_build_info\{version="1\.2\.3",libpcap="1\.10\.3",node="20\.0\.0"\} 1$/m);
});

test('deliveries: running totals become counters that add what is new; the queue is a gauge', async () => {
  const { AgentMetrics } = await import('./metrics.js');
  const m = new AgentMetrics();
  const stats = { queued: 3, sent: 5, retries: 2, failed: 1, dropped: 0 };
  m.onDelivery({ webhook: stats });
  m.onDelivery({ webhook: { ...stats, queued: 0, sent: 9 } });
  const text = await m.registry.metrics();
  assert.equal(metric(text, 'loopy_alert_deliveries_total{target="webhook",outcome="sent"}'), 9);
  assert.equal(metric(text, 'loopy_alert_deliveries_total{target="webhook",outcome="failed"}'), 1);
  assert.equal(metric(text, 'loopy_alert_delivery_retries_total{target="webhook"}'), 2);
  assert.equal(metric(text, 'loopy_alert_delivery_queue_length{target="webhook"}'), 0);
});

test('detection tables: keys as a gauge, declined and evicted as counters that add what is new each second', async () => {
  const { AgentMetrics } = await import('./metrics.js');
  const m = new AgentMetrics();
  const table = { detector: 'syn_flood', table: 'targets', size: 10, capacity: 20, declined: 5, evicted: 1 };
  m.onDetectionState([table]);
  m.onDetectionState([{ ...table, size: 12, declined: 9, evicted: 1 }]);
  const text = await m.registry.metrics();
  assert.equal(metric(text, 'loopy_detection_table_keys{detector="syn_flood",table="targets"}'), 12);
  assert.equal(metric(text, 'loopy_detection_table_declined_total{detector="syn_flood",table="targets"}'), 9);
  assert.equal(metric(text, 'loopy_detection_table_evicted_total{detector="syn_flood",table="targets"}'), 1);
});
