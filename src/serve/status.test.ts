import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../test-support/cli.js';
import { type AgentStatus, formatAgentStatus, prepareDataDir, readAgentStatus, writeStatusFile } from './status.js';

const root = mkdtempSync(join(tmpdir(), 'loopy-status-'));
after(() => rmSync(root, { recursive: true, force: true }));

function sample(updated: number, over: Partial<AgentStatus> = {}): AgentStatus {
  return {
    type: 'agent_status', pid: 4242, user: 'nobody', started: updated - 3725, updated, state: 'running', source: 'live',
    filter: 'not port 22',
    interfaces: [
      { name: 'eth0', state: 'capturing', received: 1_234_567, dropped: 12, if_dropped: 0, addon_dropped: 0, packets_per_s: 1500.4, drop_pct: 0 },
      { name: 'eth1', state: 'capturing', received: 10, dropped: 0, if_dropped: 2, addon_dropped: 0, packets_per_s: 0, drop_pct: 0 },
    ],
    packets_per_s: 1500.4, bytes_per_s: 1_250_000, drop_pct: 0, drop_pct_total: 0.000972, weirds_per_s: 3, cpu_percent: 2.345,
    rss_bytes: 81_200_000, flows_active: 321, packets_total: 5_000_000, bytes_total: 4_000_000_000, clients: 2, uptime_s: 3725,
    ...over,
  };
}

test('the status file is written whole (rename) into a 0700 directory, 0600, and read back', () => {
  const dir = join(root, 'a', 'data');
  prepareDataDir(dir);
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  const s = sample(1_700_000_000);
  writeStatusFile(dir, s);
  writeStatusFile(dir, { ...s, updated: s.updated + 1 });
  assert.deepEqual(readdirSync(dir), ['status.json'], 'no temporary file is left behind');
  assert.equal(statSync(join(dir, 'status.json')).mode & 0o777, 0o600);
  const r = readAgentStatus(dir, s.updated + 3);
  assert.ok(r.ok);
  assert.deepEqual([r.status.updated, r.ageSeconds], [s.updated + 1, 2]);
});

test('older than 5 seconds, stopped, or absent: the agent is not running', () => {
  const dir = join(root, 'b');
  prepareDataDir(dir);
  assert.deepEqual(readAgentStatus(dir, 1), { ok: false, reason: `the agent is not running (no ${join(dir, 'status.json')}; give the agent's --data DIR)` });
  writeStatusFile(dir, sample(1000));
  assert.equal(readAgentStatus(dir, 1005).ok, true);
  assert.deepEqual(readAgentStatus(dir, 1006), {
    ok: false, status: sample(1000), reason: 'the agent is not running (its status was last written 6 s ago, pid 4242)',
  });
  writeStatusFile(dir, sample(1000, { state: 'stopped' }));
  assert.equal((readAgentStatus(dir, 1001) as { reason: string }).reason, 'the agent is not running (it stopped 1 s ago, pid 4242)');
});

test('the human view: a few aligned lines', () => {
  const text = formatAgentStatus(sample(1_700_000_000), 1_700_000_001);
  assert.equal(text, [
    'agent      pid 4242, user nobody, up 1h 2m (updated 1 s ago)',
    'capture    live, filter "not port 22"',
    '  eth0     capturing, 1,500 pkt/s, drop 0.00 %; since open: 1,234,567 received, 12 dropped, 0 interface drops',
    '  eth1     capturing, 0 pkt/s, drop 0.00 %; since open: 10 received, 0 dropped, 2 interface drops',
    'packets/s  1,500 (1.3 MB/s)',
    'drop       0.00 % last second, 0.0010 % since start',
    'weirds/s   3',
    'flows      321 active',
    'clients    2 connected',
    'CPU        2.3 % of one core',
    'RSS        81.2 MB',
    '',
  ].join('\n'));
});

test('loopy agent --status: exit 0 with the lines, --json for scripts, exit 1 when stale', () => {
  const dir = join(root, 'cli');
  prepareDataDir(dir);
  writeStatusFile(dir, sample(Date.now() / 1000));
  const human = runCli(['agent', '--status', '--data', dir]);
  assert.equal(human.status, 0, human.stderr);
  assert.match(human.stdout, /^agent {6}pid 4242, user nobody, up 1h 2m/);
  assert.match(human.stdout, /\n {2}eth0 {5}capturing, 1,500 pkt\/s/);
  const json = runCli(['agent', '--status', '--json', '--data', dir]);
  assert.equal(json.status, 0);
  const parsed = JSON.parse(json.stdout) as Record<string, unknown>;
  assert.deepEqual([parsed.running, parsed.pid, parsed.cpu_percent], [true, 4242, 2.345]);

  writeStatusFile(dir, sample(Date.now() / 1000 - 600));
  const stale = runCli(['agent', '--status', '--data', dir]);
  assert.equal(stale.status, 1);
  assert.equal(stale.stdout, '');
  assert.match(stale.stderr, /^loopy: the agent is not running \(its status was last written 10 min ago, pid 4242\)\n$/);
  const staleJson = runCli(['agent', '--status', '--json', '--data', dir]);
  assert.equal(staleJson.status, 1);
  assert.equal((JSON.parse(staleJson.stdout) as { running: boolean }).running, false);
});

test('an existing directory that is not an agent\'s is refused, never taken over; an agent\'s own is used again', { skip: process.getuid?.() !== 0 ? 'needs root (to own files as others)' : false }, () => {
  const shared = join(root, 'shared');
  mkdirSync(shared, { mode: 0o1777 });
  chmodSync(shared, 0o1777);
  writeFileSync(join(shared, 'someone-elses.txt'), 'x');
  const nobody = { uid: 65534, gid: 65534 };
  assert.throws(() => prepareDataDir(shared, nobody), /existing directory that is not the agent's: mode 1777, owner uid 0, holding 1 other file/);
  assert.equal(statSync(shared).mode & 0o7777, 0o1777, 'left as it was');
  assert.equal(statSync(shared).uid, 0);
  // A directory an earlier run of the agent (as root) left: only its own files, not writable by others.
  const earlier = join(root, 'earlier');
  mkdirSync(earlier, { mode: 0o700 });
  writeFileSync(join(earlier, 'status.json'), '{}');
  writeFileSync(join(earlier, 'history.sqlite'), '');
  prepareDataDir(earlier, nobody);
  assert.equal(statSync(earlier).uid, 65534);
});

test('on a full disk the status is still this second\'s, and no temporary file is left', { skip: process.getuid?.() !== 0 ? 'needs root (mounts a small tmpfs)' : false }, (t) => {
  const dir = join(root, 'full');
  mkdirSync(dir);
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir]);
  if (mounted.status !== 0) return t.skip(`cannot mount a tmpfs here: ${String(mounted.stderr).trim()}`);
  try {
    writeStatusFile(dir, sample(2000));
    // Fill the disk to the last block.
    try {
      writeFileSync(join(dir, 'filler'), Buffer.alloc(1 << 20));
    } catch {
      /* ENOSPC: full now */
    }
    writeStatusFile(dir, sample(2001));
    assert.deepEqual(readdirSync(dir).sort(), ['filler', 'status.json'], 'no temporary file left');
    const r = readAgentStatus(dir, 2002);
    assert.ok(r.ok && r.status.updated === 2001, 'this second\'s status');
  } finally {
    spawnSync('umount', [dir]);
  }
});
