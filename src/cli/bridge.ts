/**
 * `loopy bridge`: the agent protocol on stdin/stdout, piped to the local agent's unix socket. A client with
 * an `ssh://user@host` target runs `ssh user@host loopy bridge`, so SSH's keys are the access control and no
 * port is opened. The bridge reads the client's first line only to add `via.ssh_connection` to its hello
 * (so the agent stops capturing this very SSH session); everything after is piped unparsed.
 */
import type { Command } from 'commander';
import { connect } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { DEFAULT_DATA_DIR, defaultSocketPath, loadAgentConfig } from '../serve/config.js';
import { parseListenSpec } from '../serve/transports.js';

/** The socket: --socket, else the config's first unix listener, else the default of an agent run as root. */
export function bridgeSocketPath(options: { socket?: string; config?: string }): string {
  if (options.socket) return options.socket.replace(/^unix:/, '');
  const config = loadAgentConfig(options.config);
  for (const l of config.listen ?? []) {
    const spec = parseListenSpec(l);
    if (spec.kind === 'unix') return spec.path;
  }
  // The agent normally runs as root (it captures), so its default socket is root's.
  return defaultSocketPath(0, config.data ?? DEFAULT_DATA_DIR);
}

/** Adds `via` to a hello request line; any other line goes through as it is. */
export function withVia(line: string, sshConnection: string | undefined): string {
  if (!sshConnection) return line;
  try {
    const msg = JSON.parse(line) as { method?: unknown; params?: Record<string, unknown> };
    if (msg?.method !== 'hello' || typeof msg.params !== 'object' || msg.params === null) return line;
    msg.params.via = { ...(msg.params.via as object | undefined), ssh_connection: sshConnection };
    return JSON.stringify(msg);
  } catch {
    return line;
  }
}

/** Pipes `input` → socket and socket → `output`; resolves with the exit code when either side ends. */
export function runBridge(path: string, input: Readable, output: Writable, sshConnection: string | undefined, errors: Writable): Promise<number> {
  return new Promise((resolve) => {
    const socket = connect(path);
    let settled = false;
    const finish = (code: number) => {
      if (settled) return;
      settled = true;
      input.unpipe(socket);
      socket.destroy();
      resolve(code);
    };
    socket.once('error', (err: NodeJS.ErrnoException) => {
      errors.write(`loopy: cannot reach the agent at ${path} (${err.code ?? err.message}): is it running, and may this user open its socket (group loopy)?\n`);
      finish(1);
    });
    socket.once('connect', () => {
      // The first line (the hello) is held until complete and rewritten; then a plain pipe.
      let head = '';
      const onFirst = (chunk: Buffer) => {
        head += chunk.toString('utf8');
        const nl = head.indexOf('\n');
        if (nl < 0 && head.length < 1024 * 1024) return;
        input.off('data', onFirst);
        input.pause();
        const line = nl < 0 ? head : head.slice(0, nl);
        const rest = nl < 0 ? '' : head.slice(nl);
        socket.write(withVia(line, sshConnection) + rest);
        input.pipe(socket);
      };
      input.on('data', onFirst);
      input.once('end', () => socket.end());
    });
    socket.pipe(output, { end: false });
    socket.once('close', () => finish(0));
  });
}

export function registerBridge(program: Command): void {
  program
    .command('bridge')
    .description("speak the agent protocol on stdin/stdout via the local agent's socket (what ssh:// targets run)")
    .option('--socket <path>', "the agent's unix socket (default: from the config, else /run/loopy/agent.sock)")
    .option('--config <file>', 'the agent config file to read the socket from')
    .action(async (options: { socket?: string; config?: string }) => {
      let path: string;
      try {
        path = bridgeSocketPath(options);
      } catch (err) {
        process.stderr.write(`loopy: ${(err as Error).message}\n`);
        process.exitCode = 2;
        return;
      }
      process.exitCode = await runBridge(path, process.stdin, process.stdout, process.env.SSH_CONNECTION, process.stderr);
      // stdin may keep the loop alive after the agent hung up.
      process.stdin.destroy();
    });
}
