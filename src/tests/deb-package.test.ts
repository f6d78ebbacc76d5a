/**
 * Issue 14's install on a server without a compiler, as a sysadmin does it: `npm run package`'s .deb is
 * installed with `apt install ./FILE` in a clean Debian (debootstrap minbase, test-support/debian-chroot.ts)
 * that has no compiler, no libpcap-dev and no Node.js; the unit's ExecStart is then run the way systemd would
 * (its User, Group, AmbientCapabilities, UMask, RuntimeDirectory) in a network namespace whose eth0 is the
 * interface the packaged /etc/loopy/agent.json names, and queried over its socket while a second namespace
 * pings it; `loopy read` reads a pcap there as it does here; `apt purge` takes it all away but the user.
 * Root only; the first run bootstraps Debian (about a minute and a half, cached in /var/tmp/loopy-ci-cache),
 * later runs take about a minute.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { generateCapture } from '../synth/generate.js';
import { projectRoot } from '../test-support/corpus.js';
import { DebianChroot, hostCodename } from '../test-support/debian-chroot.js';
import { serviceSettings } from '../test-support/systemd-unit.js';

const SUFFIX = `pkg14-${process.pid}`;
const AGENT_NS = `loopy-deb-a-${SUFFIX}`;
const PEER_NS = `loopy-deb-b-${SUFFIX}`;
const AGENT_ADDR = '192.0.2.1';
const PEER_ADDR = '192.0.2.2';

function skipReason(): string | false {
  if (process.getuid?.() !== 0) return 'the package test needs root (debootstrap, chroot, mounts, network namespaces)';
  return false;
}

function sh(command: string, args: string[]): string {
  const r = spawnSync(command, args, { encoding: 'utf8' });
  assert.equal(r.status, 0, `${command} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** Builds the .deb as `npm run package` does (dist is already built by the test run) and returns its path. */
function buildPackage(outDir: string): string {
  const r = spawnSync(process.execPath, [join(projectRoot, 'dist', 'packaging', 'build-deb.js'), '--out', outDir], { encoding: 'utf8', timeout: 300_000 });
  assert.equal(r.status, 0, r.stderr);
  const path = /^(\S+\.deb): /m.exec(r.stdout)?.[1];
  assert.ok(path && existsSync(path), `the package script names the .deb it made: ${r.stdout}`);
  return path;
}

/** Two namespaces joined by a veth pair: the agent's end is named eth0 (agent.json's interface). */
function makeNamespaces(): void {
  sh('ip', ['netns', 'add', AGENT_NS]);
  sh('ip', ['netns', 'add', PEER_NS]);
  const a = `pk14a${process.pid % 100000}`;
  const b = `pk14b${process.pid % 100000}`;
  sh('ip', ['link', 'add', a, 'netns', AGENT_NS, 'type', 'veth', 'peer', 'name', b, 'netns', PEER_NS]);
  sh('ip', ['-n', AGENT_NS, 'link', 'set', a, 'name', 'eth0']);
  sh('ip', ['-n', AGENT_NS, 'addr', 'add', `${AGENT_ADDR}/24`, 'dev', 'eth0']);
  sh('ip', ['-n', PEER_NS, 'addr', 'add', `${PEER_ADDR}/24`, 'dev', b]);
  for (const [ns, dev] of [[AGENT_NS, 'eth0'], [AGENT_NS, 'lo'], [PEER_NS, b], [PEER_NS, 'lo']]) sh('ip', ['-n', ns, 'link', 'set', dev, 'up']);
}

function removeNamespaces(): void {
  for (const ns of [AGENT_NS, PEER_NS]) spawnSync('ip', ['netns', 'del', ns]);
}

const NO_COMPILER = 'for c in cc gcc c++ g++ make node; do command -v $c; done; dpkg-query -W -f "\\${Package} \\${Status}\\n" libpcap-dev libpcap0.8-dev build-essential 2>/dev/null | grep " installed"; true';

/**
 * Starts the unit's ExecStart as systemd would: the unit's user and group, its ambient capabilities (and no
 * others), no new privileges, its umask, its runtime directory made first, the environment systemd gives.
 */
