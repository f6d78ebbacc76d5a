/**
 * A real sshd for tests: on a free loopback port, with a throwaway host key and a throwaway client key
 * (ssh-keygen, in the test's temp dir), root login by key only. Shared by the SSH transport test and the
 * UI's tmux test over an ssh:// target. Needs root and /usr/sbin/sshd (.ci/run installs them).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { freePort } from './real-agent.js';

export const SSHD = '/usr/sbin/sshd';

/** Why sshd cannot run here, or false. In CI (process.env.CI) a missing piece throws: it must not skip there. */
export function sshdSkipReason(): string | false {
  let reason: string | false = false;
  if (process.getuid?.() !== 0) reason = 'the test starts sshd, which needs root';
  else if (!existsSync(SSHD)) reason = `no ${SSHD} (apt-get install openssh-server openssh-client)`;
  if (reason && process.env.CI) throw new Error(`${reason} (required in CI)`);
  return reason;
}

export class TestSshd {
  log = '';
  private constructor(
    readonly dir: string,
    readonly port: number,
    /** The directory with host, client (+ .pub) and authorized_keys. */
    readonly keys: string,
    private readonly child: ChildProcess,
  ) {
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (this.log = (this.log + d).slice(-20_000)));
  }

  /** Starts sshd with keys and config under `dir` (which must exist); resolves once it accepts connections. */
  static async start(dir: string): Promise<TestSshd> {
    const keys = join(dir, 'keys');
    mkdirSync(keys, { mode: 0o700 });
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(keys, 'host'), '-C', 'loopy-test-host']);
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(keys, 'client'), '-C', 'loopy-test-client']);
    writeFileSync(join(keys, 'authorized_keys'), readFileSync(join(keys, 'client.pub')), { mode: 0o600 });
    const port = await freePort();
    const config = [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${join(keys, 'host')}`,
      `AuthorizedKeysFile ${join(keys, 'authorized_keys')}`,
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      // The temp dir is 0755 for the agent's sake; sshd's ownership checks of it do not matter here.
      'StrictModes no',
      `PidFile ${join(dir, 'sshd.pid')}`,
    ].join('\n');
    writeFileSync(join(dir, 'sshd_config'), `${config}\n`);
    mkdirSync('/run/sshd', { recursive: true, mode: 0o755 }); // sshd's privilege separation directory
    const child = spawn(SSHD, ['-D', '-e', '-f', join(dir, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
    const sshd = new TestSshd(dir, port, keys, child);
    try {
      await sshd.waitListening();
    } catch (err) {
      await sshd.stop();
      throw err;
    }
    return sshd;
  }

  /** The ssh arguments that log in with the throwaway client key and no user config, learning the host key. */
  clientOptions(): string[] {
    return ['-F', '/dev/null', '-i', join(this.keys, 'client'), '-o', `UserKnownHostsFile=${join(this.dir, 'known_hosts')}`, '-o', 'StrictHostKeyChecking=accept-new'];
  }

  get target(): string {
    return `ssh://root@127.0.0.1:${this.port}`;
  }

  private async waitListening(): Promise<void> {
    for (let i = 0; i < 100; i++) {
      if (this.child.exitCode !== null) throw new Error(`sshd exited: ${this.log}`);
      const ok = await new Promise<boolean>((resolve) => {
        const s = connect(this.port, '127.0.0.1', () => (s.destroy(), resolve(true)));
        s.on('error', () => resolve(false));
      });
      if (ok) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`sshd did not listen on ${this.port}: ${this.log}`);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    await once(this.child, 'exit');
  }
}
