/**
 * The options every command that talks to an agent shares (query, watch): token, fingerprint, SSH tuning,
 * timeout. Errors from the client library that are the user's doing become UsageErrors (exit status 2).
 */
import type { Command } from 'commander';
import { ClientConfigError } from '../client/client-config.js';
import type { ConnectOptions } from '../client/connect-agent.js';
import { TargetError } from '../client/target.js';
import { TimeSpecError, parseDuration } from '../client/time-spec.js';
import { UsageError } from './errors.js';

export interface AgentTargetOptions {
  token?: string;
  fingerprint?: string;
  sshCommand?: string;
  sshOption?: string[];
  timeout?: string;
  hubCreds?: string;
  hubUser?: string;
  hubCa?: string;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function addAgentTargetOptions(command: Command): Command {
  return command
    .option('--token <token>', 'bearer token of a tls:// agent (default: the config entry, or $LOOPY_TOKEN)')
    .option('--fingerprint <sha256>', 'the certificate fingerprint a tls:// agent must present (pinned when it matches)')
    .option('--ssh-command <cmd>', 'what ssh runs on the agent host (default "loopy bridge", or $LOOPY_SSH_COMMAND)')
    .option('--ssh-option <arg>', 'an extra ssh argument, e.g. --ssh-option=-i --ssh-option=KEY (repeat; or $LOOPY_SSH_OPTIONS)', collect)
    .option('--timeout <duration>', 'give up on a connection or reply after this long (default 10s)')
    .option('--hub-creds <file>', 'NATS credentials file for a nats:// hub (default: the config entry\'s "creds")')
    .option('--hub-user <name>', 'NATS user for a nats:// hub (password: $LOOPY_HUB_PASSWORD)')
    .option('--hub-ca <file>', 'PEM CA of a nats:// hub\'s TLS certificate (default: the config entry\'s "ca")');
}

export function connectOptionsFrom(o: AgentTargetOptions, clientName: string): ConnectOptions {
  const timeoutMs = o.timeout === undefined ? 10_000 : asUsage(() => parseDuration(o.timeout!, '--timeout')) * 1000;
  return {
    clientName,
    token: o.token,
    fingerprint: o.fingerprint,
    sshCommand: o.sshCommand,
    sshOptions: o.sshOption,
    requestTimeoutMs: timeoutMs,
    connectTimeoutMs: timeoutMs,
    hub: { creds: o.hubCreds, user: o.hubUser, password: o.hubUser === undefined ? undefined : process.env.LOOPY_HUB_PASSWORD, caFile: o.hubCa },
    onPin: (key, fingerprint, outcome) => {
      if (outcome === 'pinned-first-use') process.stderr.write(`loopy: pinned tls://${key} certificate ${fingerprint} (first use; known_agents)\n`);
    },
  };
}

/** Runs `f`, turning a bad target, config or time into a UsageError with the same one-line message. */
export function asUsage<T>(f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (err instanceof TargetError || err instanceof ClientConfigError || err instanceof TimeSpecError) throw new UsageError(err.message);
    throw err;
  }
}

/** Ends quietly when the reader of stdout goes away (`| head`), as Unix tools do. */
export function exitOnEpipe(onEpipe: () => void): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') onEpipe();
    else throw err;
  });
}
