/**
 * Detection on the live agent against real attack tools (root only): two network namespaces joined by a veth
 * pair (src/serve/agent-netns.test-util.ts), `loopy agent -i VETH --stdout` in one, nmap / hping3 / dig /
 * arping in the other, every run bounded in count and time and kept between the test's own 10.250.x.x
 * addresses. Each case starts a fresh agent (so no incident carries over), runs one tool, and checks that
 * exactly the expected alert opens, from the expected host, within 2 s of the tool's first packet, and that
 * its evidence pcap is there and tcpdump reads it. Skipped loudly when not root or a tool is missing; in CI
 * (process.env.CI) a skip is a failure.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { captureAddonProblem } from '../capture/live-addon.js';
import { ADDR_AGENT, ADDR_PEER, IF_AGENT, type JsonChild, NS_AGENT, NS_PEER, setUpNamespaces, startAgent, startNode, tearDownNamespaces } from '../serve/agent-netns.test-util.js';

/** Tools the cases run, with the Debian package that has each (the .ci/run apt line installs them). */
const TOOLS: Array<[cmd: string, versionArgs: string[], pkg: string]> = [
  ['ip', ['-V'], 'iproute2'],
  ['tcpdump', ['--version'], 'tcpdump'],
  ['nmap', ['--version'], 'nmap'],
  ['hping3', ['--version'], 'hping3'],
  ['dig', ['-v'], 'dnsutils'],
  ['arping', ['-V'], 'iputils-arping'],
  ['/usr/sbin/sshd', ['-V'], 'openssh-server'],
  ['ssh', ['-V'], 'openssh-client'],
  ['sftp', ['-h'], 'openssh-client'],
  ['ssh-keygen', ['-?'], 'openssh-client'],
  ['hydra', ['-h'], 'hydra'],
  ['iperf3', ['-v'], 'iperf3'],
  ['curl', ['-V'], 'curl'],
  ['iodine', ['-v'], 'iodine'],
  ['iodined', ['-v'], 'iodine'],
];

function skipReason(): string | false {
  let reason: string | false = captureAddonProblem() ?? false;
  if (!reason && process.getuid?.() !== 0) reason = 'the live detection tests need root (they create network namespaces)';
  for (const [cmd, args, pkg] of TOOLS) {
    if (reason) break;
    const r = spawnSync(cmd, args, { stdio: 'ignore', timeout: 10_000 });
    if (r.error) reason = `${cmd} (${pkg}) is not installed`;
  }
  if (reason && process.env.CI) throw new Error(`${reason} (required in CI)`);
  if (reason) console.warn(`SKIPPING live detection tests: ${reason}`);
  return reason;
}

/** The registered domain the tunnelling client encodes its data under (".test" is reserved: RFC 2606). */
const TUNNEL_DOMAIN = 'exfil.test';

/**
 * A tiny DNS responder (node:dgram, in the agent's namespace). argv: port tunnelDomains (comma-separated).
 * One question per query; names under a tunnel domain get NOERROR and one TXT answer "ok" (a tunnel's server answers), any other
 * name NXDOMAIN. Prints {"event":"ready"}; runs until its stdin closes.
 */
const DNS_RESPONDER = `
const dgram = require('node:dgram');
const [port, domains] = [Number(process.argv[1]), process.argv[2].split(',')];
const s = dgram.createSocket('udp4');
s.on('message', (q, peer) => {
  let at = 12; const labels = [];
  while (at < q.length && q[at] !== 0) { labels.push(q.toString('latin1', at + 1, at + 1 + q[at])); at += 1 + q[at]; }
  const question = q.subarray(12, at + 5);
  const name = labels.join('.').toLowerCase();
  const ours = domains.some((domain) => name === domain || name.endsWith('.' + domain) || name.startsWith(domain + '.'));
  const header = Buffer.alloc(12);
  header.writeUInt16BE(q.readUInt16BE(0), 0);
  header.writeUInt16BE(ours ? 0x8180 : 0x8183, 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(ours ? 1 : 0, 6);
  // Answer: pointer to the question's name, TYPE 16 (TXT), CLASS 1, TTL 0, RDLENGTH 3, one string "ok".
  const answer = ours ? Buffer.from([0xc0, 0x0c, 0, 16, 0, 1, 0, 0, 0, 0, 0, 3, 2, 0x6f, 0x6b]) : Buffer.alloc(0);
  s.send(Buffer.concat([header, question, answer]), peer.port, peer.address);
});
s.bind(port, () => console.log(JSON.stringify({ event: 'ready' })));
process.stdin.on('end', () => s.close());
process.stdin.resume();
`;

/** The domain iodined serves in the iodine case (its own "topdomain"). */
const IODINE_DOMAIN = 'tun.iodine.test';

/** The single label a dnscat2-like client puts its hex under (dnscat2 without --domain tags its names so). */
const DNSCAT_BASE = 'dnscat';

/**
 * A dnscat2-like client (node:dgram, in the peer's namespace). argv: resolver count. `count` queries, one
 * every 400 ms (2.5/s), each a new hex-encoded "packet" (36 hex characters for a poll, 63 + 40 for data)
 * under the single label "dnscat", rotating TXT, CNAME and MX as dnscat2 does; answers are read and ignored.
 */
