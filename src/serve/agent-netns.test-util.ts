/**
 * The harness of agent-live.test.ts (root only): two network namespaces joined by a veth pair, set up as
 * src/capture/live-netns.test-util.ts does (no IPv6, static neighbours: the only packets are the test's),
 * servers in the capturing namespace, clients in the other, and `loopy agent` running as a child process.
 * That helper keeps its generator namespace and addresses private, hence this small twin with its own names
 * (lpa<pid>c/d, lpa<pid>s/t); every wait is bounded.
 */
import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import { cliCommand } from '../test-support/cli.js';

const id = process.pid % 100000;
export const NS_AGENT = `lpa${id}c`;
export const NS_PEER = `lpa${id}d`;
export const IF_AGENT = `lpa${id}s`;
const IF_PEER = `lpa${id}t`;
const NET = `10.250.${(id + 125) % 250}`;
export const ADDR_AGENT = `${NET}.1`;
export const ADDR_PEER = `${NET}.2`;

function sh(args: string[], timeout = 10_000): string {
  const r = spawnSync(args[0], args.slice(1), { encoding: 'utf8', timeout });
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed (${r.status}): ${r.stderr || r.error}`);
  return r.stdout;
}

function macOf(ns: string, dev: string): string {
  return (JSON.parse(sh(['ip', '-n', ns, '-j', 'link', 'show', dev])) as Array<{ address: string }>)[0].address;
}

export function setUpNamespaces(): void {
  tearDownNamespaces();
  for (const ns of [NS_AGENT, NS_PEER]) {
    sh(['ip', 'netns', 'add', ns]);
    sh(['ip', 'netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1',
      'net.ipv4.icmp_ratelimit=0']);
    sh(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
  }
  sh(['ip', 'link', 'add', IF_AGENT, 'netns', NS_AGENT, 'type', 'veth', 'peer', 'name', IF_PEER, 'netns', NS_PEER]);
  sh(['ip', '-n', NS_AGENT, 'addr', 'add', `${ADDR_AGENT}/30`, 'dev', IF_AGENT]);
  sh(['ip', '-n', NS_PEER, 'addr', 'add', `${ADDR_PEER}/30`, 'dev', IF_PEER]);
  sh(['ip', '-n', NS_AGENT, 'link', 'set', IF_AGENT, 'up']);
  sh(['ip', '-n', NS_PEER, 'link', 'set', IF_PEER, 'up']);
  sh(['ip', '-n', NS_AGENT, 'neigh', 'replace', ADDR_PEER, 'lladdr', macOf(NS_PEER, IF_PEER), 'dev', IF_AGENT, 'nud', 'permanent']);
  sh(['ip', '-n', NS_PEER, 'neigh', 'replace', ADDR_AGENT, 'lladdr', macOf(NS_AGENT, IF_AGENT), 'dev', IF_PEER, 'nud', 'permanent']);
}

export function tearDownNamespaces(): void {
  for (const ns of [NS_AGENT, NS_PEER]) spawnSync('ip', ['netns', 'del', ns], { timeout: 10_000, stdio: 'ignore' });
}

/** Runs `node -e code args...` in a namespace and returns its stdout (bounded). */
export function nodeIn(ns: string, code: string, args: Array<string | number>, timeout = 20_000): string {
  return sh(['ip', 'netns', 'exec', ns, process.execPath, '-e', code, ...args.map(String)], timeout);
}

/** A child process whose stdout lines are JSON (records or events) and whose stderr lines are JSON logs. */
export class JsonChild {
  readonly out: Array<Record<string, any>> = [];
  readonly err: Array<Record<string, any>> = [];
  stderrText = '';
  readonly exited: Promise<number | null>;
  private listeners: Array<() => void> = [];

  constructor(readonly child: ChildProcessWithoutNullStreams) {
    const lines = (target: Array<Record<string, any>>, raw: boolean) => {
      let buffered = '';
      return (d: Buffer) => {
        if (raw) this.stderrText += d;
        buffered += d;
        for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
          const line = buffered.slice(0, nl);
          buffered = buffered.slice(nl + 1);
          try {
            target.push(JSON.parse(line) as Record<string, any>);
          } catch {
            target.push({ text: line });
          }
        }
        for (const l of this.listeners) l();
      };
    };
    child.stdout.on('data', lines(this.out, false));
    child.stderr.on('data', lines(this.err, true));
    this.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
    void this.exited.then(() => this.listeners.forEach((l) => l()));
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Resolves true once `pred` holds, false after `timeoutMs` or when the child exits first. */
  until(pred: () => boolean, timeoutMs = 20_000): Promise<boolean> {
    return new Promise((resolve) => {
      let done = false;
      const finish = (v: boolean) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.listeners = this.listeners.filter((l) => l !== check);
        resolve(v);
      };
      const check = () => (pred() ? finish(true) : this.child.exitCode !== null && finish(false));
      const timer = setTimeout(() => finish(pred()), timeoutMs);
      this.listeners.push(check);
      check();
    });
  }

  /** SIGTERM, then a bounded wait; SIGKILL if it does not go. Returns the exit code. */
  async stop(timeoutMs = 15_000): Promise<number | null | 'killed'> {
    if (this.child.exitCode !== null) return this.child.exitCode;
    this.child.kill('SIGTERM');
    const r = await Promise.race([this.exited, new Promise<'late'>((res) => setTimeout(() => res('late'), timeoutMs).unref())]);
    if (r !== 'late') return r;
    this.child.kill('SIGKILL');
    await this.exited;
    return 'killed';
  }
}

/** `loopy agent ARGS` inside the capturing namespace, optionally through a wrapper command (e.g. setpriv). */
export function startAgent(args: string[], wrapper: string[] = []): JsonChild {
  const [cmd, ...pre] = cliCommand();
  // Its own socket in its data directory: never the machine's /run/loopy/agent.sock (a real agent may be there).
  const data = args[args.indexOf('--data') + 1];
  if (!args.includes('--listen') && args.includes('--data')) args = [...args, '--listen', `unix:${data}/agent.sock`];
  return new JsonChild(spawn('ip', ['netns', 'exec', NS_AGENT, ...wrapper, cmd, ...pre, 'agent', ...args], { stdio: ['pipe', 'pipe', 'pipe'] }));
}

/** A node script in a namespace, as a JsonChild (for long-running servers). */
export function startNode(ns: string, code: string, args: Array<string | number>): JsonChild {
  return new JsonChild(spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', code, ...args.map(String)], { stdio: ['pipe', 'pipe', 'pipe'] }));
}
