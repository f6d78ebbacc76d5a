/**
 * The harness of agent-live.test.ts (root only): two quiet network namespaces joined by a veth pair
 * (src/test-support/netns.ts), servers in the capturing namespace, clients in the other, and `loopy agent`
 * running as a child process. Every wait is bounded.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { cliCommand } from '../test-support/cli.js';
import { NamespacePair } from '../test-support/netns.js';

const pair = new NamespacePair('lpa', { net: (process.pid + 125) % 250 });
export const NS_AGENT = pair.nsA;
export const NS_PEER = pair.nsB;
export const IF_AGENT = pair.ifA;
export const ADDR_AGENT = pair.addrA;
export const ADDR_PEER = pair.addrB;

export function setUpNamespaces(): void {
  pair.setUp();
}

export function tearDownNamespaces(): void {
  pair.tearDown();
}

/** Runs `node -e code args...` in a namespace and returns its stdout (bounded). */
export function nodeIn(ns: string, code: string, args: Array<string | number>, timeout = 20_000): string {
  return pair.nodeIn(ns, code, args, timeout);
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
  return startAgentIn(NS_AGENT, args, wrapper);
}

/** `loopy agent ARGS` inside a namespace (one of another harness's pairs). */
export function startAgentIn(ns: string, args: string[], wrapper: string[] = []): JsonChild {
  const [cmd, ...pre] = cliCommand();
  // Its own socket in its data directory: never the machine's /run/loopy/agent.sock (a real agent may be there).
  const data = args[args.indexOf('--data') + 1];
  if (!args.includes('--listen') && args.includes('--data')) args = [...args, '--listen', `unix:${data}/agent.sock`];
  return new JsonChild(spawn('ip', ['netns', 'exec', ns, ...wrapper, cmd, ...pre, 'agent', ...args], { stdio: ['pipe', 'pipe', 'pipe'] }));
}

/** A node script in a namespace, as a JsonChild (for long-running servers). */
export function startNode(ns: string, code: string, args: Array<string | number>): JsonChild {
  return new JsonChild(spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', code, ...args.map(String)], { stdio: ['pipe', 'pipe', 'pipe'] }));
}
