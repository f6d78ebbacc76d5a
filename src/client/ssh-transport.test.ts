/**
 * The SSH transport for real: sshd on a loopback port with a throwaway host key and a throwaway client key
 * (testing/sshd.ts), a real agent behind `loopy bridge`, reached with an ssh:// target. Needs root
 * and /usr/sbin/sshd; skipped with the reason otherwise, and a failure in CI (.ci/run installs them).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { corpusDir, corpusSkipReason, projectRoot } from '../test-support/corpus.js';
import { cliCommand } from '../test-support/cli.js';
import type { LiveEvent } from './agent-client.js';
import { connectAgent } from './connect-agent.js';
import { RealAgent, agentDir } from './testing/real-agent.js';
import { TestSshd, sshdSkipReason } from './testing/sshd.js';

function sshSkipReason(): string | false {
  return corpusSkipReason() || sshdSkipReason();
}

test('ssh://root@127.0.0.1:PORT reaches the agent through sshd and loopy bridge', { skip: sshSkipReason(), timeout: 60_000 }, async () => {
  const dir = agentDir();
  const sshd = await TestSshd.start(dir);
  const sock = join(dir, 'agent.sock');
  const agent = RealAgent.start(join(corpusDir, 'dns', 'dnscap__dns.pcap'), join(dir, 'data'), [`unix:${sock}`]);
  const [node, ...pre] = cliCommand();
  // The remote side runs the bridge of this checkout (under tsx when not built): cd so tsx resolves.
  const remote = `cd ${projectRoot} && ${[node, ...pre].join(' ')} bridge --socket ${sock}`;
  const client = connectAgent(sshd.target, { configDir: dir, sshOptions: sshd.clientOptions(), sshCommand: remote, requestTimeoutMs: 20_000, backoff: { initialMs: 100, maxMs: 500 } });
  try {
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
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(sshd.keys, 'stranger')]);
    const stranger = connectAgent(sshd.target, {
      configDir: dir,
      reconnect: false,
      sshCommand: remote,
      sshOptions: ['-F', '/dev/null', '-i', join(sshd.keys, 'stranger'), '-o', 'IdentitiesOnly=yes', '-o', `UserKnownHostsFile=${join(dir, 'known_hosts')}`],
    });
    await assert.rejects(stranger.status(), /ssh: .*Permission denied \(publickey\)/);
    stranger.close();
  } finally {
    client.close();
    await agent.stop();
    await sshd.stop();
  }
});
