/**
 * The SSH transport for real: sshd on a loopback port with a throwaway host key and a throwaway client key
 * (ssh-keygen, in a temp dir), a real agent behind `loopy bridge`, reached with an ssh:// target. Needs root
 * and /usr/sbin/sshd; skipped with the reason otherwise, and a failure in CI (.ci/run installs them).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { corpusDir, corpusSkipReason, projectRoot } from '../test-support/corpus.js';
import { cliCommand } from '../test-support/cli.js';
import type { LiveEvent } from './agent-client.js';
import { connectAgent } from './connect-agent.js';
import { RealAgent, agentDir, freePort } from './testing/real-agent.js';

const SSHD = '/usr/sbin/sshd';

function sshSkipReason(): string | false {
  const corpus = corpusSkipReason();
  if (corpus) return corpus;
  let reason: string | false = false;
  if (process.getuid?.() !== 0) reason = 'the SSH transport test starts sshd, which needs root';
  else if (!existsSync(SSHD)) reason = `no ${SSHD} (apt-get install openssh-server openssh-client)`;
  if (reason && process.env.CI) throw new Error(`${reason} (required in CI)`);
  return reason;
}

async function waitForPort(port: number, sshd: ChildProcess, log: () => string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (sshd.exitCode !== null) assert.fail(`sshd exited: ${log()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => (s.destroy(), resolve(true)));
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`sshd did not listen on ${port}: ${log()}`);
}

test('ssh://root@127.0.0.1:PORT reaches the agent through sshd and loopy bridge', { skip: sshSkipReason(), timeout: 60_000 }, async () => {
  const dir = agentDir();
  const keys = join(dir, 'keys');
  mkdirSync(keys, { mode: 0o700 });
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(keys, 'host'), '-C', 'loopy-test-host']);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(keys, 'client'), '-C', 'loopy-test-client']);
  writeFileSync(join(keys, 'authorized_keys'), readFileSync(join(keys, 'client.pub')), { mode: 0o600 });
  const port = await freePort();
  const config = [
    `Port ${port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${join(keys, 'host')}`,
    `AuthorizedKeysFile ${join(keys, 'authorized_keys')}`,
    'PermitRootLogin prohibit-password',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    // The temp dir is 0755 for the agent's sake; sshd's ownership checks of it do not matter here.
    'StrictModes no',
    `PidFile ${join(dir, 'sshd.pid')}`,
  ].join('\n');
  writeFileSync(join(dir, 'sshd_config'), `${config}\n`);
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 }); // sshd's privilege separation directory
  const sshd = spawn(SSHD, ['-D', '-e', '-f', join(dir, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let sshdLog = '';
  sshd.stderr!.setEncoding('utf8').on('data', (d: string) => (sshdLog += d));
  const sock = join(dir, 'agent.sock');
  const agent = RealAgent.start(join(corpusDir, 'dns', 'dnscap__dns.pcap'), join(dir, 'data'), [`unix:${sock}`]);
  const [node, ...pre] = cliCommand();
  // The remote side runs the bridge of this checkout (under tsx when not built): cd so tsx resolves.
  const remote = `cd ${projectRoot} && ${[node, ...pre].join(' ')} bridge --socket ${sock}`;
  const sshOptions = ['-F', '/dev/null', '-i', join(keys, 'client'), '-o', `UserKnownHostsFile=${join(dir, 'known_hosts')}`, '-o', 'StrictHostKeyChecking=accept-new'];
  const client = connectAgent(`ssh://root@127.0.0.1:${port}`, { configDir: dir, sshOptions, sshCommand: remote, requestTimeoutMs: 20_000, backoff: { initialMs: 100, maxMs: 500 } });
  try {
    await waitForPort(port, sshd, () => sshdLog);
    const status = await client.status();
    assert.equal(status.source, 'replay');
    const s = client.connectionState();
    assert.ok(s.state === 'connected' && s.agent.topics.includes('stats'));
    const event = await new Promise<LiveEvent>((resolve) => {
      const off = client.subscribe(['stats'], (e) => (off(), resolve(e)));
    });
    assert.equal(event.record.type, 'stats');
    assert.match(readFileSync(join(dir, 'known_hosts'), 'utf8'), /^\[127\.0\.0\.1\]:\d+ ssh-ed25519 /);

    // A key sshd does not know: ssh's own words come back as the error.
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(keys, 'stranger')]);
    const stranger = connectAgent(`ssh://root@127.0.0.1:${port}`, {
      configDir: dir,
      reconnect: false,
      sshCommand: remote,
      sshOptions: ['-F', '/dev/null', '-i', join(keys, 'stranger'), '-o', 'IdentitiesOnly=yes', '-o', `UserKnownHostsFile=${join(dir, 'known_hosts')}`],
    });
    await assert.rejects(stranger.status(), /ssh: .*Permission denied \(publickey\)/);
    stranger.close();
  } finally {
    client.close();
    await agent.stop();
    sshd.kill('SIGTERM');
    await once(sshd, 'exit');
  }
});
