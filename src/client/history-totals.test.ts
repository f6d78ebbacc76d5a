/**
 * Queries over a replayed capture return the same totals as `loopy read` on the file: the whole path from
 * the agent's engine through the history store and the protocol to the client. Top talkers too.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ConnRecord, LoopyRecord, SummaryRecord } from '../analyze/records.js';
import { runCli } from '../test-support/cli.js';
import { generatedCapture } from '../test-support/sample-frames.js';
import { connectAgent } from './connect-agent.js';
import { agentDir, RealAgent } from './testing/real-agent.js';

let agent: RealAgent | undefined;
after(() => agent?.stop());

test('flows, DNS and series from the agent equal loopy read on the same file', async () => {
  const dir = agentDir();
  const file = join(dir, 'traffic.pcap');
  writeFileSync(file, (await generatedCapture({ seed: 21, packets: 6000 })).bytes);
  const read = runCli(['read', file, '--json']);
  assert.equal(read.status, 0, read.stderr);
  const records = read.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as LoopyRecord);
  const summary = records.at(-1) as SummaryRecord;
  const conns = records.filter((r): r is ConnRecord => r.type === 'conn');
  const dnsCount = records.filter((r) => r.type === 'dns').length;

  const socket = join(dir, 'agent.sock');
  agent = RealAgent.start(file, join(dir, 'data'), [`unix:${socket}`], '--stay');
  const client = connectAgent(`unix:${socket}`, { configDir: join(dir, 'client') });
  try {
    // Wait (bounded) until the agent has replayed the whole file and flushed a second after it.
    let status;
    for (let i = 0; i < 100; i++) {
      status = await client.status().catch(() => undefined);
      if (status && status.packets_total === summary.packets) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(status?.packets_total, summary.packets, `the agent replayed the file: ${agent.stderr.slice(-500)}`);
    await new Promise((r) => setTimeout(r, 1500));
    const range = { since: 0, until: Date.now() / 1000 + 86_400, limit: 10_000 };
    const flows = await client.flows(range);
    assert.equal(flows.length, conns.length);
    const packets = (list: ConnRecord[]) => list.reduce((n, c) => n + c.orig_pkts + c.resp_pkts, 0);
    assert.equal(packets(flows), packets(conns));
    assert.equal((await client.dns(range)).length, dnsCount);
    const series = await client.series({ ...range, resolution: '1s' });
    assert.equal(series.reduce((n, p) => n + p.packets, 0), summary.packets);

    // Top talkers: the agent's top host is the first of `loopy read`'s "Top talkers" (IP bytes sent +
    // received over its flows), with at most those bytes: the agent counts a host in the seconds it was
    // among the top 10 of the second, and `loopy read` counts every flow of it.
    const text = runCli(['read', file]);
    assert.equal(text.status, 0, text.stderr);
    const topHost = /Top talkers[^\n]*\n\s+(\S+)/.exec(text.stdout)?.[1];
    assert.ok(topHost, text.stdout);
    const readBytes = conns.filter((c) => c['id.orig_h'] === topHost || c['id.resp_h'] === topHost).reduce((n, c) => n + c.orig_ip_bytes + c.resp_ip_bytes, 0);
    const talkers = await client.talkers({ since: range.since, until: range.until });
    assert.equal(talkers.length, 10, 'ten rows by default');
    assert.equal(talkers[0].host, topHost);
    // (A replay at full speed takes a second or two, so here they are equal; a slow machine may miss a little.)
    assert.ok(talkers[0].bytes > readBytes / 2 && talkers[0].bytes <= readBytes, `${talkers[0].bytes} of ${readBytes} bytes`);
    assert.ok(talkers.every((t, i) => i === 0 || t.bytes <= talkers[i - 1].bytes), 'biggest first');
  } finally {
    client.close();
  }
});
