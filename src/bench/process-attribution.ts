/**
 * Process attribution, measured (root; not a test, not in `npm run bench`'s list: it needs a live agent):
 * `loopy agent -i lo` beside a server on 127.0.0.1 and clients making short connections, then the share of
 * conn records whose originator is named, and the attribution's own time (busy ms, from the agent's
 * `stopped` log line) per second and per connection. Two kinds of client: one process opening connections
 * from threads at a given rate (a busy service), and a new process per connection (bash's /dev/tcp, as a
 * cron job or curl would be).
 *
 *   node dist/bench/process-attribution.js [--connections 2000] [--hold-ms 50] [--rate 200] [--processes 300]
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
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
const THREADED = `
import socket, sys, threading, time, os
port, n, hold, rate = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]) / 1000, float(sys.argv[4])
print(os.getpid(), flush=True)
def one():
    s = socket.create_connection(('127.0.0.1', port)); s.sendall(b'x'); time.sleep(hold); s.close()
threads = []
for i in range(n):
    t = threading.Thread(target=one); t.start(); threads.append(t); time.sleep(1 / rate)
for t in threads: t.join()
`;

interface Result {
  kind: string;
  connections: number;
  attributed: number;
  seconds: number;
}

const opts = parseArgs({ options: { connections: { type: 'string', default: '2000' }, 'hold-ms': { type: 'string', default: '50' }, rate: { type: 'string', default: '200' }, processes: { type: 'string', default: '300' } } }).values;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the attribution bench needs root (a live agent on lo)');
  const dir = mkdtempSync(join(tmpdir(), 'loopy-attr-bench-'));
  const port = 20000 + (process.pid % 10000);
  const server = spawn('python3', ['-c', SERVER, String(port)], { stdio: 'ignore' });
  const [cmd, ...pre] = cliCommand();
  const agent = spawn(cmd, [...pre, 'agent', '-i', 'lo', '-f', `tcp port ${port}`, '--stdout', '--user', 'root', '--no-detect', '--data', dir, '--listen', `unix:${dir}/s.sock`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let log = '';
  agent.stdout.on('data', (d) => (out += d));
  agent.stderr.on('data', (d) => (log += d));
  try {
    for (let i = 0; i < 100 && !log.includes('process attribution on'); i++) await sleep(100);
    if (!log.includes('process attribution on')) throw new Error(`attribution did not start: ${log}`);
    const n = Number(opts.connections);
    const started = performance.now();
    const client = spawnSync('python3', ['-c', THREADED, String(port), String(n), opts['hold-ms']!, opts.rate!], { encoding: 'utf8', timeout: 600_000 });
    const clientPid = Number(client.stdout.trim());
    const threadedSeconds = (performance.now() - started) / 1000;
    const m = Number(opts.processes);
    const spawned = performance.now();
    const hold = Number(opts['hold-ms']) / 1000;
    spawnSync('bash', ['-c', `for i in $(seq ${m}); do bash -c 'exec 3<>/dev/tcp/127.0.0.1/${port}; echo x >&3; sleep ${hold}' & sleep 0.01; done; wait`], { timeout: 600_000 });
    const processSeconds = (performance.now() - spawned) / 1000;
    await sleep(7000); // closed flows linger 5 s before their conn records
    agent.kill('SIGINT');
    await new Promise((r) => agent.on('exit', r));
    const conns = out.split('\n').filter((l) => l.includes('"type":"conn"')).map((l) => JSON.parse(l) as Record<string, any>).filter((r) => r['id.resp_p'] === port);
    const byClient = conns.filter((r) => r.orig_process?.pid === clientPid || (r.orig_process === undefined && r.resp_process !== undefined && r.duration >= hold * 0.5 && r.orig_bytes === 1));
    const results: Result[] = [
      { kind: `one process, ${opts.rate}/s, ${opts['hold-ms']} ms each`, connections: n, attributed: conns.filter((r) => r.orig_process?.pid === clientPid).length, seconds: threadedSeconds },
      { kind: `a process per connection, ${opts['hold-ms']} ms each`, connections: m, attributed: conns.filter((r) => r.orig_process?.name === 'bash').length, seconds: processSeconds },
    ];
    const stopped = log.split('\n').map((l) => { try { return JSON.parse(l) as Record<string, any>; } catch { return {}; } }).find((l) => l.msg === 'stopped');
    const busy = stopped?.processes?.busy_ms ?? NaN;
    const total = threadedSeconds + processSeconds + 7;
    console.log(JSON.stringify({ records: conns.length, matched: byClient.length, results: results.map((r) => ({ ...r, rate_pct: Math.round((1000 * r.attributed) / r.connections) / 10 })), attribution: stopped?.processes, busy_ms_per_s: Math.round((10 * busy) / total) / 10, busy_us_per_connection: Math.round((1000 * busy) / (n + m)) }, null, 1));
  } finally {
    agent.kill('SIGKILL');
    server.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
