/**
 * Closed flows in columns (schema version 4): a conn record is stored as its fields, not as JSON beside them,
 * and rebuilt on the way out in the field order the engine writes (src/analyze/flows/conn-record.ts), so a
 * flow read back from history is the line `loopy read --json` printed. A record with a field this list does
 * not know (written by a newer or another producer) keeps its JSON instead: nothing is lost.
 */
import type { ConnRecord, ProcessRecord } from '../analyze/records.js';

/** Columns of `conn` in insert order; `record` is last. */
export const CONN_COLUMNS = [
  'ts', 'uid', 'community_id', 'orig_h', 'orig_p', 'resp_h', 'resp_p', 'proto', 'service', 'conn_state', 'duration',
  'orig_bytes', 'resp_bytes', 'orig_pkts', 'resp_pkts', 'orig_ip_bytes', 'resp_ip_bytes', 'rtt', 'orig_retrans', 'resp_retrans',
  'history', 'orig_ooo', 'resp_ooo', 'vlan', 'inner_vlan', 'record',
] as const;

export interface ConnRow {
  ts: number; uid: string; community_id: string | null; orig_h: string; orig_p: number; resp_h: string; resp_p: number;
  proto: string; service: string | null; conn_state: string | null; duration: number | null;
  orig_bytes: number | null; resp_bytes: number | null; orig_pkts: number | null; resp_pkts: number | null;
  orig_ip_bytes: number | null; resp_ip_bytes: number | null; rtt: number | null; orig_retrans: number | null; resp_retrans: number | null;
  history: string | null; orig_ooo: number | null; resp_ooo: number | null; vlan: number | null; inner_vlan: number | null;
  record: string;
  /** The processes' JSON (segments since they were added; never in the table rows of older versions). */
  orig_process?: string | null;
  resp_process?: string | null;
}

/** Fields every engine conn record has; the optional ones are service, vlan, inner_vlan and rtt. */
const REQUIRED = ['type', '_path', 'ts', 'uid', 'id.orig_h', 'id.orig_p', 'id.resp_h', 'id.resp_p', 'proto', 'community_id', 'duration',
  'orig_bytes', 'resp_bytes', 'conn_state', 'history', 'orig_pkts', 'orig_ip_bytes', 'resp_pkts', 'resp_ip_bytes',
  'orig_retrans', 'resp_retrans', 'orig_ooo', 'resp_ooo'];
const KNOWN = new Set([...REQUIRED, 'service', 'vlan', 'inner_vlan', 'rtt']);

/** True when the columns hold the whole record: every required field, nothing unknown. */
export function fitsColumns(c: ConnRecord): boolean {
  let required = 0;
  for (const key in c) {
    if (!KNOWN.has(key)) return false;
    if (key !== 'service' && key !== 'vlan' && key !== 'inner_vlan' && key !== 'rtt') required++;
  }
  return required === REQUIRED.length;
}

const orNull = <T>(x: T | undefined): T | null => (x === undefined ? null : x);

/** The insert's parameters in CONN_COLUMNS order. */
export function connParams(c: ConnRecord): unknown[] {
  return [
    c.ts, c.uid, orNull(c.community_id), c['id.orig_h'], c['id.orig_p'], c['id.resp_h'], c['id.resp_p'], c.proto, orNull(c.service),
    orNull(c.conn_state), orNull(c.duration), orNull(c.orig_bytes), orNull(c.resp_bytes), orNull(c.orig_pkts), orNull(c.resp_pkts),
    orNull(c.orig_ip_bytes), orNull(c.resp_ip_bytes), orNull(c.rtt), orNull(c.orig_retrans), orNull(c.resp_retrans),
    orNull(c.history), orNull(c.orig_ooo), orNull(c.resp_ooo), orNull(c.vlan), orNull(c.inner_vlan),
    fitsColumns(c) ? '' : JSON.stringify(c),
  ];
}

/** The record of a row: its JSON when it has one (rows before version 4, unknown fields), else its columns. */
export function connOfRow(row: ConnRow): ConnRecord {
  if (row.record !== '') return JSON.parse(row.record) as ConnRecord;
  const r: ConnRecord = {
    type: 'conn', _path: 'conn',
    ts: row.ts,
    uid: row.uid,
    'id.orig_h': row.orig_h,
    'id.orig_p': row.orig_p,
    'id.resp_h': row.resp_h,
    'id.resp_p': row.resp_p,
    proto: row.proto as ConnRecord['proto'],
    community_id: row.community_id as string,
    duration: row.duration as number,
    orig_bytes: row.orig_bytes as number,
    resp_bytes: row.resp_bytes as number,
    conn_state: row.conn_state as string,
    history: row.history as string,
    orig_pkts: row.orig_pkts as number,
    orig_ip_bytes: row.orig_ip_bytes as number,
    resp_pkts: row.resp_pkts as number,
    resp_ip_bytes: row.resp_ip_bytes as number,
    orig_retrans: row.orig_retrans as number,
    resp_retrans: row.resp_retrans as number,
    orig_ooo: row.orig_ooo as number,
    resp_ooo: row.resp_ooo as number,
  };
  if (row.service !== null) r.service = row.service;
  if (row.vlan !== null) r.vlan = row.vlan;
  if (row.inner_vlan !== null) r.inner_vlan = row.inner_vlan;
  if (row.rtt !== null) r.rtt = row.rtt;
  // Last, as the engine writes them (conn-record.ts).
  if (row.orig_process) r.orig_process = JSON.parse(row.orig_process) as ProcessRecord;
  if (row.resp_process) r.resp_process = JSON.parse(row.resp_process) as ProcessRecord;
  return r;
}
