/** Detection runs in the agent as in `loopy read`: a replayed port scan comes out as one alert record. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer } from 'node:http';
import { spawn } from 'node:child_process';
import { cliCommand, runCli } from '../test-support/cli.js';
import { generatedCapture } from '../test-support/sample-frames.js';
import { testDir } from '../test-support/temp-dir.js';

test('the agent raises the alert of a replayed port scan, none with --no-detect, and keeps its evidence in --evidence DIR', async () => {
  const dir = testDir('loopy-agent-detect-');
  chmodSync(dir, 0o755); // an agent started as root drops to nobody and must reach its data directory
  const file = join(dir, 'scan.pcap');
  writeFileSync(file, (await generatedCapture({ seed: 4, packets: 4000, incidents: ['port_scan'] })).bytes);
  const run = (extra: string[]) => {
    const r = runCli(['agent', '-r', file, '--max', '--stdout', '--data', join(dir, `data${extra.length}`), '--listen', `unix:${join(dir, `a${extra.length}.sock`)}`, ...extra]);
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { type: string; detector?: string; state?: string; alert_id?: string; evidence?: { pcap?: string } });
  };
  const alerts = run([]).filter((r) => r.type === 'alert');
  assert.deepEqual([...new Set(alerts.map((a) => a.detector))], ['port_scan']);
  assert.ok(alerts.some((a) => a.state === 'open'));
  assert.equal(run(['--no-detect']).filter((r) => r.type === 'alert').length, 0);
  // --evidence: the pcaps go there (as `loopy ui --local` keeps them), not under the data directory.
  const evidence = join(dir, 'kept', 'evidence');
  const kept = run(['--evidence', evidence]).filter((r) => r.type === 'alert');
  assert.ok(kept.length > 0);
  for (const a of kept) assert.equal(a.evidence?.pcap, join(evidence, `${a.alert_id}.pcap`));
  assert.ok(readdirSync(evidence).some((f) => f.endsWith('.pcap')));
  assert.equal(statSync(evidence).mode & 0o777, 0o700);
  assert.ok(!existsSync(join(dir, 'data2', 'evidence')));
});

/** The CLI as a child process without blocking this process's event loop (the webhook receiver runs here). */
function runCliAsync(args: string[]): Promise<{ status: number | null; stderr: string }> {
  const [cmd, ...pre] = cliCommand();
  const child = spawn(cmd, [...pre, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((resolve) => child.on('exit', (status) => (clearTimeout(timer), resolve({ status, stderr }))));
}

test('the agent posts its alerts to the webhook the detection config names', async () => {
  const dir = testDir('loopy-agent-webhook-');
  chmodSync(dir, 0o755);
  const file = join(dir, 'scan.pcap');
  writeFileSync(file, (await generatedCapture({ seed: 4, packets: 4000, incidents: ['port_scan'] })).bytes);
  const received: Array<{ detector: string; state: string }> = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push(JSON.parse(body));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const config = join(dir, 'detect.json');
  writeFileSync(config, JSON.stringify({ delivery: { webhook: { url: `http://127.0.0.1:${port}/alerts` } } }));
  chmodSync(config, 0o644);
  try {
    const r = await runCliAsync(['agent', '-r', file, '--max', '--data', join(dir, 'data'), '--listen', `unix:${join(dir, 'a.sock')}`, '--detect-config', config]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual([...new Set(received.map((a) => a.detector))], ['port_scan']);
    assert.ok(received.some((a) => a.state === 'open'));
  } finally {
    server.close();
  }
});
