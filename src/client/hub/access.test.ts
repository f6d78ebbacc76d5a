/**
 * The example accounts' least privilege (contrib/nats/hub.conf and leaf.conf as shipped, on a real
 * nats-server): an agent works under its own name and cannot speak under another's, nor read another's
 * requests or inboxes; a viewer asks (one agent or the whole fleet) and acknowledges, but cannot publish as
 * an agent nor suppress; a site's leaf link carries its own agents' subjects up and refuses another's.
 * Each refusal is checked beside a permitted message on the same path, which does arrive.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type NatsConnection, connect } from '@nats-io/transport-node';
import { projectRoot } from '../../test-support/corpus.js';
import { runCliAsync } from '../../test-support/cli.js';
import { connectAgent } from '../connect-agent.js';
import { NatsServer, natsSkipReason } from '../testing/nats-server.js';
import { RealAgent, agentDir } from '../testing/real-agent.js';
import { ndjson, synthCapture as capture, until } from '../testing/hub-fixtures.js';

const skip = natsSkipReason();
const contrib = (file: string) => readFileSync(join(projectRoot, 'contrib', 'nats', file), 'utf8');
const EVER = ['--since', '1970-01-01T00:00:00Z', '--until', '2100-01-01T00:00:00Z'];
const VIEWER = { LOOPY_HUB_PASSWORD: 'change-me-viewer' };

/** A connection as `user`, and the permission violations the hub reports on it. */
async function login(url: string, user: string, pass: string): Promise<{ nc: NatsConnection; refusals: string[] }> {
  const nc = await connect({ servers: url, user, pass });
  const refusals: string[] = [];
  void (async () => {
    for await (const s of nc.status()) if (s.type === 'error') refusals.push(String(s.error));
  })();
  return { nc, refusals };
}

/** What arrives on `subject` (as `nc` may read it). */
function received(nc: NatsConnection, subject: string): string[] {
  const got: string[] = [];
  nc.subscribe(subject, { callback: (_e, m) => void got.push(`${m.subject} ${m.string()}`) });
  return got;
}