const DNSCAT_CLIENT = `
const dgram = require('node:dgram');
const crypto = require('node:crypto');
const [resolver, count] = [process.argv[1], Number(process.argv[2])];
const s = dgram.createSocket('udp4');
s.on('message', () => {});
const types = [16, 5, 15];
let i = 0;
const send = () => {
  const hex = (n) => crypto.randomBytes(n).toString('hex');
  const labels = (i % 4 === 3 ? [hex(31) + 'a', hex(20)] : [hex(18)]).concat(['dnscat']);
  const name = Buffer.concat(labels.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])));
  const header = Buffer.from([i >> 8, i & 255, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
  s.send(Buffer.concat([header, name, Buffer.from([0, 0, types[i % 3], 0, 1])]), 53, resolver);
  if (++i < count) setTimeout(send, 400); else setTimeout(() => s.close(), 500);
};
send();
`;

type Rec = Record<string, any>;
const root = mkdtempSync(join(tmpdir(), 'loopy-live-tools-'));
chmodSync(root, 0o755); // the agent drops root for nobody and must still reach its data directory below this one
// An empty config file: default thresholds, and whatever /etc/loopy/agent.json holds here plays no part.
const noConfig = join(root, 'empty.json');
writeFileSync(noConfig, '{}');
chmodSync(noConfig, 0o644);

