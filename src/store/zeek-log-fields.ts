/**
 * The columns of each Zeek log Loopy writes (`--zeek-logs DIR`): Zeek's own columns in Zeek's order with
 * Zeek's types, where Loopy has the value, then Loopy's additions. A record field is read by its column name
 * (`id.orig_h` is a key of the record; `orig_process.pid` walks into the object). docs/records.md lists them.
 */
import type { AlertRecord, ZeekPath } from '../analyze/records.js';

/** A column: its name and its Zeek type (what `#types` says and how TSV writes the value). */
export type ZeekColumn = readonly [name: string, type: ZeekType];
export type ZeekType = 'time' | 'string' | 'addr' | 'port' | 'enum' | 'count' | 'int' | 'interval' | 'bool' | 'set[string]' | 'vector[string]' | 'vector[interval]' | 'set[enum]';

const CONN_ID: readonly ZeekColumn[] = [
  ['ts', 'time'], ['uid', 'string'], ['id.orig_h', 'addr'], ['id.orig_p', 'port'], ['id.resp_h', 'addr'], ['id.resp_p', 'port'],
];

const PROCESS = (side: 'orig' | 'resp'): ZeekColumn[] => [
  [`${side}_process.pid`, 'count'], [`${side}_process.name`, 'string'], [`${side}_process.exe`, 'string'],
  [`${side}_process.user`, 'string'], [`${side}_process.unit`, 'string'],
];

export interface ZeekLogLayout {
  columns: readonly ZeekColumn[];
  /** The row a record gives, when its fields are not the columns' already (an alert as a notice). */
  row?: (record: Record<string, unknown>) => Record<string, unknown>;
}

export const ZEEK_LOG_LAYOUTS: Record<ZeekPath, ZeekLogLayout> = {
  conn: {
    columns: [
      ...CONN_ID, ['proto', 'enum'], ['service', 'string'], ['duration', 'interval'], ['orig_bytes', 'count'], ['resp_bytes', 'count'],
      ['conn_state', 'string'], ['history', 'string'], ['orig_pkts', 'count'], ['orig_ip_bytes', 'count'], ['resp_pkts', 'count'],
      ['resp_ip_bytes', 'count'], ['community_id', 'string'], ['vlan', 'int'], ['inner_vlan', 'int'],
      ['rtt', 'interval'], ['orig_retrans', 'count'], ['resp_retrans', 'count'], ['orig_ooo', 'count'], ['resp_ooo', 'count'],
      ...PROCESS('orig'), ...PROCESS('resp'),
    ],
  },
  dns: {
    columns: [
      ...CONN_ID, ['proto', 'enum'], ['trans_id', 'count'], ['rtt', 'interval'], ['query', 'string'], ['qclass', 'count'],
      ['qclass_name', 'string'], ['qtype', 'count'], ['qtype_name', 'string'], ['rcode', 'count'], ['rcode_name', 'string'],
      ['AA', 'bool'], ['TC', 'bool'], ['RD', 'bool'], ['RA', 'bool'], ['Z', 'count'], ['answers', 'vector[string]'],
      ['TTLs', 'vector[interval]'], ['rejected', 'bool'],
    ],
  },
  ssl: {
    columns: [
      ...CONN_ID, ['version', 'string'], ['cipher', 'string'], ['server_name', 'string'], ['next_protocol', 'string'],
      ['established', 'bool'], ['ja3', 'string'], ['ja3s', 'string'], ['client_version', 'string'],
    ],
  },
  http: {
    columns: [
      ...CONN_ID, ['trans_depth', 'count'], ['method', 'string'], ['host', 'string'], ['uri', 'string'], ['version', 'string'],
      ['user_agent', 'string'], ['request_body_len', 'count'], ['response_body_len', 'count'], ['status_code', 'count'],
      ['status_msg', 'string'], ['missed_bytes', 'count'],
    ],
  },
  // Loopy has no ssh record yet (SSH is a conn `service`); the layout is Zeek's, for when it has.
  ssh: { columns: [...CONN_ID, ['version', 'count'], ['auth_success', 'bool'], ['client', 'string'], ['server', 'string']] },
  weird: {
    columns: [...CONN_ID, ['name', 'string'], ['addl', 'string'], ['notice', 'bool'], ['peer', 'string'], ['source', 'string'], ['count', 'count']],
  },
  notice: {
    columns: [
      ...CONN_ID, ['proto', 'enum'], ['note', 'enum'], ['msg', 'string'], ['sub', 'string'], ['src', 'addr'], ['dst', 'addr'],
      ['actions', 'set[enum]'], ['alert_id', 'string'], ['state', 'string'], ['state_ts', 'time'], ['severity', 'string'],
      ['community_ids', 'set[string]'], ['closed_reason', 'string'],
    ],
    row: (r) => noticeRow(r as unknown as AlertRecord),
  },
};

/** An alert as Zeek's notice.log has a notice: `note` is `Loopy::<detector>`, `sub` its evidence's counters. */
function noticeRow(a: AlertRecord): Record<string, unknown> {
  const counters = Object.entries(a.evidence.counters).map(([k, v]) => `${k}=${v}`).join(' ');
  return {
    ts: a.ts, note: `Loopy::${a.detector}`, msg: a.message, sub: counters === '' ? undefined : counters, src: a.src, dst: a.dst,
    actions: ['Notice::ACTION_LOG'], alert_id: a.alert_id, state: a.state, state_ts: a.state_ts, severity: a.severity,
    community_ids: a.community_ids, closed_reason: a.closed_reason,
  };
}

/** A column's value in a row: the key itself (`id.orig_h`), else a walk into nested objects (`orig_process.pid`). */
export function columnValue(row: Record<string, unknown>, name: string): unknown {
  if (Object.hasOwn(row, name)) return row[name];
  let value: unknown = row;
  for (const part of name.split('.')) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}
