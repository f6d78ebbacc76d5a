/**
 * `loopy agent -r FILE` as a user runs it: a child process replaying a generated capture. No root needed
 * (as root it drops to nobody, as it would in production).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { captureAddonProblem } from '../capture/live-addon.js';
import { cliCommand, runCli } from '../test-support/cli.js';
import { realPrivilegeOps } from './privileges.js';
import { generatedCapture } from '../test-support/sample-frames.js';

const root = mkdtempSync(join(tmpdir(), 'loopy-agent-cli-'));
// Traversable, so an agent that dropped to nobody can still reach its data directory below it.
chmodSync(root, 0o755);
const capture = join(root, 'sample.pcap');
// An empty config file: whatever /etc/loopy/agent.json holds on this machine plays no part.
const noConfig = join(root, 'empty.json');
writeFileSync(noConfig, '{}');
let truthPackets = 0;

before(async () => {
  const { bytes, truth } = await generatedCapture({ seed: 11, packets: 3000 });
  writeFileSync(capture, bytes);
  chmodSync(capture, 0o644);
  truthPackets = truth.packets;
});
after(() => rmSync(root, { recursive: true, force: true }));

type Rec = Record<string, any>;
const parse = (text: string): Rec[] => text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Rec);

/** What identifies a connection's outcome, independent of when it was replayed. */
const connKey = (r: Rec) => [r.community_id, r.conn_state, r.history, r.orig_bytes, r.resp_bytes, r.orig_pkts, r.resp_pkts].join(' ');

test('a replay at full speed gives the same records as loopy read, plus stats every second', () => {
  const data = join(root, 'data-max');
  const statsOut = join(root, 'out.ndjson');
  const r = runCli(['agent', '--config', noConfig, '-r', capture, '--max', '--stdout', '--stats-out', statsOut, '--data', data, '--listen', `unix:${data}/agent.sock`]);
  assert.equal(r.status, 0, r.stderr);
  const agent = parse(r.stdout);
  const read = parse(runCli(['read', capture, '--json']).stdout);
  const summary = agent.find((x) => x.type === 'summary')!;
  assert.equal(summary.packets, truthPackets);
  assert.equal(read.find((x) => x.type === 'summary')!.packets, truthPackets);
  for (const type of ['conn', 'dns', 'tls', 'http']) {
    assert.equal(agent.filter((x) => x.type === type).length, read.filter((x) => x.type === type).length, type);
  }
  const sorted = (rs: Rec[]) => rs.filter((x) => x.type === 'conn').map(connKey).sort();
  assert.deepEqual(sorted(agent), sorted(read));
  const stats = agent.filter((x) => x.type === 'stats');
  assert.ok(stats.length >= 1);
  assert.equal(stats.reduce((n, s) => n + s.packets, 0), truthPackets, 'the stats records account for every packet');
  assert.equal(agent.at(-1)!.type, 'stats');
  // --stats-out got the same lines, in a file only its owner can read.
  assert.equal(readFileSync(statsOut, 'utf8'), r.stdout);
  assert.equal(statSync(statsOut).mode & 0o777, 0o600);
  // The log is JSON lines on stderr and says how it ended.
  const logs = parse(r.stderr);
  assert.ok(logs.some((l) => l.msg === 'stopped' && l.reason === 'the replay reached the end of the file'), r.stderr);
});

test('the agent detaches a buffer before its first packet, so its store\'s first batch recompiles nothing', () => {
  // V8 traces each protector it invalidates on stdout, in order with the records (src/capture/buffer-detaching.ts).
  const data = join(root, 'data-protector');
  const [cmd, ...pre] = cliCommand();
  const r = spawnSync(cmd, ['--trace-protector-invalidation', ...pre, 'agent', '--config', noConfig, '-r', capture, '--max', '--stdout', '--data', data, '--listen', `unix:${data}/agent.sock`], { encoding: 'utf8', timeout: 60_000, maxBuffer: 64 * 1024 * 1024 });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.split('\n');
  const detached = lines.filter((l) => l === 'Invalidating protector cell ArrayBufferDetaching').length;
  const at = lines.indexOf('Invalidating protector cell ArrayBufferDetaching');
  const firstRecord = lines.findIndex((l) => l.startsWith('{'));
  assert.equal(detached, 1, 'invalidated once');
  assert.ok(firstRecord > 0, 'records were written');
  assert.ok(at < firstRecord, `invalidated at line ${at}, before the first record at line ${firstRecord}`);
});

