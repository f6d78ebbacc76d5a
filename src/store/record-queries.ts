/**
 * flows(), dns(), alerts(), topTalkers(): time range plus optional host / port / protocol filters, each a
 * WHERE clause an index serves ((host, ts), (port, ts), (ts)). Records come back as they were appended (the
 * stored JSON), newest first: with a limit, the newest `limit` of them, so the cut is at the end of the list
 * (the next page back ends at the last row's ts). Alerts have their acknowledgement merged in.
 */
import type Database from 'better-sqlite3';
import type { ConnRecord, DnsRecord } from '../analyze/records.js';
import { type AlertLike, type HistoryQuery, type HostTotal, QUERY_LIMITS, type TalkersQuery } from './types.js';
import { CONN_COLUMNS, connOfRow } from './conn-columns.js';

const CONN_SELECT = CONN_COLUMNS.join(', ');

interface Columns {
  table: string;
  ts: string;
  /** After ts in ORDER BY: rows of the same time come back newest appended first, the same way every time. */
  tiebreak: string;
  hosts: string[];
  ports: string[];
  proto?: string;
}

const CONN: Columns = { table: 'conn', ts: 'ts', tiebreak: 'id', hosts: ['orig_h', 'resp_h'], ports: ['orig_p', 'resp_p'], proto: 'proto' };
const DNS: Columns = { table: 'dns', ts: 'ts', tiebreak: 'id', hosts: ['orig_h', 'resp_h'], ports: ['orig_p', 'resp_p'], proto: 'proto' };
const ALERTS: Columns = { table: 'alerts', ts: 'ts', tiebreak: 'alert_id', hosts: ['src', 'dst'], ports: [] };

interface AlertRow {
  record: string;
  acknowledged_at: number | null;
  acknowledged_by: string | null;
}

/** The stored record with its acknowledgement (kept in columns of its own, docs/records.md) merged in. */
function alertOf(row: AlertRow): AlertLike {
  const alert = JSON.parse(row.record) as AlertLike;
  if (row.acknowledged_at !== null) {
    alert.acknowledged = true;
    alert.acknowledged_at = row.acknowledged_at;
    alert.acknowledged_by = row.acknowledged_by ?? '';
  }
  return alert;
}

/** The query's limit within QUERY_LIMITS; without one, `fallback` (a client asking for a week of flows gets a page). */
export function limitOf(q: Pick<HistoryQuery, 'limit'>, fallback: number = QUERY_LIMITS.default): number {
  if (q.limit === undefined || !Number.isFinite(q.limit) || q.limit < 0) return fallback;
  return Math.min(Math.floor(q.limit), QUERY_LIMITS.max);
}

/** A statement per filter combination, prepared on first use (at most 8 per table). */
export class RecordQueries {
  private readonly cache = new Map<string, Database.Statement>();

  constructor(private readonly db: Database.Database) {}

  flows(q: HistoryQuery): ConnRecord[] {
    return this.records(CONN, q, CONN_SELECT, connOfRow);
  }

  dns(q: HistoryQuery): DnsRecord[] {
    return this.records<DnsRecord>(DNS, q);
  }

  /** Alerts that fired in the range (one per alert_id, in its latest state, acknowledgement merged). Port and proto do not apply. */
  alerts(q: HistoryQuery): AlertLike[] {
    return this.records(ALERTS, { ...q, port: undefined, proto: undefined }, 'record, acknowledged_at, acknowledged_by', alertOf);
  }

  /** One alert in its latest state, acknowledgement merged; undefined when the store does not have it. */
  alert(alertId: string): AlertLike | undefined {
    const row = this.statement('alert', 'SELECT record, acknowledged_at, acknowledged_by FROM alerts WHERE alert_id = ?').get(alertId) as AlertRow | undefined;
    return row === undefined ? undefined : alertOf(row);
  }

  /**
   * Bytes and packets per host over the range, biggest first (from the per-minute top talkers). Every minute
   * that overlaps [since, until) counts whole.
   */
  topTalkers(q: TalkersQuery): HostTotal[] {
    const sql = 'SELECT host, sum(bytes) AS bytes, sum(packets) AS packets FROM talkers_1m WHERE ts >= ? AND ts < ? GROUP BY host ORDER BY bytes DESC, host LIMIT ?';
    const since = Math.floor(q.since / 60) * 60;
    return this.statement(`talkers`, sql).all(since, q.until, limitOf(q, QUERY_LIMITS.talkersDefault)) as HostTotal[];
  }

  /** Rows of `c` matching `q`, newest first: the `record` JSON parsed, or `columns` read by `decode`. */
  private records<T, R = never>(c: Columns, q: HistoryQuery, columns = 'record', decode?: (row: R) => T): T[] {
    const where = [`${c.ts} >= ?`, `${c.ts} < ?`];
    const params: Array<string | number> = [q.since, q.until];
    let key = c.table;
    if (q.host !== undefined) {
      where.push(`(${c.hosts.map((h) => `${h} = ?`).join(' OR ')})`);
      for (const _ of c.hosts) params.push(q.host);
      key += '+host';
    }
    if (q.port !== undefined && c.ports.length > 0) {
      where.push(`(${c.ports.map((p) => `${p} = ?`).join(' OR ')})`);
      for (const _ of c.ports) params.push(q.port);
      key += '+port';
    }
    if (q.proto !== undefined && c.proto !== undefined) {
      where.push(`${c.proto} = ?`);
      params.push(q.proto);
      key += '+proto';
    }
    params.push(limitOf(q));
    const sql = `SELECT ${columns} FROM ${c.table} WHERE ${where.join(' AND ')} ORDER BY ${c.ts} DESC, ${c.tiebreak} DESC LIMIT ?`;
    if (decode === undefined) {
      const rows = this.statement(key, sql).pluck().all(...params) as string[];
      return rows.map((r) => JSON.parse(r) as T);
    }
    return (this.statement(key, sql).all(...params) as R[]).map(decode);
  }

  private statement(key: string, sql: string): Database.Statement {
    let s = this.cache.get(key);
    if (s === undefined) {
      s = this.db.prepare(sql);
      this.cache.set(key, s);
    }
    return s;
  }
}