interface ToolRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a command in the peer namespace without blocking the event loop (the agent's stdout keeps draining),
 * killed after `timeoutMs`.
 */
function inPeer(args: string[], timeoutMs = 20_000): Promise<ToolRun> {
  return new Promise((resolve) => {
    const child = spawn('ip', ['netns', 'exec', NS_PEER, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

/** Lower-case letters and digits, `n` of them, from the crypto RNG (what an encoder's output looks like). */
function randomLabel(n: number): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return [...randomBytes(n)].map((b) => alphabet[b % alphabet.length]).join('');
}

/** dig in batch mode (-f): one process, the queries one after the other, each given 1 s and no retry. */
async function digBatch(lines: string[], name: string): Promise<ToolRun> {
  const file = join(root, `${name}.queries`);
  writeFileSync(file, lines.join('\n') + '\n');
  const r = await inPeer(['dig', `@${ADDR_AGENT}`, '+tries=1', '+time=1', '+short', '-f', file], 30_000);
  assert.equal(r.status, 0, `dig: ${r.stderr}`);
  return r;
}

interface Expected {
  detector: string;
  src?: string;
  dst?: string;
  /** Seconds from the tool's start the alert may take (default 2: a flood or a scan is evident at once). */
  within?: number;
  /** Detection settings (--detect-config), for thresholds a bounded test can reach. */
  detect?: unknown;
}

/**
 * One case: a fresh agent, `traffic` run once it captures, then the agent's stream read until the expected
 * alert opens (bounded), a little longer to catch any other alert, and the agent stopped (its end of input
 * writes the evidence still waiting). Returns the alert records and the time the tool started.
 */
async function runCase(name: string, expected: Expected, traffic: () => Promise<number>): Promise<{ opens: Rec[]; delay: number }> {
  const detect: string[] = [];
  if (expected.detect !== undefined) {
    const file = join(root, `${name}-detect.json`);
    writeFileSync(file, JSON.stringify(expected.detect), { mode: 0o644 });
    detect.push('--detect-config', file);
  }
  const agent = startAgent(['--config', noConfig, '-i', IF_AGENT, '--stdout', '--data', join(root, `data-${name}`), ...detect]);
  let started = 0;
  try {
    const ok = await agent.until(() => agent.err.some((l) => typeof l.msg === 'string' && l.msg.startsWith('capturing on ')));
    assert.ok(ok, `the agent did not start: ${agent.stderrText}`);
    started = await traffic();
    const opened = () => agent.out.some((r) => r.type === 'alert' && r.state === 'open' && r.detector === expected.detector);
    await agent.until(opened, 6_000 + (expected.within ?? 0) * 1000);
    // Any other alert the same traffic would raise opens within the same few seconds.
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(await agent.stop(), 0, agent.stderrText);
  } finally {
    await agent.stop(5000);
  }
  // capture_loss is about the monitor, not the traffic (as in quietCase): a loaded machine may drop some of a
  // 1 Gbit/s transfer, and saying so is right.
  const opens = agent.out.filter((r) => r.type === 'alert' && r.state === 'open' && (r.detector !== 'capture_loss' || expected.detector === 'capture_loss'));
  const seen = opens.map((a) => `${a.detector} ${a.src ?? '-'} -> ${a.dst ?? '-'}: ${a.message}`);
  assert.equal(opens.length, 1, `exactly one alert should open; got ${opens.length}: ${JSON.stringify(seen)}`);
  const [alert] = opens;
  assert.deepEqual(
    { detector: alert.detector, src: alert.src, dst: alert.dst },
    { detector: expected.detector, src: expected.src, dst: expected.dst },
    alert.message,
  );
  // Capture time (kernel timestamps) against the wall clock read just before the tool started.
  const delay = alert.ts - started;
  const within = expected.within ?? 2;
  assert.ok(delay > -0.05 && delay <= within, `the alert fired ${delay.toFixed(3)} s after the tool started (${within} s at most)`);
  return { opens, delay };
}

/**
 * Benign traffic: a fresh agent, `traffic` run once it captures, then a few seconds for any alert to open;
 * none may. Returns the agent's records (for checks that the traffic was seen at all).
 */
async function quietCase(name: string, traffic: () => Promise<void>): Promise<Rec[]> {
  const agent = startAgent(['--config', noConfig, '-i', IF_AGENT, '--stdout', '--data', join(root, `data-${name}`)]);
  try {
    const ok = await agent.until(() => agent.err.some((l) => typeof l.msg === 'string' && l.msg.startsWith('capturing on ')));
    assert.ok(ok, `the agent did not start: ${agent.stderrText}`);
    await traffic();
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal(await agent.stop(), 0, agent.stderrText);
  } finally {
    await agent.stop(5000);
  }
  // capture_loss is about the monitor, not the traffic: a transfer at full speed may outrun a small CI
  // machine's capture, and saying so is right.
  const opens = agent.out
    .filter((r) => r.type === 'alert' && r.state === 'open' && r.detector !== 'capture_loss')
    .map((a) => `${a.detector} ${a.src ?? '-'} -> ${a.dst ?? '-'}: ${a.message}`);
  assert.deepEqual(opens, [], 'benign traffic raises no alert');
  return agent.out;
}

/**
 * A throwaway sshd in the agent's namespace on ADDR_AGENT:22: root may log in by the test's key, or try
 * passwords (root has none that works here, so every password is wrong). Keys and config in `dir`.
 */
async function startSshd(dir: string): Promise<{ stop: () => Promise<void>; clientArgs: string[] }> {
  mkdirSync(dir, { mode: 0o700 });
  for (const key of ['host', 'client']) spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, key)], { timeout: 10_000 });
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'client.pub')), { mode: 0o600 });
  const lines = [
    'Port 22', `ListenAddress ${ADDR_AGENT}`, `HostKey ${join(dir, 'host')}`, `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
    'PermitRootLogin yes', 'PasswordAuthentication yes', 'KbdInteractiveAuthentication no', 'UsePAM no', 'StrictModes no', 'MaxStartups 100',
    'Subsystem sftp internal-sftp',
    `PidFile ${join(dir, 'sshd.pid')}`,
  ];
  const config = join(dir, 'sshd_config');
  // OpenSSH 9.8 and later shut out a source after failed logins: the guessing must reach the server.
  writeFileSync(config, [...lines, 'PerSourcePenalties no'].join('\n') + '\n');
  if (spawnSync('/usr/sbin/sshd', ['-t', '-f', config], { timeout: 10_000 }).status !== 0) writeFileSync(config, lines.join('\n') + '\n');
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const sshd = spawn('ip', ['netns', 'exec', NS_AGENT, '/usr/sbin/sshd', '-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  sshd.stderr.on('data', (d) => (log += d));
  const stop = async () => {
    if (sshd.exitCode !== null || sshd.signalCode !== null) return;
    sshd.kill('SIGTERM');
    await new Promise((r) => sshd.once('exit', r));
  };
  for (let i = 0; i < 100 && !log.includes('Server listening'); i++) await new Promise((r) => setTimeout(r, 50));
  if (!log.includes('Server listening')) {
    await stop();
    throw new Error(`sshd did not start: ${log}`);
  }
  // curve25519: the cheapest key exchange both ends have (the post-quantum default costs more CPU).
  const clientArgs = ['-F', '/dev/null', '-i', join(dir, 'client'), '-o', 'UserKnownHostsFile=/dev/null', '-o', 'StrictHostKeyChecking=no', '-o', 'BatchMode=yes', '-o', 'LogLevel=ERROR', '-o', 'KexAlgorithms=curve25519-sha256', '-o', 'ConnectTimeout=30'];
  return { stop, clientArgs };
}

/** The evidence pcap of the alert exists and tcpdump reads it; returns its packet count. */
function evidencePackets(alert: Rec): number {
  const pcap = alert.evidence?.pcap as string | undefined;
  assert.ok(pcap, `the alert names no evidence pcap: ${JSON.stringify(alert.evidence)}`);
  assert.ok(existsSync(pcap), `no evidence file at ${pcap}`);
  const r = spawnSync('tcpdump', ['-n', '-r', pcap], { encoding: 'utf8', timeout: 10_000 });
  assert.equal(r.status, 0, `tcpdump -r ${pcap}: ${r.stderr}`);
  return r.stdout.split('\n').filter(Boolean).length;
}

describe('live detection: real tools between two network namespaces', { skip: skipReason() }, () => {
  let dns: JsonChild | undefined;

  before(async () => {
    setUpNamespaces();
    dns = startNode(NS_AGENT, DNS_RESPONDER, [53, `${TUNNEL_DOMAIN},${DNSCAT_BASE}`]);
    assert.ok(await dns.until(() => dns!.out.some((l) => l.event === 'ready')), `dns responder: ${dns.stderrText}`);
  });

  after(async () => {
    dns?.child.stdin.end();
    await dns?.stop(5000);
    tearDownNamespaces();
    rmSync(root, { recursive: true, force: true });
  });

  test('nmap -sS -p 1-1000 → port_scan from the scanner', async (t) => {
    const { opens, delay } = await runCase('nmap-ss', { detector: 'port_scan', src: ADDR_PEER, dst: ADDR_AGENT }, async () => {
      const t = Date.now() / 1000;
      const r = await inPeer(['nmap', '-n', '-Pn', '-sS', '-p', '1-1000', '--max-rate', '2000', '--max-retries', '1', '--host-timeout', '20s', ADDR_AGENT]);
      assert.equal(r.status, 0, `nmap: ${r.stderr}`);
      assert.match(r.stdout, /1000 closed/, r.stdout);
      return t;
    });
    // The alert opens when the decayed count of distinct refused ports reaches slowMinPorts (20 by default).
    assert.ok(opens[0].evidence.counters.distinct_ports >= 20, JSON.stringify(opens[0].evidence.counters));
    const packets = evidencePackets(opens[0]);
    t.diagnostic(`alert ${delay.toFixed(3)} s after the tool started; evidence: ${packets} packets`);
    assert.ok(packets > 0);
  });

  test('nmap -sT -p 1-500 → port_scan from the scanner', async (t) => {
    const { opens, delay } = await runCase('nmap-st', { detector: 'port_scan', src: ADDR_PEER, dst: ADDR_AGENT }, async () => {
      const t = Date.now() / 1000;
      const r = await inPeer(['nmap', '-n', '-Pn', '-sT', '-p', '1-500', '--max-retries', '1', '--host-timeout', '20s', ADDR_AGENT]);
      assert.equal(r.status, 0, `nmap: ${r.stderr}`);
      assert.match(r.stdout, /500 closed/, r.stdout);
      return t;
    });
    const packets = evidencePackets(opens[0]);
    t.diagnostic(`alert ${delay.toFixed(3)} s after the tool started; evidence: ${packets} packets`);
    assert.ok(packets > 0);
  });

  for (const [scan, kind] of [['-sX', 'Xmas'], ['-sA', 'ACK']] as const) {
    test(`nmap ${scan} -p 1-500 (an ${kind} scan: no SYN) → port_scan from the scanner, named for its probes`, async (t) => {
      const { opens, delay } = await runCase(`nmap${scan}`, { detector: 'port_scan', src: ADDR_PEER, dst: ADDR_AGENT, within: 5 }, async () => {
        const t = Date.now() / 1000;
        const r = await inPeer(['nmap', '-n', '-Pn', scan, '-p', '1-500', '--max-rate', '2000', '--max-retries', '1', '--host-timeout', '20s', ADDR_AGENT]);
        assert.equal(r.status, 0, `nmap: ${r.stderr}`);
        return t;
      });
      assert.match(opens[0].message, /with probes that open no connection/, opens[0].message);
      assert.ok(opens[0].evidence.counters.no_syn >= 20, JSON.stringify(opens[0].evidence.counters));
      t.diagnostic(`alert ${delay.toFixed(3)} s after nmap started: ${opens[0].message}`);
    });
  }

  test('hping3 -S flood of 3000 SYNs to port 80 → syn_flood against the target', async (t) => {
    const { opens, delay } = await runCase('hping3', { detector: 'syn_flood', src: ADDR_PEER, dst: ADDR_AGENT }, async () => {
      const t = Date.now() / 1000;
      const r = await inPeer(['hping3', '-q', '-S', '-p', '80', '-c', '3000', '-i', 'u200', ADDR_AGENT], 30_000);
      assert.notEqual(r.status, null, `hping3 did not finish: ${r.stderr}`);
      return t;
    });
    assert.ok(opens[0].evidence.counters.failed_handshakes >= 400);
    const packets = evidencePackets(opens[0]);
    t.diagnostic(`alert ${delay.toFixed(3)} s after the tool started; evidence: ${packets} packets`);
    assert.ok(packets > 0);
  });

  test('hping3 -S -d 200 -f: 3000 SYNs carrying data, each in 8-byte fragments → syn_flood against the target', async (t) => {
    const { opens, delay } = await runCase('hping3-data', { detector: 'syn_flood', src: ADDR_PEER, dst: ADDR_AGENT }, async () => {
      const t = Date.now() / 1000;
      const r = await inPeer(['hping3', '-q', '-S', '-d', '200', '-f', '-p', '80', '-c', '3000', '-i', 'u300', ADDR_AGENT], 30_000);
      assert.notEqual(r.status, null, `hping3 did not finish: ${r.stderr}`);
      return t;
    });
    assert.ok(opens[0].evidence.counters.failed_handshakes >= 400, JSON.stringify(opens[0].evidence.counters));
    t.diagnostic(`alert ${delay.toFixed(3)} s after the tool started: ${opens[0].message}`);
  });

  test('hping3 -R --flood for 2 s (resets nothing asked for) → one volume alert from the sender', async (t) => {
    const { opens, delay } = await runCase('rst-flood', { detector: 'volume', src: ADDR_PEER, dst: ADDR_AGENT }, async () => {
      const t = Date.now() / 1000;
      const r = await inPeer(['timeout', '2', 'hping3', '-q', '-R', '-p', '80', '--flood', ADDR_AGENT], 10_000);
      assert.notEqual(r.status, null, `hping3 did not stop: ${r.stderr}`);
      return t;
    });
    t.diagnostic(`alert ${delay.toFixed(3)} s after the tool started: ${opens[0].message}`);
  });

  test('hping3 --udp: 20000 packets to a closed port → one udp_flood from the sender', async (t) => {
    const { opens, delay } = await runCase('udp-flood', { detector: 'udp_flood', src: ADDR_PEER, dst: ADDR_AGENT }, async () => {
      const t = Date.now() / 1000;
      // -i u100: up to 10,000 packets/s for 2 s (a flood, bounded; the hping3 --flood managed 3,300/s).
      const r = await inPeer(['hping3', '-q', '--udp', '-p', '9', '-i', 'u100', '-c', '20000', ADDR_AGENT], 30_000);
      assert.notEqual(r.status, null, `hping3 did not finish: ${r.stderr}`);
      return t;
    });
    assert.ok(opens[0].evidence.counters.packets >= 5000, JSON.stringify(opens[0].evidence.counters));
    t.diagnostic(`alert ${delay.toFixed(3)} s after the tool started: ${opens[0].message}`);
  });

  test('iperf3 TCP at full speed, 400 MB each way between the two hosts → nothing', async (t) => {
    const server = spawn('ip', ['netns', 'exec', NS_AGENT, 'iperf3', '-s', '-1', '-B', ADDR_AGENT], { stdio: 'ignore' });
    try {
      await new Promise((r) => setTimeout(r, 300));
      let report = '';
      await quietCase('iperf3', async () => {
        const r = await inPeer(['iperf3', '-c', ADDR_AGENT, '-n', '400M', '--bidir', '-J'], 30_000);
        assert.equal(r.status, 0, `iperf3: ${r.stderr}`);
        const sum = JSON.parse(r.stdout).end.sum_sent;
        report = `${Math.round(sum.bits_per_second / 1e6)} Mbit/s`;
      });
      t.diagnostic(`iperf3 sent at ${report}`);
    } finally {
      server.kill('SIGKILL');
    }
  });

  test('iperf3: 300 MB at 1 Gbit/s with large_transfer at 200 MB → one large_transfer naming sender and receiver', async (t) => {
    const server = spawn('ip', ['netns', 'exec', NS_AGENT, 'iperf3', '-s', '-1', '-B', ADDR_AGENT], { stdio: 'ignore' });
    try {
      await new Promise((r) => setTimeout(r, 300));
      // 200 MB moves in 1.6 s at 1 Gbit/s (a rate the capture keeps up with; the default 1 GB would take 8 s).
      const detect = { detectors: { large_transfer: { minBytes: 200_000_000 } } };
      const { opens, delay } = await runCase('large-transfer', { detector: 'large_transfer', src: ADDR_PEER, dst: ADDR_AGENT, within: 4, detect }, async () => {
        const t = Date.now() / 1000;
        const r = await inPeer(['iperf3', '-c', ADDR_AGENT, '-n', '300M', '-b', '1G'], 30_000);
        assert.equal(r.status, 0, `iperf3: ${r.stderr}`);
        return t;
      });
      assert.ok(opens[0].evidence.counters.bytes >= 200_000_000, JSON.stringify(opens[0].evidence.counters));
      t.diagnostic(`alert ${delay.toFixed(3)} s after iperf3 started: ${opens[0].message}`);
    } finally {
      server.kill('SIGKILL');
    }
  });

  test('150 parallel HTTP requests (curl --parallel) to a web server → nothing', async (t) => {
    // A node server: its listen backlog (511) takes the burst, as a production server's does.
    const code = `require('node:http').createServer((q, s) => s.end('ok')).listen(8001, process.argv[1], () => console.log(JSON.stringify({ event: 'ready' })));`;
    const web = startNode(NS_AGENT, code, [ADDR_AGENT]);
    try {
      assert.ok(await web.until(() => web.out.some((l) => l.event === 'ready')), `web server: ${web.stderrText}`);
      const records = await quietCase('http-parallel', async () => {
        const r = await inPeer(['curl', '-s', '--parallel', '--parallel-immediate', '--parallel-max', '150', '--max-time', '10', '-w', '%{http_code}\\n', `http://${ADDR_AGENT}:8001/[1-150]`], 30_000);
        assert.equal(r.stdout.match(/200/g)?.length, 150, `every request answered: ${r.stderr}`);
      });
      const conns = records.filter((r) => r.type === 'conn' && r['id.resp_p'] === 8001);
      assert.equal(conns.length, 150, 'the agent saw the 150 connections');
      t.diagnostic(`${conns.length} connections, ${new Set(conns.map((c) => c['id.orig_p'])).size} client ports`);
    } finally {
      await web.stop(5000);
    }
  });

  test('curl every second to a python http.server (beaconing at 1 s, 8 contacts, scope all) → one beaconing', async (t) => {
    const server = spawn('ip', ['netns', 'exec', NS_AGENT, 'python3', '-m', 'http.server', '8000', '--bind', ADDR_AGENT], { stdio: 'ignore', cwd: root });
    try {
      await new Promise((r) => setTimeout(r, 800));
      // The defaults judge 12 contacts at 10 s to 15 min apart, to outside hosts; a test cannot wait that long.
      const detect = { detectors: { beaconing: { scope: 'all', minInterval: 0.5, minEvents: 8 } } };
      const { opens, delay } = await runCase('beacon', { detector: 'beaconing', src: ADDR_PEER, dst: ADDR_AGENT, within: 10, detect }, async () => {
        const t = Date.now() / 1000;
        const loop = `for i in 1 2 3 4 5 6 7 8 9 10; do curl -s -o /dev/null --max-time 2 http://${ADDR_AGENT}:8000/; sleep 1; done`;
        const r = await inPeer(['sh', '-c', loop], 30_000);
        assert.equal(r.status, 0, `curl loop: ${r.stderr}`);
        return t;
      });
      assert.ok(opens[0].evidence.counters.contacts >= 8, JSON.stringify(opens[0].evidence.counters));
      t.diagnostic(`alert ${delay.toFixed(3)} s after the heartbeat started: ${opens[0].message}`);
    } finally {
      server.kill('SIGKILL');
    }
  });

  test('ping -f of 5000 echo requests → one icmp_flood on the target (its replies raise nothing on the sender)', async (t) => {
    const { opens, delay } = await runCase('ping-flood', { detector: 'icmp_flood', src: ADDR_PEER, dst: ADDR_AGENT }, async () => {
      const t = Date.now() / 1000;
      const r = await inPeer(['ping', '-f', '-q', '-n', '-c', '5000', '-w', '20', ADDR_AGENT], 30_000);
      assert.equal(r.status, 0, `ping -f: ${r.stdout} ${r.stderr}`);
      return t;
    });
    assert.ok(opens[0].evidence.counters.echo_requests >= 1000, JSON.stringify(opens[0].evidence.counters));
    t.diagnostic(`alert ${delay.toFixed(3)} s after the tool started`);
  });

  test('dig: 300 TXT queries for long random subdomains of one domain → dns_tunnel from the client', async (t) => {
    const { opens, delay } = await runCase('dns-tunnel', { detector: 'dns_tunnel', src: ADDR_PEER, dst: ADDR_AGENT }, async () => {
      // 48 random characters: one label past the detector's 40 (data encoded in base32 looks like this).
      const lines = Array.from({ length: 300 }, () => `${randomLabel(48)}.${TUNNEL_DOMAIN} TXT`);
      const t = Date.now() / 1000;
      const r = await digBatch(lines, 'tunnel');
      assert.equal(r.stdout.split('\n').filter((l) => l === '"ok"').length, 300, 'every query was answered');
      return t;
    });
    assert.equal(opens[0].evidence.domain, TUNNEL_DOMAIN);
    assert.ok(opens[0].evidence.counters.score >= 24, JSON.stringify(opens[0].evidence.counters));
    const packets = evidencePackets(opens[0]);
    t.diagnostic(`alert ${delay.toFixed(3)} s after the tool started; evidence: ${packets} packets`);
    assert.ok(packets > 0);
  });

  test('nmap -sS --scan-delay 500ms over 25 ports → port_scan (slow rule) at its 20th port', async (t) => {
    const { opens, delay } = await runCase('nmap-slow', { detector: 'port_scan', src: ADDR_PEER, dst: ADDR_AGENT, within: 12 }, async () => {
      const t = Date.now() / 1000;
      const r = await inPeer(['nmap', '-n', '-Pn', '-sS', '-p', '1-25', '--scan-delay', '500ms', '--max-retries', '0', '--host-timeout', '30s', ADDR_AGENT], 40_000);
      assert.equal(r.status, 0, `nmap: ${r.stderr}`);
      return t;
    });
    assert.ok(opens[0].evidence.counters.distinct_ports >= 20 && opens[0].evidence.counters.distinct_ports < 25, opens[0].message);
    assert.match(opens[0].message, /in \d+(\.\d)? s \(\d(\.\d)? ports\/s\)$/);
    t.diagnostic(`alert ${delay.toFixed(3)} s after nmap started: ${opens[0].message}`);
  });

  test('a slow ping sweep (one host every 1.5 s) over 24 hosts → host_sweep (slow rule) at about its 21st host', async (t) => {
    // The swept hosts are routed through the agent's host, which does not forward: every echo goes unanswered.
    const swept = `10.252.${process.pid % 250}`;
    spawnSync('ip', ['-n', NS_PEER, 'route', 'replace', `${swept}.0/24`, 'via', ADDR_AGENT], { timeout: 10_000 });
    const { opens, delay } = await runCase('nmap-sweep', { detector: 'host_sweep', src: ADDR_PEER, within: 60 }, async () => {
      const t = Date.now() / 1000;
      // nmap -sn pings a group of hosts at once whatever its --scan-delay: a loop of single pings is slow for sure.
      const r = await inPeer(['sh', '-c', `for i in $(seq 1 24); do ping -n -c 1 -W 1 ${swept}.$i; sleep 0.5; done`], 90_000);
      assert.match(r.stdout, /(1 packets transmitted, 0 received[^]*){24}/, `every ping went out unanswered: ${r.stdout}`);
      return t;
    });
    const hosts = opens[0].evidence.counters.distinct_hosts;
    assert.ok(hosts >= 20 && hosts < 24, opens[0].message);
    assert.match(opens[0].message, /^\S+ pinged \d+ hosts in \d+ s \(\d+(\.\d)? hosts\/(s|min)\), 0 answered$/);
    assert.ok(opens[0].evidence.hosts_per_second < 1, `a slow sweep: ${opens[0].message}`);
    t.diagnostic(`alert ${delay.toFixed(3)} s after the sweep started: ${opens[0].message}`);
  });

  test('nmap -sU on 20 closed ports → port_scan from the scanner', async (t) => {
    const { opens, delay } = await runCase('nmap-su', { detector: 'port_scan', src: ADDR_PEER, dst: ADDR_AGENT, within: 5 }, async () => {
      const t = Date.now() / 1000;
      const r = await inPeer(['nmap', '-n', '-Pn', '-sU', '-p', '2000-2019', '--max-retries', '1', '--host-timeout', '30s', ADDR_AGENT], 40_000);
      assert.equal(r.status, 0, `nmap: ${r.stderr}`);
      return t;
    });
    assert.ok(opens[0].evidence.udp_ports >= 20, opens[0].message);
    t.diagnostic(`alert ${delay.toFixed(3)} s after nmap started: ${opens[0].message}`);
  });

  test('a dnscat2-like client: hex under the single label "dnscat" at 2.5 queries/s → dns_tunnel within 4 s', async (t) => {
    const { opens, delay } = await runCase('dnscat', { detector: 'dns_tunnel', src: ADDR_PEER, dst: ADDR_AGENT, within: 4 }, async () => {
      const t = Date.now() / 1000;
      const client = startNode(NS_PEER, DNSCAT_CLIENT, [ADDR_AGENT, 15]);
      assert.ok(await client.until(() => client.child.exitCode !== null, 15_000), `dnscat client: ${client.stderrText}`);
      return t;
    });
    assert.equal(opens[0].evidence.domain, DNSCAT_BASE);
    t.diagnostic(`alert ${delay.toFixed(3)} s after the client started: ${opens[0].message}`);
  });

  test('iodine through iodined: the handshake (NULL queries of encoded names) → dns_tunnel within 2 s', async (t) => {
    // iodined needs port 53, where the suite's responder listens: it steps aside for this case.
    dns?.child.stdin.end();
    await dns?.stop(5000);
    const id = process.pid % 100000;
    const server = spawn('ip', ['netns', 'exec', NS_AGENT, 'iodined', '-f', '-c', '-P', 'loopy-test', '-d', `iod${id}s`, `10.254.${id % 250}.1/27`, IODINE_DOMAIN], { stdio: ['ignore', 'pipe', 'pipe'] });
    let serverLog = '';
    server.stdout.on('data', (d) => (serverLog += d));
    server.stderr.on('data', (d) => (serverLog += d));
    try {
      for (let i = 0; i < 100 && !serverLog.includes('Listening'); i++) await new Promise((r) => setTimeout(r, 50));
      assert.match(serverLog, /Listening/, `iodined did not start: ${serverLog}`);
      const { opens, delay } = await runCase('iodine', { detector: 'dns_tunnel', src: ADDR_PEER, dst: ADDR_AGENT }, async () => {
        const t = Date.now() / 1000;
        // -r: stay in DNS (no raw UDP); stopped once the tunnel is up, or after 10 s.
        const client = spawn('ip', ['netns', 'exec', NS_PEER, 'iodine', '-f', '-r', '-P', 'loopy-test', '-d', `iod${id}c`, ADDR_AGENT, IODINE_DOMAIN], { stdio: ['ignore', 'pipe', 'pipe'] });
        let clientLog = '';
        client.stdout.on('data', (d) => (clientLog += d));
        client.stderr.on('data', (d) => (clientLog += d));
        for (let i = 0; i < 200 && !clientLog.includes('Connection setup complete'); i++) await new Promise((r) => setTimeout(r, 50));
        client.kill('SIGTERM');
        await new Promise((r) => (client.exitCode !== null ? r(null) : client.once('exit', r)));
        assert.match(clientLog, /Connection setup complete/, `iodine did not connect: ${clientLog}`);
        return t;
      });
      assert.ok(opens[0].evidence.counters.tunnel_type_names >= 1, JSON.stringify(opens[0].evidence.counters));
      t.diagnostic(`alert ${delay.toFixed(3)} s after iodine started: ${opens[0].message}`);
    } finally {
      server.kill('SIGTERM');
      await new Promise((r) => (server.exitCode !== null ? r(null) : server.once('exit', r)));
      dns = startNode(NS_AGENT, DNS_RESPONDER, [53, `${TUNNEL_DOMAIN},${DNSCAT_BASE}`]);
      assert.ok(await dns.until(() => dns!.out.some((l) => l.event === 'ready')), `dns responder: ${dns.stderrText}`);
    }
  });

  test('dig: 200 ordinary names (words under 10 domains, A and AAAA, reverse lookups) → nothing', async () => {
    const words = ['mail', 'www', 'cdn', 'static', 'api', 'login', 'images', 'video', 'edge', 'assets', 'docs', 'news', 'shop', 'status', 'auth', 'media', 'search', 'maps', 'cloud', 'app'];
    const lines = Array.from({ length: 200 }, (_, i) => (i % 10 === 9 ? `-x 10.250.${i}.${(i * 7) % 250}` : `${words[i % 20]}${i % 3 ? '' : i}.site${i % 10}.${TUNNEL_DOMAIN} ${i % 2 ? 'AAAA' : 'A'}`));
    await quietCase('dns-ordinary', async () => {
      await digBatch(lines, 'ordinary');
    });
  });

  test('dig: 80 random names under 80 domains answered NXDOMAIN → nxdomain_burst from the client', async (t) => {
    const { opens, delay } = await runCase('nxdomain', { detector: 'nxdomain_burst', src: ADDR_PEER, dst: ADDR_AGENT }, async () => {
      // DGA-like: a random second-level name per query, no subdomain (so nothing looks like a tunnel).
      const lines = Array.from({ length: 80 }, () => `${randomLabel(12)}.net A`);
      const t = Date.now() / 1000;
      await digBatch(lines, 'nxdomain');
      return t;
    });
    assert.ok(opens[0].evidence.counters.distinct_names >= 50 && opens[0].evidence.counters.distinct_domains >= 20);
    const packets = evidencePackets(opens[0]);
    t.diagnostic(`alert ${delay.toFixed(3)} s after the tool started; evidence: ${packets} packets`);
    assert.ok(packets > 0);
  });

  describe('against a throwaway sshd', () => {
    let sshd: Awaited<ReturnType<typeof startSshd>> | undefined;
    before(async () => {
      sshd = await startSshd(join(root, 'sshd'));
    });
    after(async () => {
      await sshd?.stop();
    });

    test('hydra: 30 wrong passwords for root → one ssh_guessing from the attacker to the server', async (t) => {
      const passwords = join(root, 'passwords.txt');
      writeFileSync(passwords, Array.from({ length: 30 }, (_, i) => `wrong-${i}-${randomLabel(6)}`).join('\n') + '\n');
      const { opens, delay } = await runCase('hydra', { detector: 'ssh_guessing', src: ADDR_PEER, dst: ADDR_AGENT }, async () => {
        const t = Date.now() / 1000;
        const r = await inPeer(['hydra', '-l', 'root', '-P', passwords, '-t', '4', '-I', '-w', '5', `ssh://${ADDR_AGENT}`], 40_000);
        assert.match(r.stdout, /0 valid password/, `${r.stdout} ${r.stderr}`);
        return t;
      });
      const counters = opens[0].evidence.counters;
      assert.ok(counters.failed_attempts >= 10 && counters.failed_attempts <= 30, JSON.stringify(counters));
      assert.ok(counters.failed_connections >= 3, JSON.stringify(counters));
      t.diagnostic(`alert ${delay.toFixed(3)} s after hydra started: ${opens[0].message}`);
    });

    test('eight key logins that each open an sftp session → nothing (and the flows are named ssh)', async () => {
      // sftp (sshd's internal-sftp) rather than a command: a command runs through root's shell, whose rc
      // files (pyenv's rehash here) may hang a login that has nothing to do with the network.
      const batch = join(root, 'sftp-batch');
      writeFileSync(batch, 'pwd\n');
      const records = await quietCase('ssh-keys', async () => {
        for (let i = 0; i < 8; i++) {
          const r = await inPeer(['sftp', ...sshd!.clientArgs, '-b', batch, `root@${ADDR_AGENT}`], 45_000);
          assert.equal(r.status, 0, `sftp: ${r.stderr}`);
        }
      });
      const ssh = records.filter((r) => r.type === 'conn' && r['id.resp_p'] === 22);
      assert.equal(ssh.length, 8);
      assert.ok(ssh.every((c) => c.service === 'ssh'), JSON.stringify(ssh.map((c) => c.service)));
    });
  });

  test('arping -U from the peer claiming the agent host address → arp_spoof naming the peer', async (t) => {
    const { opens, delay } = await runCase('arp', { detector: 'arp_spoof', src: ADDR_PEER, dst: ADDR_AGENT }, async () => {
      // The true binding first: the agent's host asks for the peer, from its own address and MAC.
      const real = spawnSync('ip', ['netns', 'exec', NS_AGENT, 'arping', '-c', '1', '-w', '2', '-I', IF_AGENT, ADDR_PEER], { encoding: 'utf8', timeout: 10_000 });
      assert.equal(real.status, 0, `arping from the agent's host: ${real.stdout} ${real.stderr}`);
      // The peer may then send from an address it does not own (arping binds to it first).
      spawnSync('ip', ['netns', 'exec', NS_PEER, 'sysctl', '-qw', 'net.ipv4.ip_nonlocal_bind=1'], { timeout: 10_000 });
      const t = Date.now() / 1000;
      const r = await inPeer(['arping', '-U', '-c', '2', '-w', '3', '-I', peerIf(), '-s', ADDR_AGENT, ADDR_AGENT]);
      assert.notEqual(r.status, null, `arping did not finish: ${r.stderr}`);
      assert.match(r.stdout, /Sent 2 probes/, `${r.stdout} ${r.stderr}`);
      return t;
    });
    assert.ok(opens[0].evidence.counters.spoofed_messages >= 1);
    t.diagnostic(`alert ${delay.toFixed(3)} s after the tool started; evidence: ${evidencePackets(opens[0])} packets`);
  });
});

/** The peer's end of the veth pair (agent-netns.test-util.ts keeps its name private: its only link but lo). */
function peerIf(): string {
  const links = JSON.parse(spawnSync('ip', ['-n', NS_PEER, '-j', 'link', 'show'], { encoding: 'utf8' }).stdout) as Array<{ ifname: string }>;
  return links.map((l) => l.ifname.replace(/@.*/, '')).find((n) => n !== 'lo')!;
}
