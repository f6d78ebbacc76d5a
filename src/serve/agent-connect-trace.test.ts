/**
 * The agent started as root and dropping to `--user nobody`, as a user runs it (root only): between two
 * network namespaces, shells that open a connection and exit at once — a process that lives a few
 * milliseconds, gone before any /proc walk could find its descriptor — are named on their conn records
 * by the connect trace (eBPF); a listener started as root is still named after the drop (the capabilities
 * kept for /proc). Started without those capabilities (setpriv's bounding set, as a container without
 * them is), the agent says once that attribution is partial, or off, and goes on. Everything is torn down.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { captureAddonProblem } from '../capture/live-addon.js';
import { NamespacePair, sh } from '../test-support/netns.js';
import { JsonChild, startAgentIn } from './agent-netns.test-util.js';

const pair = new NamespacePair('lct', { net: (process.pid + 33) % 250 });
const FAR_PORT = 8484;
const NEAR_PORT = 8585;
const LATE_PORT = 8686;
/** Sources of the connections to the late listener: as many address pairs, shared out between the engines. */
const SOURCES = 16;
const SHELLS = 40;

function skipReason(): string | false {
  let reason: string | false = captureAddonProblem() ?? false;
  if (!reason && process.getuid?.() !== 0) reason = 'the connect trace tests need root (namespaces, an eBPF program, a privilege drop)';
  for (const [tool, args] of [['ip', ['-V']], ['python3', ['-V']], ['bash', ['--version']], ['setpriv', ['--version']]] as const) {
    if (!reason && spawnSync(tool, args).status !== 0) reason = `${tool} is not installed`;
  }
  if (reason && process.env.CI) throw new Error(`${reason} (required in CI)`);
  if (reason) console.warn(`SKIPPING connect trace agent tests: ${reason}`);
  return reason;
}

/** Accepts and closes at once, forever (a server each connection touches for a moment). */
const SERVER = `
import socket, sys
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); l.bind((sys.argv[1], int(sys.argv[2]))); l.listen(128)
print('{"event": "ready"}', flush=True)
while True:
    c, _ = l.accept(); c.close()
`;

const running: JsonChild[] = [];
function server(ns: string, addr: string, port: number): JsonChild {
  const child = new JsonChild(spawn('ip', ['netns', 'exec', ns, 'python3', '-c', SERVER, addr, String(port)], { stdio: ['pipe', 'pipe', 'pipe'] }));
  running.push(child);
  return child;
}

/** A shell in `ns` that prints its pid, opens a connection and exits: the process lives milliseconds. */
function shellConnect(ns: string, addr: string, port: number): number {
  const r = spawnSync('ip', ['netns', 'exec', ns, 'bash', '-c', `echo $$; exec 3<>/dev/tcp/${addr}/${port}`], { encoding: 'utf8', timeout: 10_000 });
  assert.equal(r.status, 0, r.stderr);
  return Number(r.stdout.trim());
}

/** The agent in namespace A as root dropping to nobody, through `setpriv --bounding-set` when `without` names capabilities. */
async function agentWithout(root: string, name: string, without: string[], ready: RegExp, extra: string[] = []): Promise<JsonChild> {
  const wrapper = without.length === 0 ? [] : ['setpriv', '--bounding-set', without.map((c) => `-${c}`).join(',')];
  const agent = startAgentIn(pair.nsA, ['-i', pair.ifA, '--stdout', '--user', 'nobody', '--no-detect', '--data', join(root, name), ...extra], wrapper);
  running.push(agent);
  assert.ok(await agent.until(() => agent.err.some((l) => ready.test(l.msg ?? '')), 20_000), `no "${ready.source}" from the agent: ${agent.stderrText}`);
  return agent;
}

