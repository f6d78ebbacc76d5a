/**
 * `loopy ui --local` as a first-time user runs it: from a folder that is not the clone, in tmux. The agent it
 * starts replays the demo capture found beside the package (made there on first use), not in the working
 * directory; on q the agent stops and the last line says where its evidence pcaps are kept. Skipped without tmux.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliCommand } from '../test-support/cli.js';
import { TmuxServer, escapeRegExp, haveTmux } from './testing/tmux.js';

const skip = haveTmux() ? false : 'tmux is not installed (apt-get install tmux)';

test('loopy ui --local from another folder: replays the package\'s demo capture, keeps evidence in XDG_DATA_HOME', { skip, timeout: 90_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'loopy-ui-local-'));
  const elsewhere = join(dir, 'elsewhere');
  const server = new TmuxServer(`loopy-ui-local-${process.pid}`);
  try {
    const quote = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;
    const ui = [...cliCommand(), 'ui', '--local', '--replay'].map(quote).join(' ');
    const script = `mkdir -p ${quote(elsewhere)} && cd ${quote(elsewhere)} && XDG_DATA_HOME=${quote(join(dir, 'data'))} ${ui} 2>${quote(join(dir, 'stderr'))}; echo $? >${quote(join(dir, 'status'))}`;
    server.start('local', 100, 30, ['sh', '-c', script]);
    await server.waitFor('local', /● \S*agent\.sock\s+connected/, 60_000);
    await server.waitFor('local', /pps in/);
    server.keys('local', 'q');
    const deadline = Date.now() + 20_000;
    while (!existsSync(join(dir, 'status')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const stderr = readFileSync(join(dir, 'stderr'), 'utf8');
    assert.equal(readFileSync(join(dir, 'status'), 'utf8').trim(), '0', stderr);
    const evidence = join(dir, 'data', 'loopy', 'evidence');
    assert.match(stderr, /replaying \S*\/samples\/demo\.pcap in a loop \(as asked\)/);
    assert.match(stderr, new RegExp(`local agent stopped; its evidence pcaps are kept in ${escapeRegExp(evidence)}\\n`));
    assert.equal(statSync(evidence).mode & 0o777, 0o700);
    assert.deepEqual(readdirSync(elsewhere), [], 'nothing made in the working directory');
  } finally {
    server.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});
