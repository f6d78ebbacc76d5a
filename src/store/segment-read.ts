/**
 * Queries over segments (segment-write.ts): the newest records in [since, until) matching a host, port and
 * protocol, newest first, the same answer a row per record with its indexes gave. Segments are visited by
 * their newest record, newest first, their summary filtered in SQL (host in the host table, port among the
 * ports, protocol bit); the `keys` blob of each candidate is read and filtered record by record, and only the
 * segments that hold one of the final records have their `rest` read. The visit stops once `limit` records
 * are found and no segment left can hold a newer one. It never writes.
 */
import type Database from 'better-sqlite3';
import type { ConnRecord, DnsRecord } from '../analyze/records.js';
import { type RecordRows, RowsBuilder } from '../analyze/record-rows.js';
import { protoCode, type RecordKind } from './record-batch.js';
import { decodeSegment, keyColumns, RecordReader } from './segment-records.js';
import type { HistoryQuery } from './types.js';

/** Candidate segments fetched a page at a time (the keys of one are read before the next page is asked). */
const PAGE = 32;

interface Candidate {
  id: number;
  ts_max: number;
  hosts: string;
}

/** A record found: its time, its segment and its row there (the order: newest, then latest appended). */
interface Hit {
  ts: number;
  segment: number;
  row: number;
}

const newestFirst = (a: Hit, b: Hit) => b.ts - a.ts || b.segment - a.segment || b.row - a.row;

/** The rows of a segment's keys that match the query; `host`: the host's index in the segment's table, or -1 for any. */
function matchingRows(keys: Float64Array[], host: number, q: HistoryQuery): number[] {
  const [ts, origPort, respPort, proto, origHost, respHost] = keys;
  const port = q.port ?? -1;
  const code = q.proto === undefined ? -1 : protoCode(q.proto);
  const rows: number[] = [];
  for (let r = 0; r < ts.length; r++) {
    if (!(ts[r] >= q.since && ts[r] < q.until)) continue;
    if (host >= 0 && origHost[r] !== host && respHost[r] !== host) continue;
    if (port >= 0 && origPort[r] !== port && respPort[r] !== port) continue;
    if (code >= 0 && proto[r] !== code) continue;
    rows.push(r);
  }
  return rows;
}

export class SegmentQueries {
  private readonly candidates = new Map<string, Database.Statement>();
  private readonly keysOf: Database.Statement;
  private readonly segmentOf: Database.Statement;

  constructor(private readonly db: Database.Database) {
    this.keysOf = db.prepare('SELECT keys FROM segment_data WHERE id = ?').pluck();
    this.segmentOf = db.prepare('SELECT hosts, keys, rest FROM segments JOIN segment_data USING (id) WHERE id = ?');
  }

  /** The newest `limit` records of `kind` matching `q`, newest first (ties: the latest appended first). */
  records(kind: RecordKind, q: HistoryQuery, limit: number): Array<ConnRecord | DnsRecord> {
    const { hits, readers } = this.read(kind, q, limit);
    return hits.map((h) => readers.get(h.segment)!.record(h.row));
  }

  /** records(kind, q, limit) as JSON rows, written from the segments' columns without the records. */
  rows(kind: RecordKind, q: HistoryQuery, limit: number): RecordRows {
    const { hits, readers } = this.read(kind, q, limit);
    const rows = new RowsBuilder(hits.length, hits.length * 512);
    for (const h of hits) readers.get(h.segment)!.writeJson(h.row, rows, h.ts);
    return rows.done();
  }

  /** Where the newest `limit` matches are, newest first, and a reader of each segment holding one. */
  private read(kind: RecordKind, q: HistoryQuery, limit: number): { hits: Hit[]; readers: Map<number, RecordReader> } {
    const hits = limit <= 0 ? [] : this.find(kind, q, limit);
    const readers = new Map<number, RecordReader>();
    for (const h of hits) {
      if (readers.has(h.segment)) continue;
      const stored = this.segmentOf.get(h.segment) as { hosts: string; keys: Buffer; rest: Buffer };
      readers.set(h.segment, new RecordReader(decodeSegment(kind, stored.hosts, stored.keys, stored.rest)));
    }
    return { hits, readers };
  }

  /** Where the newest `limit` matching records are, newest first. */
  private find(kind: RecordKind, q: HistoryQuery, limit: number): Hit[] {
    let hits: Hit[] = [];
    /** The limit-th newest time found so far (a lower bound of the final one): older segments cannot beat it. */
    let kth = -Infinity;
    let after: Candidate | undefined;
    for (;;) {
      const page = this.page(kind, q, after);
      for (const c of page) {
        if (hits.length >= limit && c.ts_max < kth) return hits.sort(newestFirst).slice(0, limit);
        // The summary matched the host's JSON; its table says whether it is the host itself.
        const host = q.host === undefined ? -1 : (JSON.parse(c.hosts) as string[]).indexOf(q.host);
        if (q.host !== undefined && host < 0) continue;
        const keys = keyColumns(this.keysOf.get(c.id) as Buffer);
        for (const row of matchingRows(keys, host, q)) hits.push({ ts: keys[0][row], segment: c.id, row });
        if (hits.length >= limit && (kth === -Infinity || hits.length >= 2 * limit)) {
          hits = hits.sort(newestFirst).slice(0, limit);
          kth = hits[limit - 1].ts;
        }
      }
      if (page.length < PAGE) return hits.sort(newestFirst).slice(0, limit);
      after = page[page.length - 1];
    }
  }

  /** The next candidates after `after` (by newest record, then id, descending), their summary filtered in SQL. */
  private page(kind: RecordKind, q: HistoryQuery, after: Candidate | undefined): Candidate[] {
    const where = ['kind = ?', 'ts_max >= ?', 'ts_min < ?'];
    const params: Array<string | number | Buffer> = [kind, q.since, q.until];
    if (q.host !== undefined) {
      // The host as the JSON array writes it, quotes included: found whenever the host is in the table.
      where.push('instr(hosts, ?) > 0');
      params.push(JSON.stringify(q.host));
    }
    if (q.port !== undefined && Number.isInteger(q.port) && q.port >= 0 && q.port <= 0xffff) {
      // Two bytes among the ports (a match straddling two ports is weeded out by the rows).
      where.push('instr(ports, ?) > 0');
      const needle = Buffer.alloc(2);
      needle.writeUInt16BE(q.port);
      params.push(needle);
    }
    if (q.proto !== undefined) {
      where.push('(protos & ?) != 0');
      params.push(1 << protoCode(q.proto));
    }
    if (after !== undefined) {
      // A row value, so the index serves it as a range (an OR of the two would be read from the top every page).
      where.push('(ts_max, id) < (?, ?)');
      params.push(after.ts_max, after.id);
    }
    const key = where.join(' AND ');
    let statement = this.candidates.get(key);
    if (statement === undefined) {
      statement = this.db.prepare(`SELECT id, ts_max, hosts FROM segments WHERE ${where.join(' AND ')} ORDER BY ts_max DESC, id DESC LIMIT ${PAGE}`);
      this.candidates.set(key, statement);
    }
    return statement.all(...params) as Candidate[];
  }
}