function startUnit(chroot: DebianChroot, unitText: string): ChildProcess {
  const unit = serviceSettings(unitText);
  const one = (key: string) => {
    const v = unit.get(key);
    assert.equal(v?.length, 1, `${key}= once in the unit`);
    return v![0];
  };
  const user = one('User');
  const group = one('Group');
  const caps = one('AmbientCapabilities').split(/\s+/).map((c) => `+${c.replace(/^CAP_/, '').toLowerCase()}`).join(',');
  const runtime = `/run/${one('RuntimeDirectory')}`;
  const made = chroot.sh(`install -d -m ${one('RuntimeDirectoryMode')} -o ${user} -g ${group} ${runtime}`);
  assert.equal(made.status, 0, made.stderr);
  const env = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin', LANG: 'C.UTF-8', USER: user, LOGNAME: user, HOME: '/var/lib/loopy', RUNTIME_DIRECTORY: runtime };
  const command = [
    'ip', 'netns', 'exec', AGENT_NS, 'chroot', chroot.root,
    'setpriv', `--reuid=${user}`, `--regid=${group}`, '--init-groups', `--inh-caps=-all,${caps}`, `--ambient-caps=${caps}`, `--bounding-set=-all,${caps}`,
    ...(one('NoNewPrivileges') === 'yes' ? ['--no-new-privs'] : []),
    '/bin/sh', '-c', `umask ${one('UMask')}; exec "$@"`, 'sh', ...one('ExecStart').split(/\s+/),
  ];
  return spawn(command[0], command.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'] });
}

async function waitFor<T>(what: string, probe: () => T | undefined, agent: ChildProcess, log: () => string, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const value = probe();
    if (value !== undefined) return value;
    assert.equal(agent.exitCode, null, `the agent exited (${agent.exitCode}) before ${what}: ${log()}`);
    await new Promise((r) => setTimeout(r, 500));
  }
  assert.fail(`no ${what} within ${ms / 1000} s: ${log()}`);
}

interface QueriedStatus {
  user?: string;
  interfaces?: Array<{ name: string; state: string; received: number }>;
}

/** The agent's status from `loopy query ... status --json` run in the chroot, once eth0 has received packets. */
function statusWithPackets(chroot: DebianChroot, socket: string): QueriedStatus | undefined {
  const r = chroot.sh(`loopy query unix:${socket} status --json`, { timeoutMs: 20_000 });
  if (r.status !== 0) return undefined;
  const status = JSON.parse(r.stdout.trim().split('\n')[0]) as QueriedStatus;
  return (status.interfaces?.find((i) => i.name === 'eth0')?.received ?? 0) > 0 ? status : undefined;
}

/** `loopy read` output with what differs between two runs of the same file (random uids) taken out. */
function readSummary(out: string): string {
  return out.replace(/\bC[A-Za-z0-9]{17}\b/g, 'UID');
}

