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
import { connOfRow } from './conn-columns.js';
import { dnsOfValues } from './dns-columns.js';
import { COLUMNS, KEY_COUNT, PROTO_NAMES, protoCode, type RecordKind } from './record-batch.js';
import { BlobReader } from './segment-codec.js';
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

/** Rebuilds records from a segment's `rest` blob. */
class RestColumns {
  private readonly blob: BlobReader;
  private readonly numbers: Float64Array[];
  private readonly labels: Float64Array[];
  private readonly labelTable: string[];
  private readonly text: string;
  private readonly textStarts: Uint32Array;
  private readonly json = new Map<number, string>();
  private readonly texts: number;

  constructor(
    readonly kind: RecordKind,
    rest: Uint8Array,
    private readonly keys: Float64Array[],
    private readonly hosts: string[],
  ) {
    const c = COLUMNS[kind];
    this.blob = new BlobReader(rest);
    let s = 0;
    this.numbers = c.numbers.map(() => this.blob.numbers(s++));
    this.labels = c.labels.map(() => this.blob.numbers(s++));
    this.labelTable = JSON.parse(this.blob.text(s++)) as string[];
    this.text = this.blob.text(s++);
    const lengths = this.blob.numbers(s++);
    this.texts = c.texts.length;
    this.textStarts = new Uint32Array(lengths.length + 1);
    for (let i = 0; i < lengths.length; i++) this.textStarts[i + 1] = this.textStarts[i] + lengths[i];
    const jsonRows = this.blob.numbers(s++);
    const json = this.blob.text(s++);
    const jsonLengths = this.blob.numbers(s++);
    let at = 0;
    jsonRows.forEach((row, i) => {
      this.json.set(row, json.slice(at, at + jsonLengths[i]));
      at += jsonLengths[i];
    });
  }

  record(row: number): ConnRecord | DnsRecord {
    const kept = this.json.get(row);
    if (kept !== undefined) return JSON.parse(kept) as ConnRecord;
    return this.kind === 'dns' ? this.dns(row) : this.conn(row);
  }

  private textOf(row: number, t: number): string {
    const i = row * this.texts + t;
    return this.text.slice(this.textStarts[i], this.textStarts[i + 1]);
  }

  private label(column: number, row: number): string | undefined {
    const id = this.labels[column][row];
    return id === 0 ? undefined : this.labelTable[id];
  }

  private conn(row: number): ConnRecord {
    const [ts, origPort, respPort, proto, origHost, respHost] = this.keys;
    const n = (column: number) => {
      const v = this.numbers[column][row];
      return v !== v ? null : v;
    };
    return connOfRow({
      ts: ts[row], uid: this.textOf(row, 0), community_id: this.textOf(row, 1), orig_h: this.hosts[origHost[row]], orig_p: origPort[row],
      resp_h: this.hosts[respHost[row]], resp_p: respPort[row], proto: PROTO_NAMES[proto[row]], service: this.label(0, row) ?? null,
      conn_state: this.label(1, row) ?? null, history: this.label(2, row) ?? null, duration: n(0), orig_bytes: n(1), resp_bytes: n(2), orig_pkts: n(3),
      orig_ip_bytes: n(4), resp_pkts: n(5), resp_ip_bytes: n(6), orig_retrans: n(7), resp_retrans: n(8), orig_ooo: n(9), resp_ooo: n(10),
      vlan: n(11), inner_vlan: n(12), rtt: n(13), record: '',
    });
  }

  private dns(row: number): DnsRecord {
    const [ts, origPort, respPort, proto, origHost, respHost] = this.keys;
    const n = this.numbers;
    return dnsOfValues({
      ts: ts[row], uid: this.textOf(row, 0), origHost: this.hosts[origHost[row]], origPort: origPort[row], respHost: this.hosts[respHost[row]],
      respPort: respPort[row], proto: PROTO_NAMES[proto[row]], transId: n[0][row], rtt: n[1][row], qclass: n[2][row], qtype: n[3][row],
      rcode: n[4][row], z: n[5][row], flags: n[6][row], query: this.label(0, row), qclassName: this.label(1, row), qtypeName: this.label(2, row),
      rcodeName: this.label(3, row), answers: this.textOf(row, 1), ttls: this.textOf(row, 2),
    });
  }
}

/** The key columns of a segment: ts, orig_p, resp_p, proto, orig_h, resp_h (host indexes). */
function keyColumns(blob: Uint8Array): Float64Array[] {
  const reader = new BlobReader(blob);
  return Array.from({ length: KEY_COUNT + 2 }, (_, i) => reader.numbers(i));
}

/** The rows of a segment's keys that match the query. */
function matchingRows(keys: Float64Array[], hosts: string[], q: HistoryQuery): number[] {
  const [ts, origPort, respPort, proto, origHost, respHost] = keys;
  const host = q.host === undefined ? -1 : hosts.indexOf(q.host);
  if (q.host !== undefined && host < 0) return [];
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
    this.keysOf = db.prepare('SELECT keys FROM segments WHERE id = ?').pluck();
    this.segmentOf = db.prepare('SELECT hosts, keys, rest FROM segments WHERE id = ?');
  }

  /** The newest `limit` records of `kind` matching `q`, newest first (ties: the latest appended first). */
  records(kind: RecordKind, q: HistoryQuery, limit: number): Array<ConnRecord | DnsRecord> {
    if (limit <= 0) return [];
    const hits = this.find(kind, q, limit);
    const bySegment = new Map<number, number[]>();
    for (const h of hits) {
      const rows = bySegment.get(h.segment);
      if (rows) rows.push(h.row);
      else bySegment.set(h.segment, [h.row]);
    }
    const records = new Map<string, ConnRecord | DnsRecord>();
    for (const [segment, rows] of bySegment) {
      const stored = this.segmentOf.get(segment) as { hosts: string; keys: Buffer; rest: Buffer };
      const rest = new RestColumns(kind, stored.rest, keyColumns(stored.keys), JSON.parse(stored.hosts) as string[]);
      for (const row of rows) records.set(`${segment}:${row}`, rest.record(row));
    }
    return hits.map((h) => records.get(`${h.segment}:${h.row}`)!);
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
        const hosts = JSON.parse(c.hosts) as string[];
        const keys = keyColumns(this.keysOf.get(c.id) as Buffer);
        for (const row of matchingRows(keys, hosts, q)) hits.push({ ts: keys[0][row], segment: c.id, row });
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
    if (q.port !== undefined) {
      // Two bytes among the ports (a match straddling two ports is weeded out by the rows).
      where.push('instr(ports, ?) > 0');
      const needle = Buffer.alloc(2);
      needle.writeUInt16BE(q.port & 0xffff);
      params.push(needle);
    }
    if (q.proto !== undefined) {
      where.push('(protos & ?) != 0');
      params.push(1 << protoCode(q.proto));
    }
    if (after !== undefined) {
      where.push('(ts_max < ? OR (ts_max = ? AND id < ?))');
      params.push(after.ts_max, after.ts_max, after.id);
    }
    const key = `${q.host !== undefined}${q.port !== undefined}${q.proto !== undefined}${after !== undefined}`;
    let statement = this.candidates.get(key);
    if (statement === undefined) {
      statement = this.db.prepare(`SELECT id, ts_max, hosts FROM segments WHERE ${where.join(' AND ')} ORDER BY ts_max DESC, id DESC LIMIT ${PAGE}`);
      this.candidates.set(key, statement);
    }
    return statement.all(...params) as Candidate[];
  }
}