/** Shells connecting from namespace A to the far server, then the agent stopped: its conn records and their pids. */
async function shellsThenStop(agent: JsonChild, count: number): Promise<{ pids: number[]; conns: Array<Record<string, any>> }> {
  const pids: number[] = [];
  for (let i = 0; i < count; i++) pids.push(shellConnect(pair.nsA, pair.addrB, FAR_PORT));
  // Two seconds rolled after the last shell: its packets have left the capture's ring for the engine.
  const seconds = agent.out.filter((r) => r.type === 'stats').length;
  assert.ok(await agent.until(() => agent.out.filter((r) => r.type === 'stats').length >= seconds + 2, 10_000), 'no stats records');
  assert.notEqual(await agent.stop(), 'killed');
  return { pids, conns: agent.out.filter((r) => r.type === 'conn' && r['id.resp_p'] === FAR_PORT) };
}

/** Each thread's permitted and effective capability masks (CapPrm, CapEff of /proc/PID/task/TID/status). */
function threadCapabilities(pid: number): Array<{ permitted: bigint; effective: bigint }> {
  return readdirSync(`/proc/${pid}/task`).map((tid) => {
    const status = readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
    const mask = (field: string) => BigInt(`0x${new RegExp(`^${field}:\\s*([0-9a-f]+)$`, 'm').exec(status)![1]}`);
    return { permitted: mask('CapPrm'), effective: mask('CapEff') };
  });
}

/** CAP_DAC_READ_SEARCH (2) and CAP_SYS_PTRACE (19): what an agent that dropped root keeps to read /proc. */
const ATTRIBUTION_MASK = (1n << 2n) | (1n << 19n);

/** One connection from each of `count` addresses of namespace B (198.19.15.N on its loopback) to `addr`:`port`. */
function fromManySources(addr: string, port: number, count: number): void {
  sh(['ip', '-n', pair.nsA, 'route', 'replace', '198.19.15.0/24', 'via', pair.addrB]);
  for (let i = 1; i <= count; i++) sh(['ip', '-n', pair.nsB, 'addr', 'replace', `198.19.15.${i}/32`, 'dev', 'lo']);
  const code = `import socket, sys
for i in range(1, int(sys.argv[3]) + 1):
    s = socket.socket(); s.bind(('198.19.15.%d' % i, 0)); s.connect((sys.argv[1], int(sys.argv[2]))); s.sendall(b'x'); s.close()`;
  const r = spawnSync('ip', ['netns', 'exec', pair.nsB, 'python3', '-c', code, addr, String(port), String(count)], { encoding: 'utf8', timeout: 10_000 });
  assert.equal(r.status, 0, r.stderr);
}

