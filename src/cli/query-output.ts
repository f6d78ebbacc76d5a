/**
 * How `loopy query` prints rows: a table for a person (chosen columns per kind), CSV with a header (every
 * field of the kind, in its one documented order, nested values as JSON) or NDJSON (the rows as the agent
 * sent them).
 */
import { ALERT_FIELDS, CONN_FIELDS, DNS_FIELDS } from '../analyze/record-fields.js';
import type { ProcessRecord } from '../analyze/records.js';
import { SERIES_COLUMNS } from '../store/types.js';
import { flowProcesses } from '../ui/format.js';
import { dateHolds } from '../analyze/time-text.js';

export type QueryKind = 'series' | 'flows' | 'dns' | 'alerts' | 'talkers';

type Row = Record<string, unknown>;
interface Column {
  title: string;
  value: (row: Row) => string;
  right?: boolean;
}

const str = (v: unknown) => (v === undefined || v === null ? '-' : typeof v === 'object' ? JSON.stringify(v) : String(v));
const num = (v: unknown) => (typeof v === 'number' ? Math.round(v).toLocaleString('en-US') : str(v));
const secs = (v: unknown) => (typeof v === 'number' ? (v < 1 ? `${(v * 1000).toFixed(1)} ms` : `${v.toFixed(2)} s`) : '-');
/** Local time to the second: the table is for someone reading their own clock. */
const time = (v: unknown) => {
  if (typeof v !== 'number' || !dateHolds(v)) return str(v);
  const d = new Date(v * 1000);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
};
const endpoint = (h: unknown, p: unknown) => (typeof h === 'string' && h.includes(':') ? `[${h}]:${str(p)}` : `${str(h)}:${str(p)}`);
/** A conn row's process (docs/records.md), when it is one. */
const asProcess = (v: unknown): ProcessRecord | undefined => (v && typeof v === 'object' && 'pid' in v && 'name' in v ? (v as ProcessRecord) : undefined);
const list = (v: unknown) => (Array.isArray(v) ? (v.length ? v.join(',') : '-') : str(v));

const col = (title: string, value: (r: Row) => string, right = false): Column => ({ title, value, right });

const COLUMNS: Record<QueryKind, Column[]> = {
  series: [
    col('time', (r) => time(r.ts)),
    col('packets', (r) => num(r.packets), true),
    col('bytes', (r) => num(r.bytes), true),
    col('bytes in', (r) => num(r.bytes_in), true),
    col('bytes out', (r) => num(r.bytes_out), true),
    col('flows', (r) => num(r.flows_opened), true),
    col('dns', (r) => num(r.dns_queries), true),
    col('dropped', (r) => num(r.dropped), true),
    col('alerts', (r) => num(r.alerts), true),
  ],
  flows: [
    col('time', (r) => time(r.ts)),
    col('proto', (r) => str(r.proto)),
    col('from', (r) => endpoint(r['id.orig_h'], r['id.orig_p'])),
    col('to', (r) => endpoint(r['id.resp_h'], r['id.resp_p'])),
    col('service', (r) => str(r.service)),
    // A flow still open (history.flows answers those too) says so: its state is so far.
    col('state', (r) => (r.open === true ? `${str(r.conn_state)} open` : str(r.conn_state))),
    col('duration', (r) => secs(r.duration), true),
    col('bytes out', (r) => num(r.orig_bytes), true),
    col('bytes in', (r) => num(r.resp_bytes), true),
    col('processes', (r) => flowProcesses(asProcess(r.orig_process), asProcess(r.resp_process)) || '-'),
  ],
  dns: [
    col('time', (r) => time(r.ts)),
    col('client', (r) => str(r['id.orig_h'])),
    col('server', (r) => str(r['id.resp_h'])),
    col('query', (r) => str(r.query)),
    col('type', (r) => str(r.qtype_name)),
    col('rcode', (r) => str(r.rcode_name)),
    col('rtt', (r) => secs(r.rtt), true),
    col('answers', (r) => list(r.answers)),
  ],
  alerts: [
    col('time', (r) => time(r.ts)),
    col('severity', (r) => str(r.severity)),
    col('detector', (r) => str(r.detector)),
    col('state', (r) => str(r.state)),
    col('acked', (r) => (r.acknowledged === true ? 'yes' : '-')),
    col('source', (r) => str(r.src)),
    col('destination', (r) => str(r.dst)),
    col('message', (r) => str(r.message)),
  ],
  talkers: [
    col('host', (r) => str(r.host)),
    col('bytes', (r) => num(r.bytes), true),
    col('packets', (r) => num(r.packets), true),
    col('name', (r) => str(r.name)),
  ],
};

export function formatTable(kind: QueryKind, rows: readonly Row[]): string {
  if (rows.length === 0) return `no ${kind === 'series' ? 'points' : kind} in that range\n`;
  // A fleet's rows (nats://HUB) say which agent each came from, first.
  const columns = rows.some((r) => typeof r.agent === 'string') ? [col('agent', (r) => str(r.agent)), ...COLUMNS[kind]] : COLUMNS[kind];
  const cells = rows.map((r) => columns.map((c) => c.value(r)));
  const widths = columns.map((c, i) => Math.max(c.title.length, ...cells.map((row) => row[i]!.length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => (columns[i]!.right ? v.padStart(widths[i]!) : i === values.length - 1 ? v : v.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return `${[line(columns.map((c) => c.title)), ...cells.map(line)].join('\n')}\n`;
}

function csvCell(v: unknown): string {
  if (v === undefined || v === null) return '';
  const text = typeof v === 'object' ? JSON.stringify(v) : String(v);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * The CSV columns of each kind: the same header whatever rows come back (docs/records.md, README). Flows end
 * with `open`: history.flows answers the flows still open too, and a script must tell them from ended ones.
 */
export const CSV_FIELDS: Record<QueryKind, readonly string[]> = {
  series: ['ts', ...SERIES_COLUMNS],
  flows: [...CONN_FIELDS, 'open'],
  dns: DNS_FIELDS,
  alerts: ALERT_FIELDS,
  talkers: ['host', 'bytes', 'packets', 'name'],
};

/** What a kind's column holds when a row lacks the field: an ended flow is `open` false, not unknown. */
export const CSV_DEFAULTS: Partial<Record<QueryKind, Row>> = { flows: { open: false } };

/**
 * CSV (RFC 4180 quoting, \n line ends for shell tools): a header of `fields`, then a line per row; a field a
 * row lacks takes its value in `defaults`, else an empty cell.
 */
export function formatCsv(fields: readonly string[], rows: readonly Row[], defaults: Row = {}): string {
  const lines = [fields.map(csvCell).join(','), ...rows.map((r) => fields.map((f) => csvCell(r[f] ?? defaults[f])).join(','))];
  return `${lines.join('\n')}\n`;
}

export function formatNdjson(rows: readonly unknown[]): string {
  return rows.map((r) => `${JSON.stringify(r)}\n`).join('');
}
