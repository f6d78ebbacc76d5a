/**
 * The agent's log: pino JSON lines, to stderr or to a file (`--log FILE`). Writes are synchronous: the
 * agent logs a handful of lines an hour, and a line written before a crash or an exit must not be lost.
 * The file is opened (0600) before privileges are dropped, so the unprivileged agent keeps writing to it.
 *
 * Secrets are never logged: the agent logs no credentials by design, and as a second line of defence any
 * field named like a secret is replaced by "[redacted]" (pino's redact, paths below).
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { pino, type Logger } from 'pino';

export type AgentLogger = Logger;

/** Field names that could carry a secret, at the top level or one object down. */
const SECRET_FIELDS = ['password', 'passphrase', 'secret', 'token', 'key', 'privateKey', 'authorization', 'cookie'];
export const REDACT_PATHS = SECRET_FIELDS.flatMap((f) => [f, `*.${f}`]);

export interface LoggerOptions {
  /** Append to this file (created 0600); default stderr. */
  file?: string;
  level?: string;
  /** Where lines go instead (tests). */
  stream?: NodeJS.WritableStream;
  /** Set to the function that reopens the log file (SIGHUP after logrotate's mv); absent without a file. */
  onReopen?: (reopen: () => void) => void;
}

/** The log file cannot be opened: one line, what and what to do. */
export class LogFileError extends Error {
  readonly code = 'LOOPY_LOG_FILE';
}

function openLogFile(file: string): number {
  try {
    return openSync(file, 'a', 0o600);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'EISDIR' ? 'it is a directory' : e.code === 'ENOENT' ? 'its directory does not exist' : e.code === 'EACCES' ? 'permission denied' : (e.code ?? e.message);
    throw new LogFileError(`cannot open the log file ${file} (${why}): give --log a file path the agent can write, e.g. /var/log/loopy/agent.log`);
  }
}

/**
 * The log file, written synchronously, that can be reopened by path: after logrotate moves it away, SIGHUP
 * makes the agent write to a new file of that name. The new file is opened before the old one is closed, so a
 * failed reopen (the user the agent became may not create files there) keeps the old one and throws.
 */
class ReopenableLogFile {
  private fd: number;

  constructor(private readonly path: string) {
    this.fd = openLogFile(path);
  }

  write(line: string): boolean {
    writeSync(this.fd, line);
    return true;
  }

  reopen(): void {
    const fd = openLogFile(this.path);
    const old = this.fd;
    this.fd = fd;
    closeSync(old);
  }
}

export function createAgentLogger(options: LoggerOptions = {}): AgentLogger {
  const file = options.stream === undefined && options.file ? new ReopenableLogFile(options.file) : undefined;
  if (file) options.onReopen?.(() => file.reopen());
  const destination = options.stream ?? file ?? pino.destination({ fd: 2, sync: true });
  return pino(
    {
      name: 'loopy-agent',
      level: options.level ?? 'info',
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      // ISO time reads well in journald and in a file; pid tells two agents' lines apart.
      timestamp: pino.stdTimeFunctions.isoTime,
      // "level":"warn" rather than 40: jq and journald readers should not need pino's number table.
      formatters: { level: (label) => ({ level: label }) },
      base: { pid: process.pid },
    },
    destination,
  );
}
