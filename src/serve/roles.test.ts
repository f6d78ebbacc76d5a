import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { captureAddonProblem } from '../capture/live-addon.js';
import { memoryLogger } from './agent.test-util.js';
import { ErrorCode } from './protocol/errors.js';
import { RawClient } from './raw-client.test-util.js';
import { groupsOf, isBridgeUnderSshd, type ProcessView, unixRole } from './roles.js';
import { AgentServer } from './server.js';
import type { AgentStatus } from './status.js';
import { listenUnix } from './transports.js';

const status = (): AgentStatus => ({ type: 'agent_status', pid: 1 }) as unknown as AgentStatus;
const statusText = (groups: string) => `Name:\tx\nUid:\t1000\t1000\t1000\t1000\nGroups:\t${groups}\n`;

test('root, the agent\'s own user and members of the operator group are operators; other local users view', () => {
  const o = { agentUid: 120, operatorGid: 990, readStatus: (pid: number) => statusText(pid === 7 ? '27 990 1000' : '27 1000') };
  assert.equal(unixRole({ pid: 1, uid: 0, gid: 0 }, o), 'operator');
  assert.equal(unixRole({ pid: 2, uid: 120, gid: 120 }, o), 'operator');
  assert.equal(unixRole({ pid: 3, uid: 1000, gid: 990 }, o), 'operator', 'primary group');
  assert.equal(unixRole({ pid: 7, uid: 1000, gid: 1000 }, o), 'operator', 'supplementary group');
  assert.equal(unixRole({ pid: 8, uid: 1000, gid: 1000 }, o), 'viewer');
  assert.equal(unixRole({ pid: 8, uid: 1000, gid: 1000 }, { agentUid: 120 }), 'viewer', 'no operator group on this system');
  assert.equal(unixRole(undefined, o), 'operator', 'without the addon the socket group is the only line');
  assert.deepEqual(groupsOf(9, () => undefined), []);
});

test('a bridge is believed only with "bridge" on its command line and sshd among its ancestors', () => {
  const procs: Record<number, { comm: string; ppid: number; cmdline: string[] }> = {
    100: { comm: 'node', ppid: 99, cmdline: ['node', '/usr/lib/loopy/cli/main.js', 'bridge'] },
    99: { comm: 'bash', ppid: 98, cmdline: ['bash', '-c', 'loopy bridge'] },
    98: { comm: 'sshd', ppid: 1, cmdline: ['sshd: admin@notty'] },
    200: { comm: 'node', ppid: 2, cmdline: ['node', 'fake.js', 'bridge'] },
    2: { comm: 'bash', ppid: 1, cmdline: ['bash'] },
    300: { comm: 'node', ppid: 98, cmdline: ['node', 'ui'] },
  };
  const view: ProcessView = { cmdline: (pid) => procs[pid]?.cmdline, stat: (pid) => (procs[pid] ? { comm: procs[pid].comm, ppid: procs[pid].ppid } : undefined) };
  assert.equal(isBridgeUnderSshd({ pid: 100, uid: 1000, gid: 1000 }, view), true);
  assert.equal(isBridgeUnderSshd({ pid: 200, uid: 1000, gid: 1000 }, view), false, 'no sshd above it');
  assert.equal(isBridgeUnderSshd({ pid: 300, uid: 1000, gid: 1000 }, view), false, 'not a bridge');
  assert.equal(isBridgeUnderSshd(undefined, view), false);
});

const notRoot = process.getuid?.() !== 0 ? 'needs root (to connect as another user)' : false;
test('on the unix socket, a client running as another user is a viewer: it may not suppress; root may', { skip: notRoot || captureAddonProblem() }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'loopy-roles-'));
  chmodSync(dir, 0o755);
  const sock = join(dir, 'agent.sock');
  const server = new AgentServer({
    name: 'roles', software: 'x', started: 0, now: () => 0, logger: memoryLogger([]), status,
    alerts: { ack: () => undefined, suppress: () => 1 },
  });
  const listener = await listenUnix(sock);
  chmodSync(sock, 0o666);
  server.attach(listener, 'unix');
  try {
    // A client as nobody: hello, then a suppression, its two replies printed.
    const script = `
      const s = require('net').connect(${JSON.stringify(sock)});
      let buf = ''; const out = [];
      s.on('data', (d) => { buf += d; const lines = buf.split('\\n'); buf = lines.pop(); for (const l of lines) { out.push(JSON.parse(l)); if (out.length === 2) { console.log(JSON.stringify(out)); s.destroy(); } } });
      s.write(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'hello', params: { versions: [1], client: { name: 'other-user', version: '0' } } }) + '\\n');
      s.write(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'alerts.suppress', params: { source: '0.0.0.0/0', expires_at: 9e9 } }) + '\\n');`;
    // Not spawnSync: the server answering it runs in this very process.
    const child = spawn('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '-e', script], { timeout: 20_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (t: string) => (stdout += t));
    child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    assert.equal(code, 0, stderr);
    const [hello, suppress] = JSON.parse(stdout) as Array<{ result?: { role: string }; error?: { code: number } }>;
    assert.equal(hello.result?.role, 'viewer');
    assert.equal(suppress.error?.code, ErrorCode.FORBIDDEN);
    const root = await RawClient.unix(sock);
    assert.equal(((await root.hello()).result as { role: string }).role, 'operator');
    assert.equal((await root.request('alerts.suppress', { source: '0.0.0.0/0', expires_at: 9e9 })).error, undefined);
    root.close();
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
