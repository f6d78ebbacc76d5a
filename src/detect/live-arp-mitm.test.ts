/**
 * ARP man in the middle on a real bridge (root only): three namespaces (victims A and B, attacker M) plugged
 * into a bridge in a fourth, where `loopy agent --promisc` captures on the bridge and so sees every frame
 * between the ports. `arpspoof -t A -r B` (dsniff) poisons both ways, then restores the caches when stopped;
 * the agent must raise exactly one arp_spoof naming M's MAC and both victims, within 2 s of arpspoof's start,
 * and blame no owner. A second case runs ordinary ARP and a host moving to a new address with one gratuitous
 * ARP, which raise nothing. Every run is bounded; everything is torn down. Skipped loudly when not root or a
 * tool is missing; in CI a skip is a failure.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { captureAddonProblem } from '../capture/live-addon.js';
import { startAgentIn, type JsonChild } from '../serve/agent-netns.test-util.js';
import { sh } from '../test-support/netns.js';

const id = process.pid % 100000;
const NS_SWITCH = `d13s${id}`;
const BRIDGE = `d13br${id}`;
const NET = `10.251.${id % 250}`;
/** The hosts on the bridge: namespace, interface inside it, the bridge's port for it, address. */
const HOSTS = {
  a: { ns: `d13a${id}`, dev: `d13a${id}`, port: `d13pa${id}`, addr: `${NET}.1` },
  b: { ns: `d13b${id}`, dev: `d13b${id}`, port: `d13pb${id}`, addr: `${NET}.2` },
  m: { ns: `d13m${id}`, dev: `d13m${id}`, port: `d13pm${id}`, addr: `${NET}.3` },
};
type Host = (typeof HOSTS)[keyof typeof HOSTS];

function skipReason(): string | false {
  let reason: string | false = captureAddonProblem() ?? false;
  if (!reason && process.getuid?.() !== 0) reason = 'the live ARP test needs root (it creates network namespaces)';
  for (const [cmd, pkg] of [['arpspoof', 'dsniff'], ['arping', 'iputils-arping'], ['ping', 'iputils-ping']]) {
    if (!reason && spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status !== 0) reason = `${cmd} (${pkg}) is not installed`;
  }
  if (reason && process.env.CI) throw new Error(`${reason} (required in CI)`);
  if (reason) console.warn(`SKIPPING live ARP man-in-the-middle test: ${reason}`);
  return reason;
}