test('a looping replay shows in --status while it runs, stops cleanly on SIGTERM, then reads as stopped', async () => {
  const data = join(root, 'data-loop');
  const [cmd, ...pre] = cliCommand();
  const child = spawn(cmd, [...pre, 'agent', '--config', noConfig, '-r', capture, '--loop', '--speed', '50', '--stdout', '--data', data, '--listen', `unix:${data}/agent.sock`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    // Bounded wait for the first status file (written at the first whole second).
    let status = runCli(['agent', '--status', '--data', data]);
    for (let i = 0; i < 40 && status.status !== 0; i++) {
      await new Promise((r) => setTimeout(r, 250));
      status = runCli(['agent', '--status', '--data', data]);
    }
    assert.equal(status.status, 0, `${status.stderr} / agent: ${stderr}`);
    assert.match(status.stdout, /^capture +replay, filter none$/m);
    assert.match(status.stdout, /^ {2}sample\.pcap +replaying, /m);
    child.kill('SIGTERM');
    const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('timeout'), 15_000))]);
    assert.equal(code, 0, stderr);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    await exited;
  }
  const records = parse(stdout);
  assert.ok(records.some((x) => x.type === 'summary'), 'the engine was flushed');
  assert.equal(records.at(-1)!.type, 'stats');
  assert.ok(parse(stderr).some((l) => l.msg === 'stopped' && l.reason === 'received SIGTERM'), stderr);
  const after = runCli(['agent', '--status', '--data', data]);
  assert.equal(after.status, 1);
  assert.match(after.stderr, /^loopy: the agent is not running \(it stopped \d+ s ago, pid \d+\)\n$/);
});

test('replaying a file that is not there: one line, exit 1', () => {
  // Its own socket: the default one may be another agent's (as root it is /run/loopy/agent.sock).
  const r = runCli(['agent', '--config', noConfig, '--listen', `unix:${join(root, 'absent.sock')}`, '-r', join(root, 'absent.pcap'), '--data', join(root, 'data-absent')]);
  assert.equal(r.status, 1);
  const last = r.stderr.trim().split('\n').at(-1)!;
  assert.match(last, /^loopy: .*absent\.pcap/);
});

test('without the capture addon: live capture fails with one line saying what to install; a replay still works', () => {
  const [cmd, ...pre] = cliCommand();
  const env = { ...process.env, LOOPY_CAPTURE_ADDON: join(root, 'no-addon.node') };
  const sock = `unix:${join(root, 'noaddon.sock')}`;
  const run = (args: string[]) => spawnSync(cmd, [...pre, 'agent', '--config', noConfig, '--listen', sock, ...args], { encoding: 'utf8', env, timeout: 60_000 });
  const live = run(['-i', 'lo', '--data', join(root, 'data-noaddon')]);
  assert.equal(live.status, 1);
  assert.equal(
    live.stderr,
    `loopy: live capture needs the capture addon, which was not built (no ${join(root, 'no-addon.node')}): ` +
      'apt-get install -y libpcap-dev build-essential python3, then npm rebuild loopy-netmon\n',
  );
  const replay = run(['-r', capture, '--max', '--stdout', '--data', join(root, 'data-noaddon')]);
  assert.equal(replay.status, 0, replay.stderr);
  assert.equal(parse(replay.stdout).find((x) => x.type === 'summary')!.packets, truthPackets);
});

// As another user libpcap refuses the socket before it looks for the device: that line is the permission's.
const liveSkip = captureAddonProblem() ? `capture addon: ${captureAddonProblem()}` : process.getuid?.() !== 0 ? 'needs root' : false;
test('-i with an interface that is not there: one line naming those that are, exit 1', { skip: liveSkip }, () => {
  const r = runCli(['agent', '--config', noConfig, '--listen', `unix:${join(root, 'nodev.sock')}`, '-i', 'loopy-nodev0', '--data', join(root, 'data-nodev')]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^loopy: cannot capture on loopy-nodev0: [^\n]*; available: [^\n]*\blo\b[^\n]*\n$/);
});

