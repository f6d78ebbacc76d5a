/**
 * `loopy ui --local` as a first-time user runs it: from a folder that is not the clone, in tmux. The demo agent
 * it starts replays the demo capture found beside the package (made there on first use), not in the working
 * directory; where this process can capture, this machine's live agent is shown beside it. On q the agents stop
 * and the last line says where their evidence pcaps are kept. Skipped without tmux.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hostname } from 'node:os';
import { captureAbility, replayReason } from './launch/local-agent.js';
import { cliCommand } from '../test-support/cli.js';
import { TmuxServer, escapeRegExp, haveTmux } from './testing/tmux.js';

const skip = haveTmux() ? false : 'tmux is not installed (apt-get install tmux)';
const cannotCapture = replayReason(captureAbility());
const quote = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;

/** Runs `loopy ui ARGS` in tmux from an empty folder with XDG_DATA_HOME under `dir`; its stderr and status land in `dir`. */
function startUi(server: TmuxServer, dir: string, args: string[]): void {
  const elsewhere = join(dir, 'elsewhere');
  const ui = [...cliCommand(), 'ui', ...args].map(quote).join(' ');
  const script = `mkdir -p ${quote(elsewhere)} && cd ${quote(elsewhere)} && XDG_DATA_HOME=${quote(join(dir, 'data'))} ${ui} 2>${quote(join(dir, 'stderr'))}; echo $? >${quote(join(dir, 'status'))}`;
  server.start('local', 100, 30, ['sh', '-c', script]);
}

/** Quits with q and returns the UI's stderr once it has exited 0. */
async function quit(server: TmuxServer, dir: string): Promise<string> {
  server.keys('local', 'q');
  const deadline = Date.now() + 20_000;
  while (!existsSync(join(dir, 'status')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  const stderr = readFileSync(join(dir, 'stderr'), 'utf8');
  assert.equal(readFileSync(join(dir, 'status'), 'utf8').trim(), '0', stderr);
  return stderr;
}

test('loopy ui --local from another folder: replays the package\'s demo capture, keeps evidence in XDG_DATA_HOME', { skip, timeout: 90_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'loopy-ui-local-'));
  const server = new TmuxServer(`loopy-ui-local-${process.pid}`);
  try {
    startUi(server, dir, ['--local', '--replay']);
    const overview = await server.waitFor('local', /● demo\s+connected/, 60_000);
    assert.doesNotMatch(overview, /agent\.sock/, 'shown by its name, not its socket');
    await server.waitFor('local', /fleet \d+\/\d+ up .* [1-9][0-9.]*[kM]? pkt\/s/);
    const stderr = await quit(server, dir);
    const evidence = join(dir, 'data', 'loopy', 'evidence');
    assert.match(stderr, /demo: replaying \S*\/samples\/demo\.pcap in a loop \(as asked\)/);
    assert.match(stderr, new RegExp(`local agent stopped; evidence pcaps are kept in ${escapeRegExp(evidence)}\\n`));
    assert.equal(statSync(evidence).mode & 0o777, 0o700);
    assert.deepEqual(readdirSync(join(dir, 'elsewhere')), [], 'nothing made in the working directory');
  } finally {
    server.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a terminal that goes away (tmux killed, ssh hung up) takes the local agents and their data with it', { skip, timeout: 90_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'loopy-ui-hangup-'));
  const server = new TmuxServer(`loopy-ui-hangup-${process.pid}`);
  const agentsOfThisTest = () => spawnSync('pgrep', ['-f', `agent .*${dir}`], { encoding: 'utf8' }).stdout.trim();
  try {
    startUi(server, dir, ['--local', '--replay']);
    await server.waitFor('local', /● demo\s+connected/, 60_000);
    assert.notEqual(agentsOfThisTest(), '', 'the demo agent runs');
    const dataDirs = agentsOfThisTest().split('\n').map((pid) => /--data\0([^\0]+)/.exec(readFileSync(`/proc/${pid}/cmdline`, 'latin1'))?.[1]);
    assert.ok(dataDirs.every((d) => d !== undefined && existsSync(d)), `each agent's data directory: ${dataDirs.join(', ')}`);
    server.kill(); // the UI gets SIGHUP, as from a closed terminal
    const deadline = Date.now() + 15_000;
    while (agentsOfThisTest() !== '' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    assert.equal(agentsOfThisTest(), '', 'no agent left running');
    assert.deepEqual(dataDirs.filter((d) => existsSync(d!)), [], 'no agent data left behind');
  } finally {
    server.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('npm start where it can capture: this machine live and the demo on the Overview, the demo\'s port scan on Alerts', { skip: skip || (cannotCapture && `cannot capture live here: ${cannotCapture}`), timeout: 150_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'loopy-ui-local-'));
  const server = new TmuxServer(`loopy-ui-both-${process.pid}`);
  try {
    startUi(server, dir, ['--local']);
    const host = escapeRegExp(hostname());
    await server.waitFor('local', new RegExp(`● ${host}\\s+connected[\\s\\S]*● demo\\s+connected`), 60_000);
    server.keys('local', '6');
    // The demo capture's port scan starts a fifth of the way into its 80 s, replayed at real speed.
    const alerts = await server.waitFor('local', /OPEN\s+\S+\s+port_scan[^\n]*demo/, 90_000);
    assert.match(alerts, /Alerts/);
    const stderr = await quit(server, dir);
    assert.match(stderr, new RegExp(`${host}: live capture on all interfaces`));
    assert.match(stderr, /demo: replaying \S*\/samples\/demo\.pcap in a loop \(beside live capture/);
    assert.match(stderr, /local agents stopped/);
  } finally {
    server.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});
