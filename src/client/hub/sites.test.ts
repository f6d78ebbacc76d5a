/**
 * A site behind a leaf node (contrib/nats/hub.conf and leaf.conf as shipped, ports moved to loopback): real
 * nats-servers for the hub and the site's leaf, the leaf's uplink through a link the test cuts, real agents
 * on the leaf. While the uplink is cut, viewers on the leaf still see the site's agents and their alerts;
 * when it returns, the hub's stream catches up (loopy hub-sites made it source the site's), each alert state
 * once — those kept before the cut too.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { ALERT_STREAM } from '../../serve/protocol/hub-subjects.js';
import { projectRoot } from '../../test-support/corpus.js';
import { cliCommand, runCliAsync } from '../../test-support/cli.js';
import { CuttableLink } from '../testing/cuttable-link.js';
import { NatsServer, natsSkipReason } from '../testing/nats-server.js';
import { RealAgent, agentDir } from '../testing/real-agent.js';
import { ndjson, synthCapture as capture, until } from '../testing/hub-fixtures.js';

const skip = natsSkipReason();
const contrib = (file: string) => readFileSync(join(projectRoot, 'contrib', 'nats', file), 'utf8');
type Row = Record<string, unknown>;
const VIEWER = { LOOPY_HUB_PASSWORD: 'change-me-viewer' };
const SITE_VIEWER = { LOOPY_HUB_PASSWORD: 'change-me-site-viewer' };

/** Every alert record a hub's (or leaf's) stream kept, read by `loopy watch --since` until `enough` holds (or 30 s). */
async function keptAlerts(url: string, user: string, env: Record<string, string>, enough: (rows: Row[]) => boolean): Promise<Row[]> {
  const [cmd, ...pre] = cliCommand();
  const child: ChildProcess = spawn(cmd!, [...pre, 'watch', url, '--topics', 'alerts', '--since', '1970-01-01T00:00:00Z', '--json', '--hub-user', user], { env: { ...process.env, ...env } });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  try {
    for (let i = 0; i < 300 && !enough(ndjson(out)); i++) await new Promise((r) => setTimeout(r, 100));
  } finally {
    child.kill('SIGINT');
  }
  await once(child, 'close');
  assert.ok(enough(ndjson(out)), `${url}: not all alerts kept: ${out.slice(0, 2000)}\n${err}`);
  return ndjson(out);
}

/** The alert subjects the hub's stream holds messages of, and how many (read as the operator). */
async function alertSubjectsAtHub(url: string): Promise<Record<string, number>> {
  const nc = await connect({ servers: url, user: 'operator', pass: 'change-me-operator' });
  try {
    const info = await (await jetstreamManager(nc)).streams.info(ALERT_STREAM, { subjects_filter: '>' });
    return info.state.subjects ?? {};
  } finally {
    await nc.close();
  }
}

const stateKey = (r: Row) => `${r.agent as string} ${r.alert_id as string} ${r.state as string} ${String(r.state_ts)} ${String(r.acknowledged_at ?? '')}`;
const agentsIn = (rows: Row[]) => new Set(rows.map((r) => r.agent));

