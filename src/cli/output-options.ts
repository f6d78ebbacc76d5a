/**
 * The record-output options `loopy read` and `loopy agent` share: `--format` (NDJSON as Loopy writes it, or the
 * Elastic Common Schema) and `--zeek-logs DIR` / `--zeek-format` (Zeek's logs on disk). Bad values are wrong usage.
 */
import type { RecordFormat } from '../analyze/ndjson-writer.js';
import type { ZeekLogFormat } from '../store/zeek-logs.js';
import { UsageError } from './errors.js';

export const RECORD_FORMAT_HELP = 'NDJSON records as `ndjson` (Loopy\'s, as --json) or `ecs` (Elastic Common Schema: @timestamp, source.ip, network.community_id and more)';
export const ZEEK_LOGS_HELP = 'also write Zeek logs into this directory: conn.log, dns.log, ssl.log, http.log, weird.log, notice.log (the alerts)';
export const ZEEK_FORMAT_HELP = 'the Zeek logs as `tsv` (Zeek\'s ASCII logs, with #fields/#types headers) or `json` (Zeek\'s JSON logs)';

/** --format's value: undefined when absent. */
export function parseRecordFormat(value: string | undefined): RecordFormat | undefined {
  if (value === undefined) return undefined;
  if (value === 'ndjson' || value === 'ecs') return value;
  throw new UsageError(`--format ${value}: not a format; give ndjson or ecs`);
}

export function parseZeekFormat(value: string | undefined): ZeekLogFormat {
  if (value === undefined || value === 'tsv' || value === 'json') return value ?? 'tsv';
  throw new UsageError(`--zeek-format ${value}: not a format; give tsv or json`);
}