describe('the connect trace in an agent that drops root', { skip: skipReason() }, () => {
  const root = mkdtempSync(join(tmpdir(), 'loopy-connect-trace-'));
  let near: JsonChild;

  before(async () => {
    chmodSync(root, 0o711); // nobody makes its data directories below
    pair.setUp();
    const far = server(pair.nsB, pair.addrB, FAR_PORT);
    near = server(pair.nsA, pair.addrA, NEAR_PORT);
    for (const s of [far, near]) assert.ok(await s.until(() => s.out.some((l) => l.event === 'ready'), 10_000), s.stderrText);
  });

  after(async () => {
    for (const c of running) await c.stop(5000);
    pair.tearDown();
    rmSync(root, { recursive: true, force: true });
  });

  test('as nobody: every shell that connects and exits is named by the trace; the root listener by /proc', async () => {
    const agent = await agentWithout(root, 'full', [], /^process attribution on/);
    const drop = agent.err.find((l) => /^capture open; dropped root privileges to user nobody/.test(l.msg ?? ''));
    assert.deepEqual(drop?.kept, ['CAP_DAC_READ_SEARCH', 'CAP_SYS_PTRACE'], agent.stderrText);
    assert.equal(agent.err.find((l) => /^process attribution on/.test(l.msg ?? ''))?.connect_trace, true);
    for (let i = 0; i < 3; i++) shellConnect(pair.nsB, pair.addrA, NEAR_PORT);
    const { pids, conns } = await shellsThenStop(agent, SHELLS);
    const named = pids.filter((pid) => conns.some((r) => r.orig_process?.pid === pid && r.orig_process.name === 'bash' && r.orig_process.user === 'root'));
    assert.equal(named.length, SHELLS, `shells named: ${named.length} of ${SHELLS}; ${JSON.stringify(conns.slice(0, 3))}`);
    const stopped = agent.err.find((l) => l.msg === 'stopped');
    assert.ok(stopped?.processes?.traced >= SHELLS, JSON.stringify(stopped?.processes));
    // A listener of root's, named by reading its descriptors: what the capabilities kept across the drop allow.
    const accepted = agent.out.filter((r) => r.type === 'conn' && r['id.resp_p'] === NEAR_PORT);
    assert.ok(accepted.length >= 3, `conn records to the near server: ${accepted.length}`);
    for (const r of accepted) assert.equal(r.resp_process?.pid, near.pid, JSON.stringify(r));
  });

  test('with --workers 2 as nobody: each engine\'s thread keeps the pair and no thread more; a listener started later is named by both', async () => {
    const agent = await agentWithout(root, 'workers', [], /^capturing on /, ['--workers', '2']);
    assert.ok(await agent.until(() => agent.err.filter((l) => /^process attribution on/.test(l.msg ?? '')).length >= 2, 10_000), agent.stderrText);
    const threads = threadCapabilities(agent.pid);
    // No thread keeps more than the pair (the engines' threads set PR_SET_KEEPCAPS: their whole root set, until trimmed).
    assert.deepEqual(threads.filter((t) => (t.permitted & ~ATTRIBUTION_MASK) !== 0n || (t.effective & ~ATTRIBUTION_MASK) !== 0n), [], 'a thread holds more than the pair');
    assert.ok(threads.filter((t) => t.effective === ATTRIBUTION_MASK).length >= 2, `threads holding the pair: ${threads.filter((t) => t.effective === ATTRIBUTION_MASK).length}`);
    // A root listener started after the drop: each engine's attribution reads its descriptors with its thread's capabilities.
    const late = server(pair.nsA, pair.addrA, LATE_PORT);
    assert.ok(await late.until(() => late.out.some((l) => l.event === 'ready'), 10_000), late.stderrText);
    fromManySources(pair.addrA, LATE_PORT, SOURCES);
    const seconds = agent.out.filter((r) => r.type === 'stats').length;
    assert.ok(await agent.until(() => agent.out.filter((r) => r.type === 'stats').length >= seconds + 2, 10_000), 'no stats records');
    assert.notEqual(await agent.stop(), 'killed');
    const accepted = agent.out.filter((r) => r.type === 'conn' && r['id.resp_p'] === LATE_PORT);
    assert.equal(new Set(accepted.map((r) => r['id.orig_h'])).size, SOURCES, JSON.stringify(accepted.map((r) => r['id.orig_h'])));
    const unnamed = accepted.filter((r) => r.resp_process?.pid !== late.pid);
    assert.deepEqual(unnamed.map((r) => r['id.orig_h']), [], `accepted connections not named: ${JSON.stringify(unnamed[0])}`);
  });

  test('without CAP_DAC_READ_SEARCH and CAP_SYS_PTRACE: partial, said once; connects are still named', async () => {
    const agent = await agentWithout(root, 'partial', ['dac_read_search', 'sys_ptrace'], /^process attribution partial/);
    const { pids, conns } = await shellsThenStop(agent, 5);
    assert.equal(agent.err.filter((l) => /^process attribution/.test(l.msg ?? '')).length, 1, agent.stderrText);
    assert.equal(pids.filter((pid) => conns.some((r) => r.orig_process?.pid === pid)).length, 5);
  });

  test('without them and without CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN: off, said once; records carry no process', async () => {
    const agent = await agentWithout(root, 'off', ['dac_read_search', 'sys_ptrace', 'bpf', 'perfmon', 'sys_admin'], /^process attribution off/);
    const { conns } = await shellsThenStop(agent, 5);
    assert.equal(agent.err.filter((l) => /^process attribution/.test(l.msg ?? '')).length, 1, agent.stderrText);
    assert.ok(conns.length >= 5, `conn records: ${conns.length}`);
    assert.ok(conns.every((r) => r.orig_process === undefined), JSON.stringify(conns[0]));
  });
});