test('a site on a leaf node: its viewers see it while the uplink is cut; the hub catches up on its alerts, each once', { skip, timeout: 180_000 }, async () => {
  const dir = agentDir();
  // The hub tells a leaf its leaf port, and the leaf would reconnect there, past the cut: it tells the link's.
  const uplink = await CuttableLink.open();
  const hub = await NatsServer.start(contrib('hub.conf').replace(/leafnodes\s*\{\s*listen:\s*\S+/, `$&\n  advertise: "${uplink.url}"`));
  uplink.target = hub.leafPort!;
  const leaf = await NatsServer.start(contrib('leaf.conf').replace('@hub.example.com:7422', `@${uplink.url}`));
  const agents: RealAgent[] = [];
  const startAgent = (name: string, seed: number, incident: string) => {
    writeFileSync(join(dir, `${name}.json`), JSON.stringify({ hubPassword: `change-me-${name}` }));
    agents.push(RealAgent.start(capture(dir, seed, incident), join(dir, name), [`unix:${join(dir, `${name}.sock`)}`], '--stay',
      ['--name', name, '--hub', leaf.url, '--hub-user', name, '--config', join(dir, `${name}.json`)]));
  };
  const status = async (url: string, user: string, env: Record<string, string>) => {
    const r = await runCliAsync(['query', url, 'status', '--json', '--hub-user', user, '--timeout', '2s'], env);
    return r.code === 0 ? ndjson(r.stdout).map((s) => s.agent as string).sort() : [];
  };
  try {
    const sites = await runCliAsync(['hub-sites', hub.url, 'site-a', '--hub-user', 'operator'], { LOOPY_HUB_PASSWORD: 'change-me-operator' });
    assert.equal(sites.code, 0, sites.stderr);
    assert.match(sites.stdout, /keeps the alerts of sites: site-a\n/);
    // Again, the stream there now: updated in place, the site named once.
    const again = await runCliAsync(['hub-sites', hub.url, 'site-a', '--hub-user', 'operator'], { LOOPY_HUB_PASSWORD: 'change-me-operator' });
    assert.equal(again.stdout, sites.stdout, again.stderr);

    // Link up: db1 on the site is seen from the hub, and its alert reaches the hub's stream.
    startAgent('db1', 1, 'port_scan');
    await until('db1 seen from the hub', async () => ((await status(hub.url, 'viewer', VIEWER)).includes('db1') ? true : undefined), 300);
    await keptAlerts(hub.url, 'viewer', VIEWER, (rows) => rows.some((r) => r.agent === 'db1' && r.detector === 'port_scan'));

    // The uplink is cut: mail1 starts at the site and raises its alerts; the site's viewers see both agents.
    await uplink.cut();
    await until('the hub losing the site', async () => ((await status(hub.url, 'viewer', VIEWER)).length === 0 ? true : undefined), 300);
    startAgent('mail1', 2, 'dns_tunnel');
    assert.deepEqual(await until('both agents seen on the leaf', async () => {
      const seen = await status(leaf.url, 'site-viewer', SITE_VIEWER);
      return seen.length === 2 ? seen : undefined;
    }, 300), ['db1', 'mail1']);
    const atSite = await keptAlerts(leaf.url, 'site-viewer', SITE_VIEWER, (rows) => rows.some((r) => r.agent === 'mail1' && r.detector === 'dns_tunnel' && r.state === 'closed'));
    assert.deepEqual([...agentsIn(atSite)].sort(), ['db1', 'mail1']);

    assert.equal(await alertSubjectsAtHub(hub.url).then((subjects) => subjects['loopy.live.mail1.alerts']), undefined, 'nothing of mail1 at the hub before the link returns');

    // Restored: the hub catches up on what the site kept meanwhile, every alert state once.
    await uplink.restore();
    const siteKeys = new Set(atSite.map(stateKey));
    const atHub = await keptAlerts(hub.url, 'viewer', VIEWER, (rows) => [...siteKeys].every((k) => rows.some((r) => stateKey(r) === k)));
    const hubKeys = atHub.map(stateKey);
    assert.equal(new Set(hubKeys).size, hubKeys.length, `each alert state once at the hub: ${hubKeys.join('\n')}`);
    assert.deepEqual([...agentsIn(atHub)].sort(), ['db1', 'mail1']);
    const stored = await alertSubjectsAtHub(hub.url);
    assert.equal(stored['loopy.live.mail1.alerts'], atHub.filter((r) => r.agent === 'mail1').length, 'the stream holds each of mail1\'s alert states once');
    assert.deepEqual(await until('the site back on the hub', async () => {
      const seen = await status(hub.url, 'viewer', VIEWER);
      return seen.length === 2 ? seen : undefined;
    }, 300), ['db1', 'mail1']);
  } finally {
    await Promise.all(agents.map((a) => a.stop()));
    await uplink.cut();
    await leaf.stop();
    await hub.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
