/**
 * Process attribution, measured (root; not a test, not in `npm run bench`'s list: it needs a live agent):
 * `loopy agent -i lo` beside a server on 127.0.0.1 and clients making short connections, then the share of
 * conn records whose originator is named, and the attribution's own time (busy ms, from the agent's
 * status file, read as the traffic starts and once it has ended) per second of traffic and per
 * connection. One agent per kind of client: one process opening connections from threads at a given rate
 * (a busy service), and a new process per connection (bash's /dev/tcp, as a cron job or curl would be).
 * The agent is started as root and drops to `nobody`, keeping what attribution needs (as a user would run
 * it). The busy service is run three times: with the connect trace (eBPF), with /proc polling only (the
 * agent started without CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN in its bounding set, so it cannot load
 * the program), and with attribution off (without CAP_DAC_READ_SEARCH and CAP_SYS_PTRACE either); the
 * agent's CPU time (utime + stime) of the runs is compared: the difference is the feature's whole cost,
 * its shorter capture timeout and the engine's questions included.
 *
 *   node dist/bench/process-attribution.js [--connections 10000] [--hold-ms 50] [--rate 1000]
 *                                          [--processes 300] [--process-rate 20]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { cliCommand } from '../test-support/cli.js';

const SERVER = `
import socket, sys, threading
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); l.bind(('127.0.0.1', int(sys.argv[1]))); l.listen(4096)
def serve(c):
    while c.recv(4096): pass
    c.close()
while True:
    c, _ = l.accept(); threading.Thread(target=serve, args=(c,), daemon=True).start()
`;
/** Connections from threads of one process, started at `rate` a second (the clock, not a sleep each, keeps the pace). */
const THREADED = `
import socket, sys, threading, time, os
port, n, hold, rate = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]) / 1000, float(sys.argv[4])
print(os.getpid(), flush=True)
def one():
    s = socket.create_connection(('127.0.0.1', port)); s.sendall(b'x'); time.sleep(hold); s.close()
threads = []
start = time.monotonic()
for i in range(n):
    t = threading.Thread(target=one); t.start(); threads.append(t)
    delay = start + (i + 1) / rate - time.monotonic()
    if delay > 0: time.sleep(delay)
for t in threads: t.join()
`;

interface Phase {
  kind: string;
  connections: number;
  records: number;
  named: number;
  named_pct: number;
  /** Named with /proc's facts too (the executable: read while the process lived), % of the connections. */
  exe_pct: number;
  names: Record<string, number>;
  seconds: number;
  attribution: Record<string, number>;
  busy_ms_per_s: number;
  core_pct: number;
  busy_us_per_connection: number;
  /** The agent's CPU time over the traffic, % of a core. */
  agent_cpu_pct: number;
}

/** utime + stime of a process, in seconds (clock ticks of 1/100 s). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

/** The attribution's busy milliseconds and the status's time (s), from the agent's status file (rewritten every second). */
function busyNow(dir: string): { busy: number; at: number } {
  const status = JSON.parse(readFileSync(join(dir, 'status.json'), 'utf8')) as { updated: number; processes?: { busy_ms: number } };
  return { busy: status.processes?.busy_ms ?? NaN, at: status.updated };
}

const opts = parseArgs({
  options: {
    connections: { type: 'string', default: '10000' }, 'hold-ms': { type: 'string', default: '50' }, rate: { type: 'string', default: '1000' },
    processes: { type: 'string', default: '300' }, 'process-rate': { type: 'string', default: '20' },
  },
}).values;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const TAIL_MS = 7000; // closed flows linger 5 s before their conn records

/**
 * Runs the clients without blocking this process: blocked, it would stop reading the agent's output, whose
 * pipe would fill and stall the agent (records lost to the capture's ring, as a first version of this bench did).
 */
function run(cmd: string, args: string[]): Promise<unknown> {
  const child = spawn(cmd, args, { stdio: 'ignore' });
  return new Promise((resolve) => child.on('exit', resolve));
}

/** How attribution runs: with the connect trace, by /proc polling only, or not at all (the capabilities the agent starts without). */
type Mode = 'trace' | 'proc' | 'off';
const WITHOUT: Record<Mode, string[]> = {
  trace: [],
  proc: ['-bpf', '-perfmon', '-sys_admin'],
  off: ['-bpf', '-perfmon', '-sys_admin', '-dac_read_search', '-sys_ptrace'],
};

