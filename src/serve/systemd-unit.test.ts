/**
 * The shipped systemd unit and the socket the clients look for must not drift apart again: the unit's
 * --listen is the default socket of `loopy bridge` (ssh:// targets) and of an agent started as root, its
 * RuntimeDirectory= is the socket's directory, and the agent gives the socket a mode and group that let the
 * members of that group connect, and nobody else.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { bridgeSocketPath } from '../cli/bridge.js';
import { projectRoot } from '../test-support/corpus.js';
import { serviceSettings } from '../test-support/systemd-unit.js';
import { resolveAgentSettings } from './config.js';
import { DEFAULT_ROOT_SOCKET, SOCKET_GROUP, groupId, listenUnix, parseListenSpec } from './transports.js';

const unit = serviceSettings(readFileSync(join(projectRoot, 'contrib', 'loopy-agent.service'), 'utf8'));
const one = (key: string) => {
  const values = unit.get(key) ?? [];
  assert.equal(values.length, 1, `${key}= once in the unit`);
  return values[0];
};

test("the unit's socket is the bridge's and a root agent's default, in the unit's runtime directory", (t) => {
  const args = one('ExecStart').split(/\s+/);
  const listens = args.flatMap((a, i) => (a === '--listen' ? [args[i + 1]] : a.startsWith('--listen=') ? [a.slice(9)] : []));
  const unix = listens.map(parseListenSpec).filter((l) => l.kind === 'unix');
  assert.equal(unix.length, 1, `one unix listener in ExecStart: ${one('ExecStart')}`);
  const socket = unix[0].kind === 'unix' ? unix[0].path : '';
  assert.equal(socket, DEFAULT_ROOT_SOCKET);

  // `loopy bridge` without --socket and with an agent config that names no listener: its default.
  const dir = mkdtempSync(join(tmpdir(), 'loopy-unit-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const config = join(dir, 'agent.json');
  writeFileSync(config, '{"interfaces": ["eth0"]}');
  assert.equal(bridgeSocketPath({ config }), socket);
  // An agent started as root without --listen serves there too.
  assert.deepEqual(resolveAgentSettings({}, { interfaces: ['eth0'] }, 0).serve?.listen, [{ kind: 'unix', path: socket }]);

  // systemd makes the socket's directory (ProtectSystem=strict: the agent could not), group loopy may enter.
  assert.equal(`/run/${one('RuntimeDirectory')}`, dirname(socket));
  assert.equal(one('RuntimeDirectoryMode'), '0750');
  assert.equal(one('User'), SOCKET_GROUP);
  assert.equal(one('Group'), SOCKET_GROUP);
});

const NOBODY = 65534;

/** Runs `net.connect(path)` as uid nobody with only `gid` (libuv drops supplementary groups): "ok" or the error code. */
async function connectAs(gid: number, path: string): Promise<string> {
  const code = `require('node:net').connect(${JSON.stringify(path)}).on('connect', () => { console.log('ok'); process.exit(0); }).on('error', (e) => { console.log(e.code); process.exit(0); });`;
  const child = spawn(process.execPath, ['-e', code], { uid: NOBODY, gid, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  await once(child, 'close');
  return out.trim();
}

test('the agent makes the socket 0660 and hands it and its directory to the group: members connect, others cannot', { skip: process.getuid?.() !== 0 ? 'needs root (to chown the socket and to run a client as another user)' : undefined }, async (t) => {
  // A group other than nobody's own, standing in for `loopy` (the listener takes the group's name).
  const group = 'daemon';
  const gid = groupId(group);
  if (gid === undefined) return t.skip(`no group ${group} in /etc/group`);
  const dir = mkdtempSync(join(tmpdir(), 'loopy-sock-'));
  chmodSync(dir, 0o755);
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'run', 'agent.sock');
  const server = await listenUnix(path, group);
  server.on('connection', (s) => s.destroy());
  try {
    assert.equal(statSync(path).mode & 0o777, 0o660);
    assert.equal(statSync(path).gid, gid);
    assert.equal(statSync(dirname(path)).mode & 0o777, 0o750);
    assert.equal(statSync(dirname(path)).gid, gid);
    assert.equal(await connectAs(gid, path), 'ok', 'a member of the group connects');
    assert.equal(await connectAs(NOBODY, path), 'EACCES', 'anyone else is refused');
  } finally {
    await new Promise((r) => server.close(r));
  }
});
