/**
 * The hub end to end: a real nats-server on loopback, two real agents (the CLI) replaying different generated
 * captures and dialing out to it, and `loopy query` / `loopy watch` over nats:// as a user runs them. Then
 * the hub's least-privilege example (contrib/nats/hub.conf): an agent works under its own name, and a
 * viewer's credentials cannot publish as an agent.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { projectRoot } from '../../test-support/corpus.js';
import { cliCommand, runCliAsync } from '../../test-support/cli.js';
import type { AgentClient, ConnectionState } from '../agent-client.js';
import { connectAgent } from '../connect-agent.js';
import { NatsServer, natsSkipReason } from '../testing/nats-server.js';
import { RealAgent, agentDir } from '../testing/real-agent.js';
import { ndjson, synthCapture as capture, until } from '../testing/hub-fixtures.js';

const skip = natsSkipReason();
const EVER = ['--since', '1970-01-01T00:00:00Z', '--until', '2100-01-01T00:00:00Z'];

function startAgent(dir: string, name: string, file: string, hub: string, extra: string[] = []): RealAgent {
  return RealAgent.start(file, join(dir, name), [`unix:${join(dir, `${name}.sock`)}`], '--stay', ['--name', name, '--hub', hub, ...extra]);
}

function stateOf(client: AgentClient, pred: (s: ConnectionState) => boolean): Promise<ConnectionState> {
  return new Promise((resolve) => {
    if (pred(client.connectionState())) return resolve(client.connectionState());
    const off = client.onStateChange((s) => pred(s) && (off(), resolve(s)));
  });
}

/** `loopy watch` until `enough` holds for its NDJSON lines (or 20 s), then Ctrl-C. */
async function watchUntil(args: string[], enough: (rows: Array<Record<string, unknown>>, stderr: string) => boolean): Promise<{ rows: Array<Record<string, unknown>>; stderr: string; code: number | null }> {
  const [cmd, ...pre] = cliCommand();
  const child: ChildProcess = spawn(cmd!, [...pre, 'watch', ...args, '--json']);
  let out = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  try {
    for (let i = 0; i < 200 && !enough(ndjson(out), stderr); i++) await new Promise((r) => setTimeout(r, 100));
  } finally {
    child.kill('SIGINT');
  }
  const [code] = (await once(child, 'close')) as [number | null];
  return { rows: ndjson(out), stderr, code };
}

