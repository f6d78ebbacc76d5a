/** The transports benchmark's rows and ratios from hand-made lane figures. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AgentClient } from '../client/agent-client.js';
import { type LaneName, type LaneRun, laneRatios, laneRows } from './transports-report.js';

function run(name: LaneName, setupMs: number, latencyMs: number[], replyMs: number[], statsMs?: number): LaneRun {
  const summary = (v: number) => ({ median: v, p99: v, n: 10 });
  return {
    lane: { name, target: `${name}:x`, needs: 'a key', options: {}, serverPids: [1] },
    client: {} as AgentClient,
    setup: summary(setupMs),
    setupSeconds: 1,
    latency: latencyMs,
    latencySeconds: 1,
    burstRequests: 1000,
    burstInFlight: 32,
    burstSeconds: 0.5,
    burstCpu: { client: 0.02, agent: 0.01, relay: name === 'ssh' ? 0.005 : 0, seconds: 0.5 },
    replyTimes: replyMs,
    replyCpu: { client: 0.1, agent: 0.2, relay: 0, seconds: 1 },
    replyRows: 10_000,
    replyBytes: 5_000_000,
    stats: statsMs === undefined ? undefined : { median: statsMs, p99: statsMs, n: statsMs < 0 ? 0 : 8 },
    statsSeconds: 8,
  };
}

test('laneRatios: medians of TLS and SSH over unix; n/a where a side is missing', () => {
  const runs = new Map<LaneName, LaneRun>([
    ['unix', run('unix', 2, [1, 1, 3], [50, 50, 90], 2)],
    ['tls', run('tls', 8, [2, 2, 9], [75, 75, 75], 3)],
  ]);
  const byLabel = new Map(laneRatios(runs).map((r) => [r.label, r.value]));
  assert.equal(byLabel.get('TLS/unix setup'), 4);
  assert.equal(byLabel.get('TLS/unix request latency'), 2);
  assert.equal(byLabel.get('TLS/unix large reply time'), 1.5);
  assert.equal(byLabel.get('TLS/unix stats delay'), 1.5);
  assert.equal(byLabel.get('SSH/unix setup'), null);
});

test('laneRows: rates from the median reply, CPU per request and per reply, the relay only for SSH', () => {
  const rows = laneRows(run('ssh', 600, [0.2], [100, 100, 100], 5));
  assert.deepEqual(rows.map((r) => r.tool), ['ssh: setup', 'ssh: requests', 'ssh: large reply', 'ssh: stats delivery']);
  assert.ok(rows.every((r) => r.status === 'ok'));
  // 1,000 requests in 0.5 s; 0.02 s of client CPU over 1,000 is 20 µs each; agent 10 µs, sshd/bridge 5 µs.
  assert.match(rows[1]!.command, /2,000 requests\/s, CPU per request: client 20 µs, agent 10 µs \+ sshd\/bridge 5 µs/);
  // 5 MB in the median 100 ms: 50 MB/s and 100,000 rows/s; 0.1 s client CPU over 3 replies is 33.3 ms each.
  assert.match(rows[2]!.command, /5\.00 MB of JSON.*→ 50\.0 MB\/s, 100,000 rows\/s; CPU per reply: client 33\.3 ms, agent 66\.7 ms$/);
  assert.doesNotMatch(laneRows(run('unix', 1, [0.1], [50]))[1]!.command, /sshd/);
});

test('laneRows: a lane that received no stats record fails that row', () => {
  const rows = laneRows(run('tls', 5, [0.1], [50], -1));
  const stats = rows.find((r) => r.tool === 'tls: stats delivery')!;
  assert.equal(stats.status, 'failed');
  assert.match(stats.detail!, /no stats record arrived in 8 s/);
});
