/**
 * flows(), dns(), alerts(), topTalkers(): time range plus optional host / port / protocol filters, each a
 * WHERE clause an index serves ((host, ts), (port, ts), (ts)). Records come back as they were appended
 * (the stored JSON), oldest first; with a limit, the newest `limit` of them.
 */
import type Database from 'better-sqlite3';
import type { ConnRecord, DnsRecord } from '../analyze/records.js';
import type { AlertLike, HistoryQuery, HostTotal } from './types.js';

/** Without a limit a query returns at most this many records (a client asking for a week of flows gets a page). */
export const DEFAULT_LIMIT = 10_000;
/** No query returns more, whatever it asks: the reply must fit the agent's memory and a frame. */
export const MAX_LIMIT = 100_000;

interface Columns {
  table: string;
  ts: string;
  hosts: string[];
  ports: string[];
  proto?: string;
}

const CONN: Columns = { table: 'conn', ts: 'ts', hosts: ['orig_h', 'resp_h'], ports: ['orig_p', 'resp_p'], proto: 'proto' };
const DNS: Columns = { table: 'dns', ts: 'ts', hosts: ['orig_h', 'resp_h'], ports: ['orig_p', 'resp_p'], proto: 'proto' };
const ALERTS: Columns = { table: 'alerts', ts: 'ts', hosts: ['src', 'dst'], ports: [] };

export function limitOf(q: HistoryQuery): number {
  if (q.limit === undefined || !Number.isFinite(q.limit) || q.limit < 0) return DEFAULT_LIMIT;
  return Math.min(Math.floor(q.limit), MAX_LIMIT);
}

/** A statement per filter combination, prepared on first use (at most 8 per table). */
export class RecordQueries {
  private readonly cache = new Map<string, Database.Statement>();

  constructor(private readonly db: Database.Database) {}

  flows(q: HistoryQuery): ConnRecord[] {
    return this.records<ConnRecord>(CONN, q);
  }

  dns(q: HistoryQuery): DnsRecord[] {
    return this.records<DnsRecord>(DNS, q);
  }

  /** Alerts that fired in the range (one per alert_id, in its latest state). Port and proto do not apply. */
  alerts(q: HistoryQuery): AlertLike[] {
    return this.records<AlertLike>(ALERTS, { ...q, port: undefined, proto: undefined });
  }

  /** Bytes and packets per host over the range, biggest first (from the per-minute top talkers). */
  topTalkers(q: HistoryQuery): HostTotal[] {
    const sql = 'SELECT host, sum(bytes) AS bytes, sum(packets) AS packets FROM talkers_1m WHERE ts >= ? AND ts < ? GROUP BY host ORDER BY bytes DESC, host LIMIT ?';
    const since = Math.floor(q.since / 60) * 60;
    return this.statement(`talkers`, sql).all(since, q.until, q.limit === undefined ? 10 : limitOf(q)) as HostTotal[];
  }

  private records<T>(c: Columns, q: HistoryQuery): T[] {
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
    const sql = `SELECT record FROM ${c.table} WHERE ${where.join(' AND ')} ORDER BY ${c.ts} DESC LIMIT ?`;
    const rows = this.statement(key, sql).pluck().all(...params) as string[];
    const out: T[] = new Array(rows.length);
    for (let i = 0; i < rows.length; i++) out[rows.length - 1 - i] = JSON.parse(rows[i]) as T;
    return out;
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
