/**
 * `loopy agent -i VETH` on real traffic (root only): two namespaces joined by a veth pair, servers in the
 * agent's namespace, known TCP/UDP/DNS/ICMP traffic from the other, and checks on the agent's NDJSON output
 * and on the process itself (its uid after the privilege drop). Skipped loudly when not root; in CI
 * (process.env.CI) a skip is a failure.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { captureAddonProblem } from '../capture/live-addon.js';
import { runCli } from '../test-support/cli.js';
import { realPrivilegeOps } from './privileges.js';
import { ADDR_AGENT, ADDR_PEER, IF_AGENT, type JsonChild, NS_AGENT, NS_PEER, nodeIn, setUpNamespaces, startAgent, startNode, tearDownNamespaces } from './agent-netns.test-util.js';
import { DNS_CLIENT, DNS_TABLE, SERVERS, TCP_CLIENTS, UDP_CLIENT } from './agent-traffic.test-util.js';

const TCP_PORT = 7000;
const UDP_PORT = 7001;
const DNS_PORT = 53;

function skipReason(): string | false {
  let reason: string | false = captureAddonProblem() ?? false;
  if (!reason && process.getuid?.() !== 0) reason = 'the live agent tests need root (they create network namespaces)';
  if (!reason && spawnSync('ip', ['-V']).status !== 0) reason = 'the ip command (iproute2) is not installed';
  if (!reason && spawnSync('ping', ['-V']).status !== 0) reason = 'ping (iputils-ping) is not installed';
  if (!reason && spawnSync('setpriv', ['--version']).status !== 0) reason = 'setpriv (util-linux) is not installed';
  if (reason && process.env.CI) throw new Error(`${reason} (required in CI)`);
  if (reason) console.warn(`SKIPPING live agent tests: ${reason}`);
  return reason;
}

type Rec = Record<string, any>;
const ofType = (rs: Rec[], type: string) => rs.filter((r) => r.type === type);
const root = mkdtempSync(join(tmpdir(), 'loopy-agent-live-'));
chmodSync(root, 0o755); // the agent, once nobody, must reach its data directory below this one
// An empty config file: whatever /etc/loopy/agent.json holds on this machine plays no part.
const noConfig = join(root, 'empty.json');
writeFileSync(noConfig, '{}');
chmodSync(noConfig, 0o644);

/** Waits until the agent has rolled `more` stats records beyond those it has now (bounded). */
async function moreSeconds(agent: JsonChild, more: number): Promise<void> {
  const n = ofType(agent.out, 'stats').length;
  assert.ok(await agent.until(() => ofType(agent.out, 'stats').length >= n + more, 10_000), `no stats records: ${agent.stderrText}`);
}

async function started(agent: JsonChild): Promise<void> {
  const ok = await agent.until(() => agent.err.some((l) => typeof l.msg === 'string' && l.msg.startsWith('capturing on ')));
  assert.ok(ok, `the agent did not start: ${agent.stderrText}`);
}

function ping(count: number): void {
  const r = spawnSync('ip', ['netns', 'exec', NS_PEER, 'ping', '-n', '-q', '-c', String(count), '-i', '0.2', '-W', '2', ADDR_AGENT], { encoding: 'utf8', timeout: 15_000 });
  assert.equal(r.status, 0, `ping failed: ${r.stdout} ${r.stderr}`);
}