test('two agents on a hub: fleet-wide query and watch, alerts kept and acknowledged, a killed agent marked down', { skip, timeout: 120_000 }, async () => {
  const dir = agentDir();
  const nats = await NatsServer.start();
  const alpha = startAgent(dir, 'alpha', capture(dir, 1, 'port_scan'), nats.url);
  const beta = startAgent(dir, 'beta', capture(dir, 2, 'dns_tunnel'), nats.url);
  const betaClient = connectAgent(`${nats.url}/beta`, { configDir: dir, clientName: 'loopy-test' });
  try {
    // Both announce themselves; each replays its file once and keeps serving its history (--stay).
    const status = await until('both agents answering status', async () => {
      const r = await runCliAsync(['query', nats.url, 'status', '--json']);
      const rows = r.code === 0 ? ndjson(r.stdout) : [];
      return rows.length === 2 && rows.every((s) => (s.packets_total as number) >= 4000) ? rows : undefined;
    });
    assert.deepEqual(status.map((s) => s.agent).sort(), ['alpha', 'beta']);

    const dns = await runCliAsync(['query', nats.url, 'dns', ...EVER, '--json', '--limit', '5000']);
    assert.equal(dns.code, 0, dns.stderr);
    const dnsRows = ndjson(dns.stdout);
    assert.deepEqual([...new Set(dnsRows.map((r) => r.agent))].sort(), ['alpha', 'beta'], 'DNS records from both agents');
    assert.ok(dnsRows.every((r, i) => i === 0 || (dnsRows[i - 1]!.ts as number) >= (r.ts as number)), 'newest first across agents');
    assert.deepEqual(Object.keys(dnsRows[0]!).slice(0, 2), ['type', 'agent']);

    const flows = await runCliAsync(['query', nats.url, 'flows', ...EVER]);
    assert.equal(flows.code, 0, flows.stderr);
    assert.match(flows.stdout, /^agent\s+time\s+proto/);
    assert.match(flows.stdout, /\nalpha\s/);
    assert.match(flows.stdout, /\nbeta\s/);

    // One agent's alerts through its own client; acknowledged there, the acknowledgement reaches everyone.
    const betaAlerts = await betaClient.alerts({ since: 0, until: 4e9 });
    const tunnel = betaAlerts.find((a) => a.detector === 'dns_tunnel');
    assert.ok(tunnel, JSON.stringify(betaAlerts.map((a) => a.detector)));
    await betaClient.acknowledgeAlert(tunnel.alert_id);

    // A viewer that connects now sees every alert kept since the start, from both agents, each state once.
    const kept = await watchUntil([nats.url, '--topics', 'alerts', '--since', '1970-01-01T00:00:00Z'], (rows) =>
      rows.some((r) => r.agent === 'alpha' && r.detector === 'port_scan') && rows.some((r) => r.alert_id === tunnel.alert_id && r.acknowledged === true));
    assert.equal(kept.code, 0, kept.stderr);
    assert.ok(kept.rows.some((r) => r.agent === 'alpha' && r.detector === 'port_scan'), 'alpha\'s alert, raised before any viewer connected');
    assert.ok(kept.rows.some((r) => r.alert_id === tunnel.alert_id && r.acknowledged === true && r.acknowledged_by === 'loopy-test 0.1.0'), kept.stderr);
    const states = kept.rows.map((r) => `${r.alert_id} ${r.state} ${r.state_ts} ${r.acknowledged_at ?? ''}`);
    assert.equal(new Set(states).size, states.length, 'each alert state kept once');

    // Live stats of both, each with its agent's name.
    const live = await watchUntil([nats.url, '--topics', 'stats'], (rows, stderr) => new Set(rows.map((r) => r.agent)).size === 2 && /alpha is up/.test(stderr));
    assert.deepEqual([...new Set(live.rows.map((r) => r.agent))].sort(), ['alpha', 'beta']);
    assert.match(live.stderr, /alpha is up/);

    // beta dies without a word: its client marks it down within 5 s, and fleet queries go on with alpha.
    await stateOf(betaClient, (s) => s.state === 'connected');
    const killedAt = performance.now();
    beta.child.kill('SIGKILL');
    const down = await stateOf(betaClient, (s) => s.state === 'disconnected');
    const downMs = performance.now() - killedAt;
    assert.ok(downMs < 5000, `marked down after ${downMs.toFixed(0)} ms`);
    assert.match(down.state === 'disconnected' ? down.error : '', /beta: no heartbeat/);
    const after = await runCliAsync(['query', nats.url, 'status', '--json']);
    assert.deepEqual(ndjson(after.stdout).map((s) => s.agent), ['alpha']);
  } finally {
    betaClient.close();
    await Promise.all([alpha.stop(), beta.stop()]);
    await nats.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('contrib/nats/hub.conf: an agent answers under its own name; a viewer can ask but cannot publish as an agent', { skip, timeout: 60_000 }, async () => {
  const dir = agentDir();
  const nats = await NatsServer.start(readFileSync(join(projectRoot, 'contrib', 'nats', 'hub.conf'), 'utf8'));
  writeFileSync(join(dir, 'web1.json'), JSON.stringify({ hubPassword: 'change-me-web1' }));
  const web1 = startAgent(dir, 'web1', capture(dir, 3, 'nxdomain_burst'), nats.url, ['--hub-user', 'web1', '--config', join(dir, 'web1.json')]);
  try {
    await until('web1 on the hub', async () => {
      const r = await runCliAsync(['query', `${nats.url}/web1`, 'status', '--json', '--hub-user', 'viewer'], { LOOPY_HUB_PASSWORD: 'change-me-viewer' });
      return r.code === 0 ? r : undefined;
    });
    // Talkers come with their names: the viewer may ask the agent's names method too (a refused request fails the query).
    const talkers = await runCliAsync(['query', `${nats.url}/web1`, 'talkers', '--since', '10y', '--json', '--hub-user', 'viewer'], { LOOPY_HUB_PASSWORD: 'change-me-viewer' });
    assert.equal(talkers.code, 0, talkers.stderr);
    assert.ok(talkers.stdout.length > 0);
    // The viewer's credentials: publishing as the agent is refused by the hub, and nobody receives it.
    const admin = await connect({ servers: nats.url, user: 'operator', pass: 'change-me-operator' });
    const viewer = await connect({ servers: nats.url, user: 'viewer', pass: 'change-me-viewer' });
    const forged: string[] = [];
    const sub = admin.subscribe('loopy.live.web1.alerts', { callback: (_e, m) => void forged.push(m.string()) });
    const refusals: string[] = [];
    void (async () => {
      for await (const s of viewer.status()) if (s.type === 'error') refusals.push(String(s.error));
    })();
    viewer.publish('loopy.live.web1.alerts', JSON.stringify({ type: 'alert', alert_id: 'forged' }));
    viewer.publish('loopy.presence.web1', '{}');
    await until('the permission violations', async () => (refusals.length >= 2 ? true : undefined), 50);
    await admin.flush();
    assert.match(refusals.join('\n'), /Permissions Violation for Publish to "?loopy\.live\.web1\.alerts/i);
    assert.deepEqual(forged, []);
    sub.unsubscribe();
    await Promise.all([admin.close(), viewer.close()]);
  } finally {
    await web1.stop();
    await nats.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
