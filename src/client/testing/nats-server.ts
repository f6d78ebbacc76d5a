/**
 * A real `nats-server` for tests (Debian package nats-server; .ci/run installs it): on loopback, a free port,
 * JetStream in a temp dir, killed and its dir removed by stop(). `config` is a config file to start from
 * (contrib/nats/hub.conf); the port, address and store given here win over it, and a leaf node port it
 * listens on (leafnodes { listen }) becomes a free one on loopback (`leafPort`).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './real-agent.js';

/** Why nats-server tests cannot run here, or undefined. */
export function natsSkipReason(): string | undefined {
  const probe = spawnSync('nats-server', ['--version'], { encoding: 'utf8' });
  return probe.error ? 'nats-server is not installed (apt-get install nats-server)' : undefined;
}

export class NatsServer {
  log = '';
  private constructor(readonly child: ChildProcess, readonly port: number, readonly dir: string, readonly leafPort: number | undefined) {
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (this.log = (this.log + d).slice(-20_000)));
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  /** Starts it and waits until it accepts connections (at most 10 s). */
  static async start(config?: string): Promise<NatsServer> {
    const dir = mkdtempSync(join(tmpdir(), 'loopy-nats-'));
    const port = await freePort();
    const conf = join(dir, 'test.conf');
    // The store in the temp dir: the config's store_dir replaced (nats-server refuses -sd beside one).
    const store = `store_dir: ${JSON.stringify(join(dir, 'js'))}`;
    const leaf = config !== undefined && /leafnodes\s*\{\s*listen:/.test(config) ? await freePort() : undefined;
    const text = config === undefined
      ? `max_payload: 8MB\njetstream { ${store} }\n`
      : config.replace(/store_dir:\s*\S+/, store).replace(/(leafnodes\s*\{\s*listen:\s*)\S+/, (_, head: string) => `${head}127.0.0.1:${leaf}`);
    writeFileSync(conf, text);
    const child = spawn('nats-server', ['-c', conf, '-a', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
    const server = new NatsServer(child, port, dir, leaf);
    for (let i = 0; i < 100; i++) {
      if (child.exitCode !== null) break;
      if (await accepts(port)) return server;
      await new Promise((r) => setTimeout(r, 100));
    }
    await server.stop();
    throw new Error(`nats-server did not start: ${server.log.slice(-500)}`);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGKILL');
      await once(this.child, 'exit');
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = netConnect({ host: '127.0.0.1', port }, () => (s.destroy(), resolve(true)));
    s.on('error', () => resolve(false));
  });
}
