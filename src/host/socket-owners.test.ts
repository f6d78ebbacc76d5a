/**
 * The addon's owner walk (native/src/socket-owners.c) against a real process: a python child listening
 * on a port is found as the owner of its socket's inode (from a sock_diag dump), among other pids and
 * past a pid that does not exist; an inode nobody holds stays 0. Children are killed even on failure.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { captureAddonProblem } from '../capture/live-addon.js';
import { realHostIO } from './host-io.js';
import { parseSocketDump, type SocketEntry, SocketState } from './socket-entries.js';
import { Pacer } from './pacer.js';

const skip = captureAddonProblem() ?? false;
let child: ChildProcess | undefined;
let port = 0;

before(async () => {
  if (skip) return;
  child = spawn('python3', ['-c', "import socket,sys,time\ns=socket.socket(); s.bind(('127.0.0.1',0)); s.listen(1)\nprint(s.getsockname()[1], flush=True)\ntime.sleep(60)"], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = (await once(child.stdout!, 'data')) as [Buffer];
  port = Number(line.toString().trim());
});

after(() => child?.kill('SIGKILL'));

test('socketOwners finds the process holding a socket inode', { skip }, () => {
  const entries: SocketEntry[] = [];
  parseSocketDump(realHostIO.socketDump(2, 6, 1 << SocketState.Listen)!, 6, () => false, entries);
  const mine = entries.find((e) => e.localPort === port);
  assert.ok(mine, `the dump lists the child's listener on port ${port}`);
  const inodes = Uint32Array.of(mine.inode, 0xfffffff0);
  const owners = new Int32Array(2);
  const counts = new Float64Array(2);
  const pids = Int32Array.of(process.pid, 0x3ffffff0, child!.pid!);
  const done = realHostIO.socketOwners(pids, inodes, owners, 0, counts);
  assert.deepEqual([...owners], [child!.pid, 0]);
  assert.equal(done, 3, 'one inode is nobody\'s: every pid was read');
  assert.equal(counts[0], 3);
  assert.ok(counts[1] >= 4, 'the child\'s descriptors were read');
});

test('a pacer spaces runs by their cost over the share, after what it saved, within its bounds', () => {
  const pacer = new Pacer(100, 0.02, { maxMs: 1000 });
  assert.equal(pacer.due(0), true);
  pacer.ran(0, 1);
  assert.equal(pacer.nextAt, 100, 'a cheap run: the minimum');
  pacer.ran(100, 10);
  assert.equal(pacer.nextAt, 100 + 500, '10 ms at 2 % after 1 ms paid off: 500 ms later');
  pacer.ran(600, 100);
  assert.equal(pacer.nextAt, 1600, 'a costly run pauses at most the maximum');
  assert.equal(pacer.due(1599), false);

  const bursty = new Pacer(0, 0.02, { burstMs: 20 });
  bursty.ran(0, 8);
  bursty.ran(1, 8);
  assert.equal(bursty.nextAt, 1, 'within what it saved: no pause');
  bursty.ran(2, 8);
  assert.ok(Math.abs(bursty.nextAt - (2 + (24 - 20 - 0.04) / 0.02)) < 1e-9, 'past it: the debt paid at the share');
});
