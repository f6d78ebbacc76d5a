/** Prometheus metrics, scraped from a real agent: its counters agree with `loopy read` on the same file. */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { agentDir, freePort, RealAgent } from '../client/testing/real-agent.js';
import { runCli } from '../test-support/cli.js';
import { generatedCapture } from '../test-support/sample-frames.js';

let agent: RealAgent | undefined;
after(() => agent?.stop());

function metric(text: string, name: string): number | undefined {
  const m = new RegExp(`^${name.replace(/[{}"]/g, (c) => `\\${c}`)} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
}

test('GET /metrics counts the replayed packets, DNS queries and the alert; other paths are 404', async () => {
  const dir = agentDir();
  const file = join(dir, 'scan.pcap');
  writeFileSync(file, (await generatedCapture({ seed: 9, packets: 5000, incidents: ['port_scan'] })).bytes);
  const read = runCli(['read', file, '--json']);
  const records = read.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { type: string; packets?: number });
  const summary = records.at(-1)!;
  const dnsQueries = records.filter((r) => r.type === 'dns').length;
  const port = await freePort();
  agent = RealAgent.start(file, join(dir, 'data'), [`unix:${join(dir, 'a.sock')}`], '--stay', ['--metrics', `127.0.0.1:${port}`]);
  let text = '';
  for (let i = 0; i < 100; i++) {
    text = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text(), () => '');
    if (metric(text, 'loopy_packets_total') === summary.packets) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.equal(metric(text, 'loopy_packets_total'), summary.packets, `${agent.stderr.slice(-400)}\n${text.slice(0, 400)}`);
  assert.equal(metric(text, 'loopy_dns_queries_total'), dnsQueries);
  assert.equal(metric(text, 'loopy_alerts_total{detector="port_scan"}'), 1);
  assert.ok((metric(text, 'loopy_agent_rss_bytes') ?? 0) > 0);
  // The scanner is one source in port_scan's bounded table, shown with its labels.
  assert.ok((metric(text, 'loopy_detection_table_keys{detector="port_scan",table="sources"}') ?? 0) >= 1, text);
  assert.equal((await fetch(`http://127.0.0.1:${port}/`)).status, 404);
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
