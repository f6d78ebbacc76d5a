/**
 * The connect trace's hand-assembled eBPF program, loaded into this kernel (root): connects made now to
 * 127.0.0.1 — from this process, refused, and from a shell that connects and exits at once — come back
 * with the right process, ports and outcome. The kernel's verifier is the first check: a bad instruction
 * and the trace does not open.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { captureAddonProblem } from '../capture/live-addon.js';
import { CgroupUnits, cgroup2Mount } from './cgroup-units.js';
import { ConnectTrace, type TracedConnect } from './connect-trace.js';
import { realHostIO } from './host-io.js';

function skipReason(): string | false {
  let reason: string | false = captureAddonProblem() ?? false;
  if (!reason && process.getuid?.() !== 0) reason = 'the connect trace test needs root (it loads an eBPF program)';
  if (reason && process.env.CI) throw new Error(`${reason} (required in CI)`);
  if (reason) console.warn(`SKIPPING connect trace test: ${reason}`);
  return reason;
}

const skip = skipReason();
let trace: ConnectTrace | undefined;
let server: Server;
let port = 0;

before(async () => {
  if (skip) return;
  const opened = ConnectTrace.open();
  assert.ok(typeof opened !== 'string', `the trace did not open: ${opened as string}`);
  trace = opened;
  server = createServer((s) => s.end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
});

after(() => {
  trace?.close();
  server?.close();
});

/** The connects seen so far whose remote port is `remotePort`, asked until `count` came (bounded). */
async function connectsTo(remotePort: number, count: number): Promise<TracedConnect[]> {
  const seen: TracedConnect[] = [];
  for (let i = 0; i < 50 && seen.length < count; i++) {
    seen.push(...trace!.read().filter((c) => c.remotePort === remotePort));
    if (seen.length < count) await new Promise((r) => setTimeout(r, 20));
  }
  return seen;
}

test('a connect from this process: its pid, comm, ports and 127.0.0.1', { skip }, async () => {
  const socket: Socket = connect(port, '127.0.0.1');
  await new Promise((resolve) => socket.on('connect', resolve));
  const localPort = socket.localPort;
  const [c] = await connectsTo(port, 1);
  socket.destroy();
  assert.ok(c, 'no record of the connect');
  assert.equal(c.pid, process.pid);
  assert.equal(c.name, readFileSync('/proc/self/comm', 'utf8').trim());
  assert.equal(c.uid, 0);
  assert.equal(c.version, 4);
  assert.equal(c.refused, false);
  assert.equal(c.localPort, localPort);
  assert.deepEqual([...c.local], [0x7f000001, 0, 0, 0]);
  assert.deepEqual([...c.remote], [0x7f000001, 0, 0, 0]);
});

test('a refused connect (nothing listens) is told as refused', { skip }, async () => {
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const closedPort = (closed.address() as { port: number }).port;
  await new Promise((resolve) => closed.close(resolve));
  const socket = connect(closedPort, '127.0.0.1');
  await new Promise((resolve) => socket.on('error', resolve));
  const [c] = await connectsTo(closedPort, 1);
  assert.ok(c, 'no record of the refused connect');
  assert.equal(c.pid, process.pid);
  assert.equal(c.refused, true);
});

test('a process that connects and exits at once is named, with its own pid', { skip }, async () => {
  // bash opens /dev/tcp and exits: the socket lives a few milliseconds, the process no longer.
  const r = spawnSync('bash', ['-c', `echo $$; exec 3<>/dev/tcp/127.0.0.1/${port}`], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const [c] = await connectsTo(port, 1);
  assert.ok(c, 'no record of the shell\'s connect');
  assert.equal(c.pid, Number(r.stdout.trim()));
  assert.equal(c.name, 'bash');
});

test('a gone process\'s cgroup id names its unit', { skip }, async (t) => {
  const mount = cgroup2Mount(readFileSync('/proc/self/mountinfo', 'utf8'));
  if (mount === undefined) return t.skip('no cgroup2 mounted here');
  const unit = `loopy-trace-h-proc15-${process.pid}.service`;
  const dir = join(mount.dir, unit);
  mkdirSync(dir);
  try {
    // The shell moves itself into the unit's cgroup, connects and exits; the cgroup stays until the test ends.
    const r = spawnSync('bash', ['-c', `echo $$ > ${dir}/cgroup.procs; exec 3<>/dev/tcp/127.0.0.1/${port}`], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const [c] = await connectsTo(port, 1);
    assert.ok(c, 'no record of the shell\'s connect');
    assert.equal(new CgroupUnits(realHostIO).unitOf(c.cgroupId, 0), unit);
  } finally {
    rmdirSync(dir);
  }
});