test('as root, a capture file only root may read is replayed after the drop to nobody, every round', { skip: process.getuid?.() !== 0 ? 'needs root' : false }, () => {
  const secret = join(root, 'root-only.pcap');
  copyFileSync(capture, secret);
  chmodSync(secret, 0o600);
  const data = join(root, 'data-root-only');
  // A socket directory the agent makes (as /run/loopy): it is handed to the user the agent becomes.
  const sock = join(root, 'run-loopy', 'agent.sock');
  const r = runCli(['agent', '--config', noConfig, '--listen', `unix:${sock}`, '-r', secret, '--max', '--stdout', '--user', 'nobody', '--data', data]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(parse(r.stdout).find((x) => x.type === 'summary')!.packets, truthPackets);
  assert.ok(parse(r.stderr).some((l) => l.dropped === true), 'privileges were dropped');
  assert.equal(existsSync(sock), false, 'the socket is removed at the clean stop, after the drop too');
});

test('as root, a data directory the user it becomes cannot reach (under a 0700 parent) is refused at start, in one line', { skip: process.getuid?.() !== 0 ? 'needs root' : false }, () => {
  const closed = join(root, 'closed');
  mkdirSync(closed, { mode: 0o700 });
  chmodSync(closed, 0o700);
  const r = runCli(['agent', '--config', noConfig, '--listen', `unix:${join(root, 'closed.sock')}`, '-r', capture, '--max', '--user', 'nobody', '--data', join(closed, 'data')]);
  assert.equal(r.status, 1);
  assert.equal(r.stderr, `loopy: user nobody cannot reach the data directory ${join(closed, 'data')}: ${closed} (mode 0700, owner uid 0) does not let it through; give --data a directory it can reach (e.g. /var/lib/loopy) or let it through (chmod o+x ${closed})\n`);
  assert.equal(existsSync(join(closed, 'data')), false, 'nothing was made');
});

test('SIGHUP after logrotate moved the log and --stats-out: new files of the same names, nothing lost', async () => {
  const data = join(root, 'data-hup');
  const [log, out] = [join(root, 'hup.log'), join(root, 'hup.ndjson')];
  const [cmd, ...pre] = cliCommand();
  const child = spawn(cmd, [...pre, 'agent', '--config', noConfig, '-r', capture, '--loop', '--speed', '50', '--log', log, '--stats-out', out, '--data', data, '--listen', `unix:${data}/agent.sock`], { stdio: 'ignore' });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  /** Bounded wait until `path` holds a line that `pred` accepts. */
  const lineIn = async (path: string, pred: (l: Rec) => boolean) => {
    for (let i = 0; i < 80; i++) {
      if (existsSync(path) && parse(readFileSync(path, 'utf8')).some(pred)) return true;
      await new Promise((r) => setTimeout(r, 250));
    }
    return false;
  };
  try {
    assert.ok(await lineIn(out, (l) => l.type === 'stats'), 'the first stats record');
    // What logrotate does: move the files, then HUP.
    renameSync(log, `${log}.1`);
    renameSync(out, `${out}.1`);
    // logrotate's `create 0600 loopy loopy`: as root the agent runs as nobody, which cannot create files here.
    for (const path of [log, out]) {
      writeFileSync(path, '', { mode: 0o600 });
      if (process.getuid?.() === 0) chownSync(path, realPrivilegeOps.lookupUser('nobody')!.uid, realPrivilegeOps.lookupUser('nobody')!.gid);
    }
    child.kill('SIGHUP');
    assert.ok(await lineIn(log, (l) => l.msg === 'SIGHUP: reopened the log and output files'), 'a new log file');
    assert.ok(await lineIn(out, (l) => l.type === 'stats'), 'a new --stats-out file');
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
  } finally {
    child.kill('SIGKILL');
  }
  assert.ok(parse(readFileSync(`${log}.1`, 'utf8')).some((l) => /^replaying /.test(l.msg)), 'the old log kept its lines');
  assert.ok(parse(readFileSync(log, 'utf8')).some((l) => l.msg === 'stopped'));
  assert.equal(statSync(log).mode & 0o777, 0o600);
  assert.equal(statSync(out).mode & 0o777, 0o600);
  const records = [...parse(readFileSync(`${out}.1`, 'utf8')), ...parse(readFileSync(out, 'utf8'))];
  assert.equal(records.at(-1)!.type, 'stats', 'the last lines reached the new file, whole');
});
