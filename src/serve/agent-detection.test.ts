/** Detection runs in the agent as in `loopy read`: a replayed port scan comes out as one alert record. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../test-support/cli.js';
import { generatedCapture } from '../test-support/sample-frames.js';

test('the agent raises the alert of a replayed port scan, and none with --no-detect', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'loopy-agent-detect-'));
  chmodSync(dir, 0o755); // an agent started as root drops to nobody and must reach its data directory
  const file = join(dir, 'scan.pcap');
  writeFileSync(file, (await generatedCapture({ seed: 4, packets: 4000, incidents: ['port_scan'] })).bytes);
  const run = (extra: string[]) => {
    const r = runCli(['agent', '-r', file, '--max', '--stdout', '--data', join(dir, `data${extra.length}`), '--listen', `unix:${join(dir, `a${extra.length}.sock`)}`, ...extra]);
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { type: string; detector?: string; state?: string });
  };
  const alerts = run([]).filter((r) => r.type === 'alert');
  assert.deepEqual([...new Set(alerts.map((a) => a.detector))], ['port_scan']);
  assert.ok(alerts.some((a) => a.state === 'open'));
  assert.equal(run(['--no-detect']).filter((r) => r.type === 'alert').length, 0);
});
