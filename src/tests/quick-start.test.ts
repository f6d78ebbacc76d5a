/**
 * The README's start command as a first-time user runs it (issue 17): the repository cloned into an empty folder
 * (no ../shared beside it), the command run as written, as root with no `sudo` on the PATH, in tmux. The
 * Overview shows this machine's agent and the demo; the Alerts view shows the demo's port scan; q exits 0.
 * Root only (the command installs apt packages and links /usr/local/bin/loopy, put back as it was after);
 * it needs git, tmux and the apt and npm registries, as CI has.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync, unlinkSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { projectRoot } from '../test-support/corpus.js';
import { captureAbility, replayReason } from '../ui/launch/local-agent.js';
import { TmuxServer, escapeRegExp, haveTmux } from '../ui/testing/tmux.js';

const LINK = '/usr/local/bin/loopy';

function skipReason(): string | false {
  if (process.getuid?.() !== 0) return 'the quick start test runs the README as root (apt-get, /usr/local/bin)';
  if (!haveTmux()) return 'tmux is not installed (apt-get install tmux)';
  if (spawnSync('git', ['-C', projectRoot, 'rev-parse', 'HEAD']).status !== 0) return 'not a git checkout: nothing to clone';
  const cannot = replayReason(captureAbility());
  return cannot ? `cannot capture live here: ${cannot}` : false;
}

/** The README's start command: the first sh block of its quick start. */
function startCommand(): string {
  const readme = readFileSync(join(projectRoot, 'README.md'), 'utf8');
  const block = /```sh\n([\s\S]*?)\n```/.exec(readme.slice(readme.indexOf('## Quick start')));
  assert.ok(block, 'the quick start has a sh block');
  return block[1].trim();
}

/** PATH without any directory that holds a sudo: root in a container, where there is none. */
function pathWithoutSudo(): string {
  return (process.env.PATH ?? '/usr/bin:/bin').split(delimiter).filter((d) => d && !existsSync(join(d, 'sudo'))).join(delimiter);
}

/** Puts /usr/local/bin/loopy back as it was (a link, or nothing; a file there would have been replaced by ln -sf). */
function savedLink(): () => void {
  const before = isLink(LINK) ? readlinkSync(LINK) : undefined;
  return () => {
    if (isLink(LINK)) unlinkSync(LINK);
    if (before !== undefined) symlinkSync(before, LINK);
  };
}

function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

test('the README\'s start command in an empty folder: both agents on the Overview, the demo\'s port scan on Alerts', { skip: skipReason(), timeout: 900_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'loopy-quick-start-'));
  const clone = join(dir, 'empty', 'loopy');
  mkdirSync(join(dir, 'empty'));
  const cloned = spawnSync('git', ['clone', '-q', projectRoot, clone], { encoding: 'utf8' });
  assert.equal(cloned.status, 0, cloned.stderr);
  const restore = savedLink();
  const server = new TmuxServer(`loopy-quick-start-${process.pid}`);
  try {
    const script = `cd '${clone}' && export PATH='${pathWithoutSudo()}' XDG_DATA_HOME='${dir}/data' && { ${startCommand()} ; } 2>'${dir}/stderr'; echo $? >'${dir}/status'`;
    server.start('qs', 120, 36, ['bash', '-c', script]);
    const host = escapeRegExp(hostname());
    await server.waitFor('qs', new RegExp(`● ${host}\\s+connected[\\s\\S]*● demo\\s+connected`), 720_000, 1000);
    server.keys('qs', '6');
    await server.waitFor('qs', /OPEN\s+\S+\s+port_scan[^\n]*demo/, 120_000);
    server.keys('qs', 'q');
    const deadline = Date.now() + 30_000;
    while (!existsSync(join(dir, 'status')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    assert.equal(readFileSync(join(dir, 'status'), 'utf8').trim(), '0', readFileSync(join(dir, 'stderr'), 'utf8'));
    assert.equal(readlinkSync(LINK), join(clone, 'bin', 'loopy'), 'the command put loopy on the PATH');
  } finally {
    server.kill();
    restore();
    rmSync(dir, { recursive: true, force: true });
  }
});