test('the .deb installs with apt on a clean Debian without a compiler, its unit command captures and answers, loopy read works', { skip: skipReason(), timeout: 900_000 }, async (t) => {
  const codename = hostCodename();
  assert.ok(codename, 'the host is Debian (VERSION_CODENAME in /etc/os-release)');
  assert.equal(spawnSync('debootstrap', ['--version']).status, 0, 'debootstrap is installed (apt-get install debootstrap; .ci/run does)');
  const work = mkdtempSync(join(tmpdir(), 'loopy-deb-test-'));
  let chroot: DebianChroot | undefined;
  let agent: ChildProcess | undefined;
  t.after(() => {
    agent?.kill('SIGKILL');
    removeNamespaces();
    chroot?.close();
    rmSync(work, { recursive: true, force: true });
  });

  const built = Date.now();
  const deb = buildPackage(join(work, 'out'));
  t.diagnostic(`package built in ${((Date.now() - built) / 1000).toFixed(0)} s: ${(statSync(deb).size / 2 ** 20).toFixed(1)} MiB`);

  chroot = new DebianChroot(codename);
  const before = chroot.sh(NO_COMPILER);
  assert.equal(before.stdout.trim(), '', 'the clean Debian has no compiler, libpcap-dev or Node.js');
  copyFileSync(deb, join(chroot.root, 'tmp', basename(deb)));
  const updated = chroot.sh('apt-get update -qq');
  assert.equal(updated.status, 0, updated.stderr);
  const installing = Date.now();
  const install = chroot.sh(`cd /tmp && apt install -y ./${basename(deb)}`);
  assert.equal(install.status, 0, `${install.stdout}\n${install.stderr}`);
  t.diagnostic(`apt install took ${((Date.now() - installing) / 1000).toFixed(0)} s`);
  assert.match(install.stdout, /set the interfaces in \/etc\/loopy\/agent\.json/, 'postinst says what to do next');
  assert.equal(chroot.sh(NO_COMPILER).stdout.trim(), '', 'installing pulled in no compiler, libpcap-dev or Node.js');

  // What the package set up: the command, the user, the directories, the config, the man page, completion.
  const setUp = chroot.sh([
    'command -v loopy', 'loopy --version', 'id -un loopy', 'stat -c "%U %a" /var/lib/loopy /var/log/loopy',
    'ls /etc/loopy/agent.json /etc/loopy/detect.json /usr/share/man/man1/loopy.1.gz /usr/share/bash-completion/completions/loopy /usr/share/zsh/vendor-completions/_loopy',
  ].join(' && '));
  assert.equal(setUp.status, 0, setUp.stderr);
  const lines = setUp.stdout.trim().split('\n');
  assert.equal(lines[0], '/usr/bin/loopy');
  assert.match(lines[1], /^loopy(-netmon)? \S+/);
  assert.equal(lines[2], 'loopy');
  assert.deepEqual(lines.slice(3, 5), ['loopy 700', 'loopy 750']);
  const unitText = readFileSync(join(chroot.root, 'lib', 'systemd', 'system', 'loopy-agent.service'), 'utf8');
  assert.match(unitText, /^ExecStart=\/usr\/bin\/loopy agent /m, 'the packaged unit runs the packaged command');

  makeNamespaces();
  agent = startUnit(chroot, unitText);
  let stderr = '';
  agent.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  agent.stdout!.resume();
  const logFile = join(chroot.root, 'var', 'log', 'loopy', 'agent.log');
  const log = () => `${stderr}\n${existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(-3000) : '(no agent.log)'}`;
  const socket = serviceSettings(unitText).get('ExecStart')![0].match(/--listen unix:(\S+)/)![1];
  await waitFor('socket', () => (existsSync(join(chroot!.root, socket)) ? true : undefined), agent, log);

  // Traffic on eth0 from the other namespace, bounded; the agent counts it through the prebuilt addon.
  const ping = spawnSync('ip', ['netns', 'exec', PEER_NS, 'ping', '-c', '10', '-i', '0.2', '-W', '1', AGENT_ADDR], { encoding: 'utf8' });
  assert.equal(ping.status, 0, ping.stderr);
  const status = await waitFor('packets on eth0 in status', () => statusWithPackets(chroot!, socket), agent, log, 30_000);
  t.diagnostic(`status: ${JSON.stringify(status.interfaces)}, user ${status.user}`);
  assert.equal(status.user, 'loopy', 'the agent runs as the unit\'s user');
  assert.equal(status.interfaces?.[0].state, 'capturing');
  const addon = chroot.sh('loopy --version');
  assert.match(addon.stdout, /libpcap/i, `--version names libpcap (the addon loaded): ${addon.stdout}`);

  // loopy read in the chroot gives what it gives here.
  const pcap = join(chroot.root, 'tmp', 'small.pcap');
  await generateCapture({ seed: 3, packets: 300, incidents: [] }, pcap);
  const there = chroot.sh('cd /tmp && loopy read small.pcap');
  assert.equal(there.status, 0, there.stderr);
  const here = spawnSync(process.execPath, [join(projectRoot, 'dist', 'cli', 'main.js'), 'read', 'small.pcap'], { cwd: join(chroot.root, 'tmp'), encoding: 'utf8' });
  assert.equal(readSummary(there.stdout), readSummary(here.stdout));

  // systemctl stop: SIGTERM, and the agent exits 0 within TimeoutStopSec.
  agent.kill('SIGTERM');
  const [code] = (await Promise.race([once(agent, 'exit'), new Promise((r) => setTimeout(() => r(['timeout']), 30_000))])) as [number | string];
  assert.equal(code, 0, log());
  agent = undefined;

  // apt purge: the command, the unit, /etc/loopy and the agent's state and logs go; the user stays (Debian's way).
  const purge = chroot.sh('apt-get purge -y loopy-netmon');
  assert.equal(purge.status, 0, purge.stderr);
  const gone = chroot.sh('for p in /usr/bin/loopy /usr/lib/loopy /lib/systemd/system/loopy-agent.service /etc/loopy /var/lib/loopy /var/log/loopy; do [ -e $p ] && echo $p; done; id -un loopy');
  assert.equal(gone.stdout.trim(), 'loopy', 'only the loopy user is left');
});
