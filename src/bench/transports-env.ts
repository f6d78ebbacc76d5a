/**
 * The stage of the transports benchmark: a temp dir, a generated capture, a history store filled by a first
 * agent run over that capture (so that a large reply has rows to carry), then the agent under test replaying
 * the capture in a loop at real speed with a unix socket and a TLS listener, and, when it can run here, a
 * throwaway sshd through which `loopy bridge` reaches that socket. stop() tears down whatever was started.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAgent } from '../client/connect-agent.js';
import { freePort } from '../client/testing/real-agent.js';
import { TestSshd, sshdSkipReason } from '../client/testing/sshd.js';
import { generateCapture } from '../synth/generate.js';
import { projectRoot } from './capture-cache.js';
import { isInstalled } from './measure.js';

/** The CLI as built; the agent and the bridge run from it (tsx would add seconds to every ssh connection). */
export const CLI = join(projectRoot, 'dist', 'cli', 'main.js');
const CAPTURE_SECONDS = 120;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class TransportsEnv {
  readonly dir: string;
  readonly socket: string;
  readonly dataDir: string;
  readonly clientDir: string;
  tlsTarget = '';
  token = '';
  fingerprint = '';
  /** Closed flows in the store before the agent under test started. */
  prefilledFlows = 0;
  agent: ChildProcess | undefined;
  agentLog = '';
  sshd: TestSshd | undefined;
  sshdPid: number | undefined;
  /** Why SSH is not measured, or false. */
  sshSkip: string | false = false;
  /** Why sshd failed to start, when it should have. */
  sshError: string | undefined;

  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'loopy-bench-transports-'));
    // An agent started as root drops to nobody and must still reach its data directory.
    chmodSync(this.dir, 0o755);
    this.socket = join(this.dir, 'agent.sock');
    this.dataDir = join(this.dir, 'data');
    this.clientDir = join(this.dir, 'client');
  }

  async start(seed: number, wantSsh: boolean, log: (line: string) => void): Promise<void> {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npx tsc -p .\` first`);
    const file = join(this.dir, 'traffic.pcap');
    const truth = await generateCapture({ seed, durationSeconds: CAPTURE_SECONDS }, file);
    log(`transports: generated ${truth.packets.toLocaleString('en-US')} packets (${CAPTURE_SECONDS} s at real speed)`);
    await this.prefill(file);
    const port = await freePort();
    this.tlsTarget = `tls://127.0.0.1:${port}`;
    const args = [CLI, 'agent', '-r', file, '--loop', '--data', this.dataDir, '--listen', `unix:${this.socket}`, '--listen', this.tlsTarget, '--name', 'bench'];
    this.agent = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.agent.stderr!.setEncoding('utf8').on('data', (d: string) => (this.agentLog = (this.agentLog + d).slice(-20_000)));
    await this.waitForAgent();
    this.token = readFileSync(join(this.dataDir, 'token'), 'utf8').trim();
    this.fingerprint = new X509Certificate(readFileSync(join(this.dataDir, 'tls-cert.pem'))).fingerprint256;
    if (wantSsh) await this.startSshd(log);
  }

  /** The bridge command sshd runs for the client: this checkout's CLI, on the agent's socket. */
  get bridgeCommand(): string {
    return `${process.execPath} ${CLI} bridge --socket ${this.socket}`;
  }

  /** Why the agent is gone, with its last log line, or undefined while it runs. */
  agentGone(): string | undefined {
    const a = this.agent;
    if (!a || (a.exitCode === null && a.signalCode === null)) return undefined;
    const last = this.agentLog.trim().split('\n').pop() ?? '';
    return `the agent exited (${a.signalCode ?? `status ${a.exitCode}`})${last ? `: ${last.slice(0, 300)}` : ''}`;
  }

  /** The agent and sshd: everything on the far side of the transport, for CPU accounting. */
  serverPids(withSshd: boolean): number[] {
    const pids = [this.agent!.pid!];
    if (withSshd && this.sshdPid !== undefined) pids.push(this.sshdPid);
    return pids;
  }

  /** A first run over the capture at full speed (no clients): it exits at the end, its flows in the store. */
  private async prefill(file: string): Promise<void> {
    const args = [CLI, 'agent', '-r', file, '--max', '--data', this.dataDir, '--listen', `unix:${join(this.dir, 'prefill.sock')}`];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (err = (err + d).slice(-4000)));
    const [code] = (await once(child, 'exit')) as [number | null];
    if (code !== 0) throw new Error(`filling the history store failed (exit ${code}): ${err.trim().split('\n').pop()}`);
  }

  private async waitForAgent(): Promise<void> {
    const probe = connectAgent(`unix:${this.socket}`, { configDir: this.clientDir, requestTimeoutMs: 2000, backoff: { initialMs: 100, maxMs: 300 } });
    try {
      const until = Date.now() + 30_000;
      while (Date.now() < until) {
        if (this.agent!.exitCode !== null) throw new Error(`the agent exited: ${this.agentLog.trim().split('\n').slice(-2).join(' ')}`);
        if (await probe.status().then(() => true, () => false)) break;
        await sleep(200);
      }
      const to = Date.now() / 1000 + 86_400;
      this.prefilledFlows = (await probe.flows({ since: 0, until: to, limit: 10_000 })).length;
      // The TLS listener and its token may come a moment after the socket.
      for (let i = 0; i < 100 && !(existsSync(join(this.dataDir, 'token')) && existsSync(join(this.dataDir, 'tls-cert.pem'))); i++) await sleep(100);
    } finally {
      probe.close();
    }
  }

  private async startSshd(log: (line: string) => void): Promise<void> {
    try {
      this.sshSkip = sshdSkipReason() || (isInstalled('ssh') ? false : 'no ssh client (apt-get install openssh-client)');
    } catch (err) {
      this.sshSkip = (err as Error).message;
    }
    if (this.sshSkip) return;
    try {
      this.sshd = await TestSshd.start(this.dir);
    } catch (err) {
      this.sshError = `sshd did not start: ${(err as Error).message.slice(0, 300)}`;
      return;
    }
    // sshd -D still writes its PidFile; it is the listener, parent of every session and bridge.
    for (let i = 0; i < 50 && this.sshdPid === undefined; i++) {
      const pidFile = join(this.dir, 'sshd.pid');
      if (existsSync(pidFile)) this.sshdPid = Number(readFileSync(pidFile, 'utf8').trim()) || undefined;
      else await sleep(50);
    }
    log(`transports: sshd on 127.0.0.1:${this.sshd.port}${this.sshdPid ? '' : ' (its pid unknown: SSH server CPU not counted)'}`);
  }

  /** Times (ms) of `ssh HOST true` with the same key and options: the SSH login alone, without the bridge. */
  async sshLoginTimes(runs: number): Promise<number[]> {
    const sshd = this.sshd!;
    const args = ['-T', '-o', 'BatchMode=yes', ...sshd.clientOptions(), '-p', String(sshd.port), 'root@127.0.0.1', 'true'];
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      const child = spawn('ssh', args, { stdio: 'ignore' });
      const [code] = (await once(child, 'exit')) as [number | null];
      if (code !== 0) throw new Error(`ssh ... true exited with status ${code}`);
      times.push(performance.now() - t0);
    }
    return times;
  }

  async stop(): Promise<void> {
    const agent = this.agent;
    if (agent && agent.exitCode === null && agent.signalCode === null) {
      agent.kill('SIGTERM');
      const killer = setTimeout(() => agent.kill('SIGKILL'), 10_000);
      await once(agent, 'exit');
      clearTimeout(killer);
    }
    await this.sshd?.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