function setUp(): void {
  tearDown();
  for (const ns of [NS_SWITCH, ...Object.values(HOSTS).map((h) => h.ns)]) {
    sh(['ip', 'netns', 'add', ns]);
    sh(['ip', 'netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
    sh(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
  }
  sh(['ip', '-n', NS_SWITCH, 'link', 'add', BRIDGE, 'type', 'bridge']);
  sh(['ip', '-n', NS_SWITCH, 'link', 'set', BRIDGE, 'up']);
  for (const h of Object.values(HOSTS)) {
    sh(['ip', 'link', 'add', h.dev, 'netns', h.ns, 'type', 'veth', 'peer', 'name', h.port, 'netns', NS_SWITCH]);
    sh(['ip', '-n', NS_SWITCH, 'link', 'set', h.port, 'master', BRIDGE, 'up']);
    sh(['ip', '-n', h.ns, 'addr', 'add', `${h.addr}/24`, 'dev', h.dev]);
    sh(['ip', '-n', h.ns, 'link', 'set', h.dev, 'up']);
  }
  // The attacker forwards what it intercepts (as a man in the middle does), without ICMP redirects.
  sh(['ip', 'netns', 'exec', HOSTS.m.ns, 'sysctl', '-qw', 'net.ipv4.ip_forward=1', 'net.ipv4.conf.all.send_redirects=0', `net.ipv4.conf.${HOSTS.m.dev}.send_redirects=0`]);
}

/** Deleting the namespaces deletes the veths and the bridge. Never throws. */
function tearDown(): void {
  for (const ns of [NS_SWITCH, ...Object.values(HOSTS).map((h) => h.ns)]) spawnSync('ip', ['netns', 'del', ns], { timeout: 10_000, stdio: 'ignore' });
}

function macOf(h: Host): string {
  return (JSON.parse(sh(['ip', '-n', h.ns, '-j', 'link', 'show', h.dev])) as Array<{ address: string }>)[0].address;
}

function run(h: Host, args: string[]): string {
  return sh(['ip', 'netns', 'exec', h.ns, ...args], 20_000);
}

const root = mkdtempSync(join(tmpdir(), 'loopy-live-arp-'));
chmodSync(root, 0o755); // the agent drops root for nobody and must still reach its data directory
const noConfig = join(root, 'empty.json');
writeFileSync(noConfig, '{}');
chmodSync(noConfig, 0o644);

/** A fresh agent on the bridge; resolves once it captures. */
async function startBridgeAgent(name: string): Promise<JsonChild> {
  const agent = startAgentIn(NS_SWITCH, ['--config', noConfig, '-i', BRIDGE, '--promisc', '--stdout', '--data', join(root, `data-${name}`)]);
  const ok = await agent.until(() => agent.err.some((l) => typeof l.msg === 'string' && l.msg.startsWith('capturing on ')));
  assert.ok(ok, `the agent did not start: ${agent.stderrText}`);
  return agent;
}

/** Stops the agent (its end of input closes the alerts) and returns the alerts that opened, capture_loss aside. */
async function alertsOf(agent: JsonChild): Promise<Array<Record<string, any>>> {
  await new Promise((r) => setTimeout(r, 2000));
  assert.equal(await agent.stop(), 0, agent.stderrText);
  return agent.out.filter((r) => r.type === 'alert' && r.state === 'open' && r.detector !== 'capture_loss');
}

describe('live ARP man in the middle: arpspoof on a bridge', { skip: skipReason() }, () => {
  before(setUp);
  after(() => {
    tearDown();
    rmSync(root, { recursive: true, force: true });
  });

  test('arpspoof -t A -r B, then its cleanup → one arp_spoof naming the attacker and both victims', async (t) => {
    const agent = await startBridgeAgent('mitm');
    let alerts: Array<Record<string, any>>;
    let started = 0;
    try {
      // Everyone resolves everyone by ARP and talks: the owners are known before the attack.
      run(HOSTS.a, ['ping', '-c', '2', '-i', '0.2', '-W', '2', HOSTS.b.addr]);
      run(HOSTS.m, ['ping', '-c', '1', '-W', '2', HOSTS.a.addr]);
      run(HOSTS.m, ['ping', '-c', '1', '-W', '2', HOSTS.b.addr]);
      started = Date.now() / 1000;
      const spoof = spawn('ip', ['netns', 'exec', HOSTS.m.ns, 'arpspoof', '-i', HOSTS.m.dev, '-t', HOSTS.a.addr, '-r', HOSTS.b.addr], { stdio: ['ignore', 'ignore', 'pipe'] });
      let spoofLog = '';
      spoof.stderr.on('data', (d) => (spoofLog += d));
      const exited = new Promise((r) => spoof.once('exit', r));
      // A and B keep talking through the attacker while it poisons (arpspoof sends every 2 s).
      await new Promise((r) => setTimeout(r, 1000));
      run(HOSTS.a, ['ping', '-c', '6', '-i', '0.5', '-W', '2', HOSTS.b.addr]);
      spoof.kill('SIGINT'); // arpspoof restores both caches (the true MACs, sent from its own MAC) and exits
      const done = await Promise.race([exited.then(() => true), new Promise((r) => setTimeout(() => r(false), 15_000))]);
      if (!done) spoof.kill('SIGKILL');
      assert.ok(done, `arpspoof did not stop: ${spoofLog}`);
      assert.match(spoofLog, /is-at/, `arpspoof sent nothing: ${spoofLog}`);
      // The owners answer for themselves afterwards: still no one else to blame.
      run(HOSTS.a, ['arping', '-c', '1', '-w', '2', '-I', HOSTS.a.dev, HOSTS.b.addr]);
      alerts = await alertsOf(agent);
    } finally {
      await agent.stop(5000);
    }
    const seen = alerts.map((a) => `${a.detector} ${a.src ?? '-'} -> ${a.dst ?? '-'}: ${a.message}`);
    assert.equal(alerts.length, 1, `exactly one alert should open; got ${JSON.stringify(seen)}`);
    const [alert] = alerts;
    assert.equal(alert.detector, 'arp_spoof', alert.message);
    assert.equal(alert.evidence.attacker_mac, macOf(HOSTS.m), alert.message);
    assert.equal(alert.src, HOSTS.m.addr, alert.message);
    assert.deepEqual(alert.evidence.victims, [HOSTS.a.addr, HOSTS.b.addr], alert.message);
    assert.equal(alert.evidence.man_in_the_middle, true, alert.message);
    const delay = alert.ts - started;
    assert.ok(delay > -0.05 && delay <= 2, `the alert's first spoofed message came ${delay.toFixed(3)} s after arpspoof started`);
    t.diagnostic(`${alert.message}; ${delay.toFixed(3)} s after arpspoof started`);
  });

  test('ordinary ARP, and a host moving to a new address with one gratuitous ARP → nothing', async () => {
    const agent = await startBridgeAgent('benign');
    let alerts: Array<Record<string, any>>;
    try {
      run(HOSTS.a, ['ip', 'neigh', 'flush', 'all']);
      run(HOSTS.a, ['ping', '-c', '2', '-i', '0.2', '-W', '2', HOSTS.b.addr]);
      run(HOSTS.b, ['arping', '-c', '2', '-w', '3', '-I', HOSTS.b.dev, HOSTS.m.addr]);
      // B gets a new lease: it drops its address, takes a free one and announces it, as DHCP clients do.
      const moved = `${NET}.20`;
      run(HOSTS.b, ['ip', 'addr', 'del', `${HOSTS.b.addr}/24`, 'dev', HOSTS.b.dev]);
      run(HOSTS.b, ['ip', 'addr', 'add', `${moved}/24`, 'dev', HOSTS.b.dev]);
      run(HOSTS.b, ['arping', '-U', '-c', '1', '-w', '2', '-I', HOSTS.b.dev, '-s', moved, moved]);
      run(HOSTS.a, ['ping', '-c', '2', '-i', '0.2', '-W', '2', moved]);
      run(HOSTS.b, ['ip', 'addr', 'del', `${moved}/24`, 'dev', HOSTS.b.dev]);
      run(HOSTS.b, ['ip', 'addr', 'add', `${HOSTS.b.addr}/24`, 'dev', HOSTS.b.dev]);
      alerts = await alertsOf(agent);
    } finally {
      await agent.stop(5000);
    }
    assert.deepEqual(alerts.map((a) => `${a.detector}: ${a.message}`), [], 'ordinary ARP raises nothing');
    assert.ok(agent.out.some((r) => r.type === 'conn' && r.proto === 'icmp'), 'the agent saw the pings');
  });
});