test('contrib/nats/hub.conf: agents speak only as themselves; a viewer asks and acknowledges but cannot impersonate or suppress', { skip, timeout: 90_000 }, async () => {
  const dir = agentDir();
  const nats = await NatsServer.start(contrib('hub.conf'));
  writeFileSync(join(dir, 'web1.json'), JSON.stringify({ hubPassword: 'change-me-web1' }));
  const web1 = RealAgent.start(capture(dir, 3, 'nxdomain_burst'), join(dir, 'web1'), [`unix:${join(dir, 'web1.sock')}`], '--stay',
    ['--name', 'web1', '--hub', nats.url, '--hub-user', 'web1', '--config', join(dir, 'web1.json')]);
  const viewerClient = connectAgent(`nats://viewer:change-me-viewer@127.0.0.1:${nats.port}/web1`, { configDir: dir, clientName: 'loopy-test', requestTimeoutMs: 3000 });
  const logins: NatsConnection[] = [];
  try {
    // The agent announces itself and answers under its own name: one agent's status, and a fleet-wide question.
    await until('web1 answering the viewer', async () => {
      const r = await runCliAsync(['query', `${nats.url}/web1`, 'status', '--json', '--hub-user', 'viewer'], VIEWER);
      return r.code === 0 ? r : undefined;
    });
    const flows = await until('web1\'s flows, fleet-wide', async () => {
      const r = await runCliAsync(['query', nats.url, 'flows', ...EVER, '--json', '--hub-user', 'viewer'], VIEWER);
      const rows = r.code === 0 ? ndjson(r.stdout) : [];
      return rows.length > 0 ? rows : undefined;
    });
    assert.deepEqual([...new Set(flows.map((r) => r.agent))], ['web1']);

    // The viewer reads and acknowledges web1's alert; suppressing is not its right (refused by the hub, never answered).
    const alert = await until('web1\'s alert', async () => (await viewerClient.alerts({ since: 0, until: 4e9 }))[0]);
    await viewerClient.acknowledgeAlert(alert.alert_id);
    const acked = await viewerClient.alerts({ since: 0, until: 4e9 });
    assert.equal(acked.find((a) => a.alert_id === alert.alert_id)?.acknowledged, true);
    await assert.rejects(viewerClient.suppress({ detector: alert.detector, expiresAt: Date.now() / 1000 + 60 }), /no reply|permission/i);

    const operator = await login(nats.url, 'operator', 'change-me-operator');
    const viewer = await login(nats.url, 'viewer', 'change-me-viewer');
    const agent = await login(nats.url, 'web1', 'change-me-web1');
    logins.push(operator.nc, viewer.nc, agent.nc);
    const live = received(operator.nc, 'loopy.live.>');
    const presence = received(operator.nc, 'loopy.presence.*');
    await operator.nc.flush();

    // The viewer's credentials cannot publish as an agent.
    viewer.nc.publish('loopy.live.web1.alerts', JSON.stringify({ type: 'alert', alert_id: 'forged-by-viewer' }));
    viewer.nc.publish('loopy.presence.web1', '{"forged":"viewer"}');
    // web1's cannot publish as another agent, nor read another's requests or anyone's inbox.
    agent.nc.publish('loopy.live.web2.alerts', JSON.stringify({ type: 'alert', alert_id: 'forged-by-web1' }));
    agent.nc.publish('loopy.presence.web2', '{"forged":"web1"}');
    agent.nc.subscribe('loopy.rpc.web2.>');
    agent.nc.subscribe('_INBOX.>');
    await until('the hub\'s refusals', async () => (viewer.refusals.length >= 2 && agent.refusals.length >= 4 ? true : undefined), 50);
    // Under its own name it may: the control that the path to the operator's subscription is open.
    await until('the permitted publish', async () => {
      agent.nc.publish('loopy.live.web1.stats', '{"control":true}');
      await agent.nc.flush();
      return live.some((m) => m.includes('"control":true')) ? true : undefined;
    }, 50);
    await viewer.nc.flush();
    assert.match(viewer.refusals.join('\n'), /Permissions Violation for Publish to "?loopy\.live\.web1\.alerts/i);
    assert.match(viewer.refusals.join('\n'), /Permissions Violation for Publish to "?loopy\.presence\.web1/i);
    assert.match(agent.refusals.join('\n'), /Permissions Violation for Publish to "?loopy\.live\.web2\.alerts/i);
    assert.match(agent.refusals.join('\n'), /Permissions Violation for Publish to "?loopy\.presence\.web2/i);
    assert.match(agent.refusals.join('\n'), /Permissions Violation for Subscription to "?loopy\.rpc\.web2\.>/i);
    assert.match(agent.refusals.join('\n'), /Permissions Violation for Subscription to "?_INBOX\.>/i);
    assert.deepEqual(live.filter((m) => m.includes('forged')), []);
    assert.deepEqual(presence.filter((m) => m.includes('forged')), []);
  } finally {
    viewerClient.close();
    await Promise.all(logins.map((nc) => nc.close()));
    await web1.stop();
    await nats.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('contrib/nats/leaf.conf on hub.conf: the leaf link carries its own agents\' subjects up, never another agent\'s', { skip, timeout: 60_000 }, async () => {
  const hub = await NatsServer.start(contrib('hub.conf'));
  // A site whose own config was loosened (a user with every right): the hub's side of the link still holds.
  const leafConf = contrib('leaf.conf').replace('@hub.example.com:7422', `@127.0.0.1:${hub.leafPort}`).replace(/users: \[/, '$&\n    { user: rogue, password: "rogue" }');
  const leaf = await NatsServer.start(leafConf);
  const logins: NatsConnection[] = [];
  try {
    const operator = await connect({ servers: hub.url, user: 'operator', pass: 'change-me-operator' });
    const web1 = await connect({ servers: hub.url, user: 'web1', pass: 'change-me-web1' });
    const rogue = await connect({ servers: leaf.url, user: 'rogue', pass: 'rogue' });
    logins.push(operator, web1, rogue);
    const live = received(operator, 'loopy.live.>');
    const presence = received(operator, 'loopy.presence.*');
    const requests = received(web1, 'loopy.rpc.web1.>');
    await operator.flush();
    await web1.flush();
    // The site's own agent's subject goes up once the link is up (and the hub's interest has reached the leaf).
    await until('the link up', async () => {
      rogue.publish('loopy.live.db1.stats', '{"control":1}');
      await rogue.flush();
      return live.some((m) => m.includes('"control":1')) ? true : undefined;
    });
    rogue.publish('loopy.live.web1.alerts', JSON.stringify({ type: 'alert', alert_id: 'forged-by-site' }));
    rogue.publish('loopy.presence.web1', '{"forged":"site"}');
    rogue.publish('loopy.rpc.web1.alerts.suppress', '{"forged":"site"}');
    // After them on the same link: when this one is in, they would have been.
    rogue.publish('loopy.live.db1.stats', '{"control":2}');
    await rogue.flush();
    await until('the control after the forgeries', async () => (live.some((m) => m.includes('"control":2')) ? true : undefined), 50);
    await web1.flush();
    assert.deepEqual(live.filter((m) => m.includes('forged')), []);
    assert.deepEqual(presence, []);
    assert.deepEqual(requests, []);
  } finally {
    await Promise.all(logins.map((nc) => nc.close()));
    await leaf.stop();
    await hub.stop();
  }
});