/** An agent on lo for one kind of client: `traffic` runs the clients; their conn records and the attribution's figures come back. */
async function measure(kind: string, port: number, connections: number, traffic: () => Promise<unknown>, mode: Mode = 'trace'): Promise<Phase> {
  const dir = mkdtempSync(join(tmpdir(), 'loopy-attr-bench-'));
  const without = WITHOUT[mode].length === 0 ? [] : ['setpriv', '--bounding-set', WITHOUT[mode].join(',')];
  const [cmd, ...pre] = [...without, ...cliCommand()];
  const agent = spawn(cmd, [...pre, 'agent', '-i', 'lo', '-f', `tcp port ${port}`, '--stdout', '--user', 'nobody', '--no-detect', '--data', dir, '--listen', `unix:${dir}/s.sock`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let log = '';
  agent.stdout.on('data', (d) => (out += d));
  agent.stderr.on('data', (d) => (log += d));
  try {
    const ready = mode === 'off' ? 'process attribution off' : 'process attribution on';
    for (let i = 0; i < 100 && !log.includes(ready); i++) await sleep(100);
    if (!log.includes(ready)) throw new Error(`no "${ready}" from the agent: ${log}`);
    await sleep(1500); // a status file written since the first sweep
    const before = busyNow(dir);
    const cpuBefore = cpuSeconds(agent.pid!);
    await traffic();
    await sleep(1100);
    const after = busyNow(dir);
    const cpu = cpuSeconds(agent.pid!) - cpuBefore;
    const seconds = after.at - before.at;
    const busy = after.busy - before.busy;
    await sleep(TAIL_MS);
    agent.kill('SIGINT');
    await new Promise((r) => agent.on('close', r)); // 'exit' may come before the last of stdout
    const conns = out.split('\n').filter((l) => l.includes('"type":"conn"')).map((l) => JSON.parse(l) as Record<string, any>).filter((r) => r['id.resp_p'] === port);
    const names: Record<string, number> = {};
    for (const r of conns) names[r.orig_process?.name ?? '(none)'] = (names[r.orig_process?.name ?? '(none)'] ?? 0) + 1;
    const named = conns.length - (names['(none)'] ?? 0);
    const withExe = conns.filter((r) => r.orig_process?.exe !== undefined).length;
    const stopped = log.split('\n').map((l) => { try { return JSON.parse(l) as Record<string, any>; } catch { return {}; } }).find((l) => l.msg === 'stopped');
    return {
      kind, connections, records: conns.length, named, named_pct: Math.round((1000 * named) / connections) / 10, exe_pct: Math.round((1000 * withExe) / connections) / 10, names, seconds: Math.round(seconds * 10) / 10,
      attribution: stopped?.processes ?? {}, busy_ms_per_s: Math.round((10 * busy) / seconds) / 10, core_pct: Math.round(busy / seconds) / 10,
      busy_us_per_connection: Math.round((1000 * busy) / connections), agent_cpu_pct: Math.round((1000 * cpu) / seconds) / 10,
    };
  } finally {
    agent.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the attribution bench needs root (a live agent on lo)');
  const port = 20000 + (process.pid % 10000);
  const server = spawn('python3', ['-c', SERVER, String(port)], { stdio: 'ignore' });
  const hold = opts['hold-ms']!;
  try {
    const n = Number(opts.connections);
    const m = Number(opts.processes);
    const busyService = () => run('python3', ['-c', THREADED, String(port), String(n), hold, opts.rate!]);
    const threaded = await measure(`one process, ${opts.rate}/s, ${hold} ms each, connect trace`, port, n, busyService);
    const polled = await measure(`the same, /proc polling only`, port, n, busyService, 'proc');
    const off = await measure(`the same, attribution off`, port, n, busyService, 'off');
    const perProcess = await measure(`a process per connection, ${opts['process-rate']}/s, ${hold} ms each`, port, m, () => {
      const gap = 1 / Number(opts['process-rate']);
      return run('bash', ['-c', `for i in $(seq ${m}); do bash -c 'exec 3<>/dev/tcp/127.0.0.1/${port}; echo x >&3; sleep ${Number(hold) / 1000}' & sleep ${gap}; done; wait`]);
    });
    console.log(JSON.stringify([threaded, polled, off, perProcess], null, 1));
  } finally {
    server.kill('SIGKILL');
  }
}

await main();
