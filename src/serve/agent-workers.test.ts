/**
 * `loopy agent --workers 2` between two namespaces (root only): two engines share the capture by address
 * pair (PACKET_FANOUT), and the agent's outputs read as one engine's. Datagrams to 64 addresses give 64 flows,
 * each recorded once whichever engine saw it, and `loopy query flows` answers all 64 while they are still open
 * (each engine holds its share), `--limit` bounding the merged answer; the per-second statistics add up to every packet received; eight
 * sources each scanning the agent's closed ports give eight port_scan alerts, one per source, whichever engine
 * raised them.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { captureAddonProblem } from '../capture/live-addon.js';
import { sh } from '../test-support/netns.js';
import { runCliAsync } from '../test-support/cli.js';
import { ADDR_AGENT, ADDR_PEER, IF_AGENT, NS_AGENT, NS_PEER, nodeIn, setUpNamespaces, startAgent, tearDownNamespaces } from './agent-netns.test-util.js';

const TARGETS = 64;
const SCANNERS = 8;
const SCANNED_PORTS = 30;

function skipReason(): string | false {
  let reason: string | false = captureAddonProblem() ?? false;
  if (!reason && process.getuid?.() !== 0) reason = 'the --workers tests need root (they create network namespaces)';
  if (!reason && spawnSync('ip', ['-V']).status !== 0) reason = 'the ip command (iproute2) is not installed';
  if (reason && process.env.CI) throw new Error(`${reason} (required in CI)`);
  return reason;
}

type Rec = Record<string, any>;
const root = mkdtempSync(join(tmpdir(), 'loopy-agent-workers-'));
chmodSync(root, 0o755);
const noConfig = join(root, 'empty.json');
writeFileSync(noConfig, '{}');

/** The targets of the open flows `loopy query flows` answers from the peer (engines' tables at the moment). */
async function openFlowsTo(socket: string, limit: number): Promise<string[]> {
  const run = await runCliAsync(['query', `unix:${socket}`, 'flows', '--json', '--host', ADDR_PEER, '--proto', 'udp', '--limit', String(limit)]);
  assert.equal(run.code, 0, run.stderr);
  const flows = run.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Rec);
  assert.ok(flows.every((f) => f.open === true), 'the flows have not ended: every one is marked open');
  return flows.map((f) => String(f['id.resp_h'])).filter((h) => h.startsWith('198.18.9.'));
}

/** Asks until `want` open flows show (the engines read their captures in batches) or 10 s have passed. */
async function openFlowsSeen(socket: string, want: number): Promise<string[]> {
  const deadline = Date.now() + 10_000;
  let seen = await openFlowsTo(socket, 1000);
  while (seen.length < want && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    seen = await openFlowsTo(socket, 1000);
  }
  return seen;
}

describe('loopy agent --workers 2', { skip: skipReason() }, () => {
  before(() => {
    setUpNamespaces();
    // 198.18.9.0/24 is local to the agent's side; 198.19.9.1-8 are the scanners, on the peer's side.
    sh(['ip', '-n', NS_AGENT, 'route', 'add', 'local', '198.18.9.0/24', 'dev', 'lo']);
    sh(['ip', 'netns', 'exec', NS_AGENT, 'sysctl', '-qw', 'net.ipv4.icmp_msgs_per_sec=100000', 'net.ipv4.icmp_msgs_burst=100000']);
    sh(['ip', '-n', NS_PEER, 'route', 'add', '198.18.9.0/24', 'via', ADDR_AGENT]);
    for (let i = 1; i <= SCANNERS; i++) sh(['ip', '-n', NS_PEER, 'addr', 'add', `198.19.9.${i}/32`, 'dev', 'lo']);
    sh(['ip', '-n', NS_AGENT, 'route', 'add', '198.19.9.0/24', 'via', ADDR_PEER]);
  });
  after(() => {
    tearDownNamespaces();
    rmSync(root, { recursive: true, force: true });
  });

  test('two engines, one set of records: every flow once, statistics that add up, one alert per scanner', async () => {
    const data = join(root, 'data');
    const agent = startAgent(['-i', IF_AGENT, '--workers', '2', '--data', data, '--config', noConfig, '--user', 'root', '--stdout']);
    const alerts = () => agent.out.filter((r: Rec) => r.type === 'alert' && r.detector === 'port_scan' && r.state !== 'closed');
    try {
      assert.ok(await agent.until(() => agent.err.some((l) => typeof l.msg === 'string' && l.msg.startsWith('capturing on '))), `the agent did not start: ${agent.stderrText}`);
      assert.ok(agent.err.some((l) => l.engine === 1), `the second engine logged nothing: ${agent.stderrText}`);
      nodeIn(NS_PEER, `const s = require('node:dgram').createSocket('udp4'); let left = ${TARGETS};
        for (let t = 1; t <= ${TARGETS}; t++) s.send('x', 9, '198.18.9.' + t, () => { if (--left === 0) s.close(); });`, []);
      nodeIn(NS_PEER, `const net = require('node:net'); const [host, scanners, ports] = process.argv.slice(1).map((v, i) => i ? Number(v) : v);
        let left = scanners * ports;
        for (let s = 1; s <= scanners; s++) for (let p = 0; p < ports; p++) {
          const c = net.connect({ host, port: 20000 + p, localAddress: '198.19.9.' + s });
          c.on('error', () => { if (--left === 0) process.exit(0); });
          c.on('connect', () => { c.destroy(); if (--left === 0) process.exit(0); });
        }`, [ADDR_AGENT, SCANNERS, SCANNED_PORTS]);
      const openTargets = await openFlowsSeen(join(data, 'agent.sock'), TARGETS);
      assert.equal(openTargets.length, TARGETS, `open flows to the targets: ${openTargets.length}`);
      assert.equal(new Set(openTargets).size, TARGETS, 'each open flow once');
      assert.equal((await openFlowsTo(join(data, 'agent.sock'), 10)).length, 10, '--limit bounds the merged answer');
      const scannersAlerted = () => new Set(alerts().map((a: Rec) => a.src));
      assert.ok(await agent.until(() => scannersAlerted().size === SCANNERS, 20_000), `port_scan alerts: ${JSON.stringify(alerts().map((a: Rec) => a.src))}`);
    } finally {
      assert.equal(await agent.stop(), 0, agent.stderrText);
    }
    const conns = agent.out.filter((r: Rec) => r.type === 'conn' && r['id.orig_h'] === ADDR_PEER && String(r['id.resp_h']).startsWith('198.18.9.'));
    assert.deepEqual([...new Set(conns.map((c: Rec) => c['id.resp_h']))].length, TARGETS, 'a flow for every target');
    assert.equal(conns.length, TARGETS, 'each flow recorded once');
    assert.equal(new Set(agent.out.filter((r: Rec) => r.type === 'conn').map((c: Rec) => c.uid)).size, agent.out.filter((r: Rec) => r.type === 'conn').length, 'uids unique across engines');
    const stats = agent.out.filter((r: Rec) => r.type === 'stats');
    const received = stats.at(-1)!.interfaces[0].received_total as number;
    assert.equal(stats.reduce((n: number, s: Rec) => n + s.packets, 0), received, 'the seconds add up to every packet received');
    assert.ok(received >= TARGETS * 2 + SCANNERS * SCANNED_PORTS * 2, `received ${received}`);
    const opened = alerts();
    for (let i = 1; i <= SCANNERS; i++) assert.equal(opened.filter((a: Rec) => a.src === `198.19.9.${i}` && a.state === 'open').length, 1, `one alert for scanner ${i}`);
  });
});
