/**
 * The three ways to reach an agent, each giving a Duplex byte stream for the protocol layer:
 * a unix socket, TLS over TCP (with the certificate pinned, known-agents.ts), or `ssh HOST loopy bridge`
 * talking over the child's pipes. The seam `openTransport` is what tests swap or drive with real servers.
 */
import { spawn } from 'node:child_process';
import { connect as netConnect } from 'node:net';
import { Duplex, PassThrough, Writable } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import { checkFingerprint, type PinOutcome } from './known-agents.js';
import { type ParsedTarget, hostPortKey } from './target.js';

export interface TransportOptions {
  /** known_agents file for TLS pinning. */
  knownAgentsFile: string;
  /** A fingerprint the TLS agent must present (--fingerprint or the config); pinned when it matches. */
  fingerprint?: string;
  connectTimeoutMs: number;
  /** Extra ssh arguments before the host (e.g. -i KEY -o UserKnownHostsFile=...). */
  sshOptions: string[];
  /** The command run on the remote side (default `loopy bridge`). */
  sshCommand: string;
  /** Reports a first-use pin, so the CLI can tell the user (as ssh does). */
  onPin?: (key: string, fingerprint: string, outcome: PinOutcome) => void;
}

export interface Transport {
  stream: Duplex;
  /** Why the transport failed, in the transport's words (ssh's stderr), when the stream ends unexpectedly. */
  failureDetail(): string | undefined;
  /**
   * The peer answered the protocol's hello: it is an agent. What the transport would remember of it (a TLS
   * certificate's first-use pin) is kept only now.
   */
  helloAnswered?(): void;
}

/** A failure that retrying will not cure (changed certificate, wrong token, no common protocol version). */
export class FatalConnectError extends Error {
  constructor(message: string, readonly code: string) {
    super(message);
  }
}

export function openTransport(target: ParsedTarget, options: TransportOptions): Promise<Transport> {
  switch (target.kind) {
    case 'unix':
      return openSocket(() => netConnect({ path: target.path }), 'connect', `unix:${target.path}`, options.connectTimeoutMs);
    case 'tls':
      return openTls(target.host, target.port, options);
    case 'ssh':
      return Promise.resolve(openSsh(target, options));
    case 'nats':
      // A hub carries no byte stream to an agent: connect-agent.ts makes a HubAgentClient for it instead.
      return Promise.reject(new FatalConnectError('a nats:// target is reached through the hub, not a byte stream', 'LOOPY_TARGET'));
  }
}

function openSocket(make: () => Duplex, readyEvent: string, where: string, timeoutMs: number, onReady?: (s: Duplex) => Transport['helloAnswered']): Promise<Transport> {
  return new Promise((resolve, reject) => {
    const socket = make();
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`${where}: no connection after ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(err instanceof FatalConnectError ? err : new Error(`${where}: ${describeSocketError(err)}`));
    });
    socket.once(readyEvent, () => {
      clearTimeout(timer);
      let helloAnswered: Transport['helloAnswered'];
      try {
        helloAnswered = onReady?.(socket);
      } catch (err) {
        socket.destroy();
        reject(err);
        return;
      }
      socket.removeAllListeners('error');
      resolve({ stream: socket, failureDetail: () => undefined, helloAnswered });
    });
  });
}

function openTls(host: string, port: number, options: TransportOptions): Promise<Transport> {
  const key = hostPortKey(host, port);
  // The agent's certificate is self-signed: trust comes from the pinned fingerprint, not from a CA.
  const make = () => tlsConnect({ host, port, rejectUnauthorized: false, servername: isIp(host) ? undefined : host });
  return openSocket(make, 'secureConnect', `tls://${key}`, options.connectTimeoutMs, (socket) => {
    const cert = (socket as ReturnType<typeof tlsConnect>).getPeerCertificate();
    if (!cert || !cert.fingerprint256) throw new FatalConnectError(`tls://${key} presented no certificate`, 'LOOPY_FINGERPRINT');
    let check: ReturnType<typeof checkFingerprint>;
    try {
      check = checkFingerprint(options.knownAgentsFile, key, cert.fingerprint256, options.fingerprint);
    } catch (err) {
      throw new FatalConnectError((err as Error).message, 'LOOPY_FINGERPRINT');
    }
    // A new certificate is pinned only once the peer has answered hello as an agent does.
    return () => {
      if (check.outcome === 'matched') return;
      check.pin();
      options.onPin?.(key, cert.fingerprint256, check.outcome);
    };
  });
}

function openSsh(target: Extract<ParsedTarget, { kind: 'ssh' }>, options: TransportOptions): Transport {
  const args = ['-T', '-o', 'BatchMode=yes', ...options.sshOptions];
  if (target.port !== undefined) args.push('-p', String(target.port));
  args.push('--', target.user ? `${target.user}@${target.host}` : target.host, options.sshCommand);
  const child = spawn('ssh', args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const stderrLines: string[] = [];
  let stderrTail = '';
  let exit: string | undefined;
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    const parts = (stderrTail + chunk).split('\n');
    stderrTail = parts.pop()!;
    for (const p of parts) if (p.trim() !== '') stderrLines.push(p.trim());
    if (stderrLines.length > 20) stderrLines.splice(0, stderrLines.length - 20);
  });
  // Writing to an ssh that has already exited fails with EPIPE before its stderr (the real reason: "Permission
  // denied", "Could not resolve hostname") has been read. Swallow that here: ssh's exit, handled below once all
  // its output is in, closes the stream and failureDetail() gives the reason.
  child.stdin.on('error', () => {});
  const input = new Writable({
    write(chunk: Buffer, _encoding, done) {
      if (child.stdin.destroyed || !child.stdin.writable) return done();
      child.stdin.write(chunk, () => done());
    },
    final(done) {
      child.stdin.end();
      done();
    },
  });
  // Likewise the end of ssh's stdout is passed on only once ssh has exited, when its stderr is all in.
  const output = new PassThrough();
  child.stdout.pipe(output, { end: false });
  const stream = Duplex.from({ readable: output, writable: input });
  child.on('error', (err: NodeJS.ErrnoException) => {
    exit = err.code === 'ENOENT' ? 'ssh is not installed (install openssh-client)' : `cannot run ssh: ${err.message}`;
    stream.destroy(new Error(exit));
  });
  child.on('close', (code, signal) => {
    exit = signal ? `ssh was killed by ${signal}` : `ssh exited with status ${code}`;
    // All of ssh's output is in: end the stream so the protocol layer sees the close, with the reason ready.
    output.end();
    stream.destroy();
  });
  // Closing our end must end ssh too (the remote bridge sees EOF on stdin and exits).
  stream.on('close', () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  });
  return {
    stream,
    failureDetail: () => {
      const lines = stderrTail.trim() ? [...stderrLines, stderrTail.trim()] : stderrLines;
      if (lines.length > 0) return `ssh: ${lines.slice(-3).join('; ')}`;
      return exit;
    },
  };
}

function isIp(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(':');
}

function describeSocketError(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'ENOENT':
      return 'no such socket (is the agent running with --listen on it?)';
    case 'ECONNREFUSED':
      return 'connection refused (is the agent running and listening there?)';
    case 'EACCES':
      return 'permission denied (join the loopy group, or run as root)';
    case 'ETIMEDOUT':
      return 'timed out';
    case 'ENOTFOUND':
      return 'unknown host';
    default:
      return err.message;
  }
}