describe('loopy agent capturing between two network namespaces', { skip: skipReason() }, () => {
  let servers: JsonChild | undefined;

  before(async () => {
    setUpNamespaces();
    servers = startNode(NS_AGENT, SERVERS, [TCP_PORT, UDP_PORT, DNS_PORT, JSON.stringify(DNS_TABLE)]);
    assert.ok(await servers.until(() => servers!.out.some((l) => l.event === 'ready')), `servers: ${servers.stderrText}`);
  });

  after(async () => {
    servers?.child.stdin.end();
    await servers?.stop(5000);
    tearDownNamespaces();
    rmSync(root, { recursive: true, force: true });
  });

  test('exact counts of TCP, UDP, DNS and ICMP, no drops, and capture keeps working after dropping to nobody', async () => {
    const data = join(root, 'data-all');
    const agent = startAgent(['--config', noConfig, '-i', IF_AGENT, '--stdout', '--data', data, '--user', 'nobody']);
    try {
      await started(agent);
      const nobody = realPrivilegeOps.lookupUser('nobody')!;
      const uid = /^Uid:.*$/m.exec(readFileSync(`/proc/${agent.pid}/status`, 'utf8'))?.[0];
      assert.equal(uid, `Uid:\t${nobody.uid}\t${nobody.uid}\t${nobody.uid}\t${nobody.uid}`, 'real, effective, saved and fs uid are nobody');
      assert.ok(agent.err.some((l) => /^capture open; dropped root privileges to user nobody/.test(l.msg)), agent.stderrText);

      // All of it is sent after the drop: capture works with the handles opened as root.
      const tcp = JSON.parse(nodeIn(NS_PEER, TCP_CLIENTS, [ADDR_AGENT, TCP_PORT, '1000:5000,20000:300,4:70000'])) as number[][];
      assert.deepEqual(tcp, [[1000, 5000], [20000, 300], [4, 70000]], 'the clients got their answers');
      nodeIn(NS_PEER, UDP_CLIENT, [ADDR_AGENT, UDP_PORT, 20, 100]);
      const dns = JSON.parse(nodeIn(NS_PEER, DNS_CLIENT, [ADDR_AGENT, DNS_PORT, 'a.loopy.test', 'b.loopy.test', 'c.loopy.test', 'nx.loopy.test'])) as unknown[];
      assert.deepEqual(dns, [['a.loopy.test', 0, 1], ['b.loopy.test', 0, 1], ['c.loopy.test', 0, 1], ['nx.loopy.test', 3, 0]]);
      ping(5);
      // Past the 200 ms block timeout, twice: everything sent has been handed to the agent.
      await moreSeconds(agent, 2);

      const status = runCli(['agent', '--status', '--json', '--data', data]);
      assert.equal(status.status, 0, status.stderr);
      const s = JSON.parse(status.stdout) as Rec;
      assert.deepEqual([s.running, s.user, s.source, s.interfaces[0].name, s.interfaces[0].state], [true, 'nobody', 'live', IF_AGENT, 'capturing']);
      assert.equal(await agent.stop(), 0, agent.stderrText);
    } finally {
      await agent.stop(5000);
    }
    const out = agent.out;
    const conns = ofType(out, 'conn');
    const summary = ofType(out, 'summary')[0];
    const stats = ofType(out, 'stats');
    const last = stats.at(-1)!;

    const tcpConns = conns.filter((c) => c.proto === 'tcp').sort((a, b) => a.ts - b.ts);
    assert.deepEqual(tcpConns.map((c) => [c['id.orig_h'], c['id.resp_h'], c['id.resp_p'], c.conn_state, c.orig_bytes, c.resp_bytes]), [
      [ADDR_PEER, ADDR_AGENT, TCP_PORT, 'SF', 1000, 5000],
      [ADDR_PEER, ADDR_AGENT, TCP_PORT, 'SF', 20000, 300],
      [ADDR_PEER, ADDR_AGENT, TCP_PORT, 'SF', 4, 70000],
    ]);
    const udp = conns.filter((c) => c.proto === 'udp' && c['id.resp_p'] === UDP_PORT);
    assert.deepEqual(udp.map((c) => [c.orig_pkts, c.orig_bytes, c.resp_pkts]), [[20, 2000, 0]]);
    const dnsConn = conns.filter((c) => c.proto === 'udp' && c['id.resp_p'] === DNS_PORT);
    assert.deepEqual(dnsConn.map((c) => [c.service, c.orig_pkts, c.resp_pkts]), [['dns', 4, 4]]);
    const icmp = conns.filter((c) => c.proto === 'icmp');
    assert.deepEqual(icmp.map((c) => [c['id.orig_h'], c.orig_pkts, c.resp_pkts]), [[ADDR_PEER, 5, 5]]);
    assert.deepEqual(
      ofType(out, 'dns').map((d) => [d.query, d.qtype_name, d.rcode_name, d.answers ?? [], d.TTLs ?? []]),
      [
        ['a.loopy.test', 'A', 'NOERROR', ['192.0.2.1'], [60]],
        ['b.loopy.test', 'A', 'NOERROR', ['192.0.2.2'], [60]],
        ['c.loopy.test', 'A', 'NOERROR', ['192.0.2.3'], [60]],
        ['nx.loopy.test', 'A', 'NXDOMAIN', [], []],
      ],
    );
    // Every packet the kernel passed is in a flow, in the stats, and in the summary; none was dropped.
    const inFlows = conns.reduce((n, c) => n + c.orig_pkts + c.resp_pkts, 0);
    assert.equal(summary.packets, inFlows);
    assert.equal(stats.reduce((n, r) => n + r.packets, 0), summary.packets);
    assert.equal(last.interfaces[0].name, IF_AGENT);
    assert.equal(last.interfaces[0].received_total, summary.packets, 'the kernel saw exactly what the agent decoded');
    for (const r of stats) {
      for (const key of ['received', 'dropped', 'if_dropped', 'drop_pct', 'received_total', 'dropped_total']) {
        assert.equal(typeof r.interfaces[0][key], 'number', key);
      }
    }
    assert.equal(last.interfaces[0].dropped_total, 0);
    assert.equal(stats.reduce((n, r) => n + r.dns.queries, 0), 4);
  });

  test('CAP_NET_RAW alone, as the systemd unit runs it: nothing to drop, and capture works', async () => {
    const nobody = realPrivilegeOps.lookupUser('nobody')!;
    // The unit's StateDirectory: made by systemd, owned by the service's user.
    const data = join(root, 'data-caps');
    mkdirSync(data, { mode: 0o700 });
    chownSync(data, nobody.uid, nobody.gid);
    const setpriv = ['setpriv', `--reuid=${nobody.uid}`, `--regid=${nobody.gid}`, '--clear-groups', '--inh-caps=+net_raw', '--ambient-caps=+net_raw'];
    const agent = startAgent(['--config', noConfig, '-i', IF_AGENT, '--stdout', '--data', data], setpriv);
    try {
      await started(agent);
      assert.ok(agent.err.some((l) => l.msg === `running as uid ${nobody.uid} with CAP_NET_RAW: no privileges to drop`), agent.stderrText);
      nodeIn(NS_PEER, UDP_CLIENT, [ADDR_AGENT, UDP_PORT, 7, 30]);
      await moreSeconds(agent, 2);
      assert.equal(await agent.stop(), 0, agent.stderrText);
    } finally {
      await agent.stop(5000);
    }
    assert.deepEqual(ofType(agent.out, 'conn').map((c) => [c.proto, c.orig_pkts, c.orig_bytes]), [['udp', 7, 210]]);
  });

  test('-f udp: the kernel filter keeps the UDP and nothing else', async () => {
    const agent = startAgent(['--config', noConfig, '-i', IF_AGENT, '-f', 'udp', '--stdout', '--data', join(root, 'data-udp'), '--user', 'nobody']);
    try {
      await started(agent);
      nodeIn(NS_PEER, TCP_CLIENTS, [ADDR_AGENT, TCP_PORT, '500:500']);
      nodeIn(NS_PEER, UDP_CLIENT, [ADDR_AGENT, UDP_PORT, 10, 50]);
      ping(3);
      await moreSeconds(agent, 2);
      assert.equal(await agent.stop(), 0, agent.stderrText);
    } finally {
      await agent.stop(5000);
    }
    const summary = ofType(agent.out, 'summary')[0];
    assert.equal(summary.packets, 10);
    assert.equal(summary.protocols.tcp, undefined);
    assert.equal(summary.protocols.icmp, undefined);
    assert.deepEqual(ofType(agent.out, 'conn').map((c) => [c.proto, c.orig_pkts, c.orig_bytes]), [['udp', 10, 500]]);
    assert.equal(ofType(agent.out, 'stats').at(-1)!.interfaces[0].received_total, 10);
  });

  test('-s 50, as tcpdump takes it: frames cut past the UDP header (no DNS to read), yet counted whole', async () => {
    const agent = startAgent(['--config', noConfig, '-i', IF_AGENT, '-s', '50', '--stdout', '--data', join(root, 'data-snaplen'), '--user', 'nobody', 'udp', 'port', String(DNS_PORT)]);
    try {
      await started(agent);
      nodeIn(NS_PEER, DNS_CLIENT, [ADDR_AGENT, DNS_PORT, 'a.loopy.test', 'b.loopy.test']);
      await moreSeconds(agent, 2);
      assert.equal(await agent.stop(), 0, agent.stderrText);
    } finally {
      await agent.stop(5000);
    }
    // 14 + 20 + 8 header bytes leave 8 of the 12 of a DNS header: no query can be read.
    assert.deepEqual(ofType(agent.out, 'dns'), []);
    const conns = ofType(agent.out, 'conn');
    assert.deepEqual(conns.map((c) => [c.proto, c['id.resp_p'], c.orig_pkts, c.resp_pkts]), [['udp', DNS_PORT, 2, 2]]);
    assert.ok(conns[0].orig_bytes > 2 * 8, 'bytes come from the wire length, not the cut frame');
  });

  test('-i lo: loopback traffic counts once in the stats, in + out = its packets and IP bytes', async () => {
    const agent = startAgent(['--config', noConfig, '-i', 'lo', '--stdout', '--data', join(root, 'data-lo'), '--user', 'nobody']);
    try {
      await started(agent);
      // Client and server both in the agent's namespace: every packet crosses lo, and both ends are 127.0.0.1.
      nodeIn(NS_AGENT, TCP_CLIENTS, ['127.0.0.1', TCP_PORT, '3000:7000']);
      await moreSeconds(agent, 2);
      assert.equal(await agent.stop(), 0, agent.stderrText);
    } finally {
      await agent.stop(5000);
    }
    const conns = ofType(agent.out, 'conn');
    assert.deepEqual(conns.map((c) => [c['id.orig_h'], c['id.resp_h'], c.orig_bytes, c.resp_bytes]), [['127.0.0.1', '127.0.0.1', 3000, 7000]]);
    const stats = ofType(agent.out, 'stats');
    const total = (key: string) => stats.reduce((n, r) => n + r[key], 0);
    assert.equal(total('packets_in') + total('packets_out'), total('packets'));
    assert.equal(total('packets'), conns[0].orig_pkts + conns[0].resp_pkts);
    // As the server (the responder) sees it: the client's bytes came in, its answers went out.
    assert.deepEqual([total('bytes_in'), total('bytes_out')], [conns[0].orig_ip_bytes, conns[0].resp_ip_bytes]);
  });
});
