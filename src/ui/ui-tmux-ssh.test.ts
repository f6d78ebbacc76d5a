/**
 * End to end over SSH, as the sysadmin in the field uses it: a real agent replaying a generated capture,
 * reachable only through a real sshd on a loopback port (throwaway keys, client/testing/sshd.ts) and
 * `loopy bridge`; `loopy ui ssh://root@127.0.0.1:PORT` in tmux with the key given by --ssh-option and
 * the bridge of this checkout by --ssh-command. It must show the agent connected and a DNS name from its
 * capture (which one comes from `loopy read --json` of the same file). Skipped without root, sshd or tmux;
 * a failure in CI, where they are installed (.ci/run).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { generateCapture } from '../synth/generate.js';
import { cliCommand, runCli } from '../test-support/cli.js';
import { projectRoot } from '../test-support/corpus.js';
import { agentDir } from '../client/testing/real-agent.js';
import { TestSshd, sshdSkipReason } from '../client/testing/sshd.js';
import type { DnsRecord } from '../analyze/records.js';
import { TmuxServer, escapeRegExp, haveTmux } from './testing/tmux.js';

function skipReason(): string | false {
  if (!haveTmux()) {
    const reason = 'tmux is not installed (apt-get install tmux)';
    if (process.env.CI) throw new Error(`${reason} (required in CI)`);
    return reason;
  }
  return sshdSkipReason();
}

/** The first answered DNS query of the capture's first seconds, as the engine sees it offline. */
function firstAnsweredName(file: string): string {
  const out = runCli(['read', '--json', '--no-detect', file]);
  assert.equal(out.status, 0, out.stderr);
  const dns = out.stdout
    .split('\n')
    .filter((l) => l.startsWith('{"type":"dns"') || l.includes('"type":"dns"'))
    .map((l) => JSON.parse(l) as DnsRecord)
    .filter((d) => d.type === 'dns' && d.query && d.rcode === 0);
  const first = Math.min(...dns.map((d) => d.ts));
  const early = dns.find((d) => d.ts < first + 8);
  assert.ok(early?.query, `no early DNS answer in ${file}`);
  return early.query;
}

/** `loopy agent` replaying `capture` at real speed in a loop (RealAgent replays at full speed). */
function startAgent(capture: string, data: string, sock: string): { child: ChildProcess; stderr: string } {
  const [cmd, ...pre] = cliCommand();
  const child = spawn(cmd, [...pre, 'agent', '-r', capture, '--loop', '--speed', '1', '--name', 'charlie', '--listen', `unix:${sock}`, '--data', data], { stdio: ['ignore', 'ignore', 'pipe'] });
  const agent = { child, stderr: '' };
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (agent.stderr = (agent.stderr + d).slice(-10_000)));
  return agent;
}

async function stopAgent(agent: { child: ChildProcess }): Promise<void> {
  const p = agent.child;
  if (p.exitCode !== null || p.signalCode !== null) return;
  p.kill('SIGTERM');
  await once(p, 'exit');
}

async function waitForFile(path: string, agent: { child: ChildProcess; stderr: string }, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(path)) {
    if (Date.now() > deadline || agent.child.exitCode !== null) assert.fail(`${path} did not appear; the agent said: ${agent.stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('loopy ui over an ssh:// target in tmux: the agent connected, a DNS name of its capture in the DNS view', { skip: skipReason(), timeout: 180_000 }, async () => {
  const dir = agentDir();
  const tmux = new TmuxServer(`loopy-ui-ssh-test-${process.pid}`);
  let agent: { child: ChildProcess; stderr: string } | undefined;
  let sshd: TestSshd | undefined;
  try {
    const capture = join(dir, 'charlie.pcap');
    await generateCapture({ seed: 33, packets: 6000, durationSeconds: 60, incidents: [] }, capture);
    const name = firstAnsweredName(capture);
    sshd = await TestSshd.start(dir);
    const sock = join(dir, 'agent.sock');
    // Real speed, looped: the UI sees it live, as it would a remote machine's interface.
    agent = startAgent(capture, join(dir, 'data'), sock);
    await waitForFile(sock, agent);

    const [node, ...pre] = cliCommand();
    // The remote side runs the bridge of this checkout (under tsx when not built): cd so tsx resolves.
    const remote = `cd ${projectRoot} && ${[node, ...pre].join(' ')} bridge --socket ${sock}`;
    const sshOptions = sshd.clientOptions().map((o) => `--ssh-option=${o}`);
    tmux.start('ssh', 200, 50, [node, ...pre, 'ui', sshd.target, ...sshOptions, '--ssh-command', remote]);

    // Shown by the name the agent gives, whatever the transport.
    await tmux.waitFor('ssh', /● charlie\s+connected/, 60_000);
    // Its data arrives over the tunnel: the packets/s figure leaves zero.
    await tmux.waitFor('ssh', /fleet 1\/1 up .* [1-9][0-9.]*[kM]? pkt\/s/, 30_000);

    tmux.keys('ssh', '5');
    await tmux.waitFor('ssh', /DNS transactions/);
    tmux.keys('ssh', '/');
    await tmux.waitFor('ssh', /^\/█ \(Enter apply/m);
    tmux.keys('ssh', name, 'Enter');
    await tmux.waitFor('ssh', new RegExp(`DNS transactions matching "${escapeRegExp(name)}"`));
    // A row whose query is exactly the name, answered (with one agent the view has no agent column).
    await tmux.waitFor('ssh', new RegExp(`^\\d\\d:\\d\\d:\\d\\d \\S+\\s+${escapeRegExp(name)}\\s+\\S+\\s+NOERROR`, 'm'), 90_000);

    tmux.keys('ssh', 'q');
    const deadline = Date.now() + 10_000;
    while (tmux.sessions().includes('ssh') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.ok(!tmux.sessions().includes('ssh'), 'the UI exits on q');
  } finally {
    tmux.kill();
    if (agent) await stopAgent(agent);
    await sshd?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
