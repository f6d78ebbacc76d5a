/**
 * Zeek logs on disk (`--zeek-logs DIR`): conn.log, dns.log, ssl.log, http.log, weird.log and notice.log (the
 * alerts), written as Zeek's ASCII writer writes them — TSV under `#separator`, `#fields`, `#types`… headers and a
 * `#close` line, or JSON lines with `format: 'json'` — so zeek-cut and every tool that reads Zeek logs take them.
 * Records are buffered as they come (on the engine's thread, but no I/O there) and written by `flush()`, which the
 * callers run between batches, never on the packet loop. With `rotateSeconds` (the agent: hourly), `flush()`
 * closes each log at the interval's boundary and renames it as Zeek does: `conn.2026-12-05-10-00-00.log`, the time
 * the file was opened (UTC); the next record opens a fresh `conn.log`.
 */
import { closeSync, existsSync, mkdirSync, openSync, renameSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { zeekPathOf, type ZeekPath } from '../analyze/records.js';
import { isoTimeOf } from '../analyze/time-text.js';
import { columnValue, ZEEK_LOG_LAYOUTS, type ZeekColumn, type ZeekType } from './zeek-log-fields.js';

export type ZeekLogFormat = 'tsv' | 'json';

export interface ZeekLogOptions {
  dir: string;
  format: ZeekLogFormat;
  /** Close and rename every log at each multiple of this many seconds (the agent: 3600); never when absent. */
  rotateSeconds?: number;
  /** Wall-clock seconds since the epoch (tests inject one). */
  now?: () => number;
}

interface OpenLog {
  fd: number;
  file: string;
  openedAt: number;
  pending: string[];
}

export class ZeekLogs {
  private readonly logs = new Map<ZeekPath, OpenLog>();
  private readonly now: () => number;
  private nextRotation = Number.POSITIVE_INFINITY;

  /** Makes DIR when missing; throws (a one-line message) when it cannot be used. */
  constructor(private readonly options: ZeekLogOptions) {
    this.now = options.now ?? (() => Date.now() / 1000);
    try {
      mkdirSync(options.dir, { recursive: true });
    } catch (err) {
      throw new Error(`--zeek-logs ${options.dir}: cannot make the directory (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): choose one you can write`);
    }
    if (options.rotateSeconds !== undefined) this.nextRotation = boundaryAfter(this.now(), options.rotateSeconds);
  }

  /** Buffers a record's line in its log (records without a Zeek log, summary and stats, are ignored). */
  write(record: { type: string }): void {
    const path = zeekPathOf(record.type);
    if (path === undefined) return;
    const layout = ZEEK_LOG_LAYOUTS[path];
    const row = layout.row ? layout.row(record as Record<string, unknown>) : (record as Record<string, unknown>);
    const line = this.options.format === 'json' ? jsonLine(row, layout.columns) : tsvLine(row, layout.columns);
    this.logOf(path).pending.push(line);
  }

  /** Writes what is buffered, rotating first when an interval's boundary has passed. Off the packet loop. */
  flush(): void {
    const now = this.now();
    if (now >= this.nextRotation) this.rotate(now);
    for (const log of this.logs.values()) writePending(log);
  }

  /**
   * Closes every open log with `#close` and renames it `PATH.<opened>.log`; the next record opens a new one.
   * Returns the names given. Called by flush at each boundary (exported for tests with an injected clock).
   */
  rotate(now: number): string[] {
    const renamed: string[] = [];
    for (const [path, log] of this.logs) {
      this.closeLog(log, now);
      const target = join(this.options.dir, `${path}.${zeekTime(log.openedAt)}.log`);
      renameSync(log.file, target);
      renamed.push(target);
    }
    this.logs.clear();
    if (this.options.rotateSeconds !== undefined) this.nextRotation = boundaryAfter(now, this.options.rotateSeconds);
    return renamed;
  }

  /** Writes everything and closes the logs (they keep their names: `loopy read`, or the agent stopping). */
  close(): void {
    const now = this.now();
    for (const log of this.logs.values()) this.closeLog(log, now);
    this.logs.clear();
  }

  private closeLog(log: OpenLog, now: number): void {
    if (this.options.format === 'tsv') log.pending.push(`#close\t${zeekTime(now)}\n`);
    writePending(log);
    closeSync(log.fd);
  }

  private logOf(path: ZeekPath): OpenLog {
    const open = this.logs.get(path);
    if (open !== undefined) return open;
    const file = join(this.options.dir, `${path}.log`);
    // A log left by a run that did not close it (a crash) keeps its lines under its dated name.
    if (this.options.rotateSeconds !== undefined && existsSync(file)) renameSync(file, join(this.options.dir, `${path}.${zeekTime(statSync(file).mtimeMs / 1000)}.log`));
    const openedAt = this.now();
    const log: OpenLog = { fd: openSync(file, 'w', 0o640), file, openedAt, pending: [] };
    if (this.options.format === 'tsv') log.pending.push(tsvHeader(path, ZEEK_LOG_LAYOUTS[path].columns, openedAt));
    this.logs.set(path, log);
    return log;
  }
}

function writePending(log: OpenLog): void {
  if (log.pending.length === 0) return;
  writeSync(log.fd, log.pending.join(''));
  log.pending.length = 0;
}

/** The first multiple of `seconds` after `now` (Zeek aligns its rotation to the interval: on the hour). */
export function boundaryAfter(now: number, seconds: number): number {
  return (Math.floor(now / seconds) + 1) * seconds;
}

/** Zeek's `#open` / `#close` and rotated-name time: `2026-12-05-10-00-00` (UTC). */
export function zeekTime(seconds: number): string {
  const whole = Math.floor(seconds);
  return isoTimeOf(whole)?.slice(0, 19).replace('T', '-').replaceAll(':', '-') ?? String(whole);
}

function tsvHeader(path: ZeekPath, columns: readonly ZeekColumn[], openedAt: number): string {
  return [
    '#separator \\x09', '#set_separator\t,', '#empty_field\t(empty)', '#unset_field\t-', `#path\t${path}`, `#open\t${zeekTime(openedAt)}`,
    `#fields\t${columns.map((c) => c[0]).join('\t')}`, `#types\t${columns.map((c) => c[1]).join('\t')}`, '',
  ].join('\n');
}

function tsvLine(row: Record<string, unknown>, columns: readonly ZeekColumn[]): string {
  let line = '';
  for (let i = 0; i < columns.length; i++) {
    const [name, type] = columns[i];
    line += (i === 0 ? '' : '\t') + tsvValue(columnValue(row, name), type);
  }
  return `${line}\n`;
}

/** A value as Zeek's ASCII writer writes it: `-` unset, `(empty)` an empty set, times with 6 decimals, T/F. */
export function tsvValue(value: unknown, type: ZeekType): string {
  if (value === undefined || value === null) return '-';
  if (Array.isArray(value)) {
    if (value.length === 0) return '(empty)';
    return value.map((v) => (type === 'vector[interval]' ? (v as number).toFixed(6) : escapeTsv(String(v), true))).join(',');
  }
  switch (type) {
    case 'time':
    case 'interval':
      return (value as number).toFixed(6);
    case 'bool':
      return value ? 'T' : 'F';
    case 'count':
    case 'int':
    case 'port':
      return String(value);
    default:
      return escapeTsv(String(value), false);
  }
}

/** Zeek's escaping: separators, backslashes and control bytes as \xHH; a value that reads as `-` or `(empty)` too. */
function escapeTsv(s: string, inSet: boolean): string {
  let out = '';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    out += c < 0x20 || c === 0x7f || ch === '\\' || (inSet && ch === ',') ? `\\x${c.toString(16).padStart(2, '0')}` : ch;
  }
  if (out === '-' || out === '(empty)') return `\\x${out.charCodeAt(0).toString(16)}${out.slice(1)}`;
  return out;
}

/** Zeek's JSON log line: the columns that are set, flattened by name (`id.orig_h`, `orig_process.pid`). */
function jsonLine(row: Record<string, unknown>, columns: readonly ZeekColumn[]): string {
  const out: Record<string, unknown> = {};
  for (const [name] of columns) {
    const value = columnValue(row, name);
    if (value !== undefined && value !== null) out[name] = value;
  }
  return `${JSON.stringify(out)}\n`;
}
