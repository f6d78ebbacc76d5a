/**
 * From columns back to records: a stored segment decoded into the RecordBatch it was written from, and any
 * row of a RecordBatch rebuilt as the record that was appended (conn-columns.ts and dns-columns.ts give the
 * field order; a record kept as JSON is parsed). Queries use it for the records they return, the writer to
 * extend a minute's last segment with what comes next. It never touches the database.
 */
import type { ConnRecord, DnsRecord } from '../analyze/records.js';
import { connOfRow } from './conn-columns.js';
import { dnsOfValues } from './dns-columns.js';
import { COLUMNS, KEY_COUNT, PROTO_NAMES, type RecordBatch, type RecordKind } from './record-batch.js';
import { BlobReader } from './segment-codec.js';
import type { RowsBuilder } from '../analyze/record-rows.js';
import { CONN_NUMBERS } from '../analyze/flows/conn-record.js';
import { bytesOf, MAX_NUMBER_TEXT, putAscii, putBytes, putJsonString, putNumber } from '../analyze/flows/json-bytes.js';

/** Section indexes of a segment's `keys` blob. */
export const KEY_SECTIONS = { ts: 0, origPort: 1, respPort: 2, proto: 3, origHost: 4, respHost: 5 } as const;

/** The key columns of a segment, in KEY_SECTIONS order (host columns are indexes into its host table). */
export function keyColumns(keys: Uint8Array): Float64Array[] {
  const reader = new BlobReader(keys);
  return Array.from({ length: KEY_COUNT + 2 }, (_, i) => reader.numbers(i));
}

/** A stored segment as the columns it was written from. */
export function decodeSegment(kind: RecordKind, hosts: string, keys: Uint8Array, rest: Uint8Array): RecordBatch {
  const c = COLUMNS[kind];
  const key = keyColumns(keys);
  const blob = new BlobReader(rest);
  let s = 0;
  const numbers = [...key.slice(0, KEY_COUNT), ...c.numbers.map(() => blob.numbers(s++))];
  const labels = c.labels.slice(0, c.storedFirst).map(() => Uint32Array.from(blob.numbers(s++)));
  const labelTable = JSON.parse(blob.text(s++)) as string[];
  const text = blob.text(s++);
  const textLengths = Uint32Array.from(blob.numbers(s++));
  const fallbackRows = [...blob.numbers(s++)];
  const json = blob.text(s++);
  const jsonLengths = blob.numbers(s++);
  let at = 0;
  const fallbackJson = [...jsonLengths].map((length) => json.slice(at, (at += length)));
  // Labels added since: after the older sections; a segment written before them has none (0: absent).
  for (let l = c.storedFirst; l < c.labels.length; l++) labels.push(s < blob.sectionCount ? Uint32Array.from(blob.numbers(s++)) : new Uint32Array(blob.rows));
  return {
    kind, rows: blob.rows, numbers, labels, labelTable, origHost: Uint32Array.from(key[KEY_COUNT]), respHost: Uint32Array.from(key[KEY_COUNT + 1]),
    hostTable: JSON.parse(hosts) as string[], text, textLengths, fallbackRows, fallbackJson,
  };
}

/** Rebuilds the records of a batch, any row, any order. */
export class RecordReader {
  private readonly textStarts: Uint32Array;
  private readonly kept = new Map<number, string>();
  private readonly texts: number;

  constructor(private readonly batch: RecordBatch) {
    this.texts = COLUMNS[batch.kind].texts.length;
    const n = batch.rows * this.texts;
    this.textStarts = new Uint32Array(n + 1);
    for (let i = 0; i < n; i++) this.textStarts[i + 1] = this.textStarts[i] + batch.textLengths[i];
    batch.fallbackRows.forEach((row, i) => this.kept.set(row, batch.fallbackJson[i]));
  }

  record(row: number): ConnRecord | DnsRecord {
    const kept = this.kept.get(row);
    if (kept !== undefined) return JSON.parse(kept) as ConnRecord | DnsRecord;
    return this.batch.kind === 'dns' ? this.dns(row) : this.conn(row);
  }

  /**
   * Writes the row's record as JSON.stringify writes it into `rows`: a conn row kept in columns straight from
   * them (no object, no string, the field order of connOfRow), a record kept as JSON as that text
   * (JSON.stringify's text parses and stringifies back to itself), a DNS row through its record.
   */
  writeJson(row: number, rows: RowsBuilder, ts: number): void {
    const kept = this.kept.get(row);
    if (kept === undefined && this.batch.kind === 'conn' && PROTO_NAMES[this.batch.numbers[KEY_SECTIONS.proto][row]] !== undefined) {
      const buf = rows.room(this.connJsonRoom(row));
      rows.end(this.writeConnJson(row, buf, rows.at), ts);
      return;
    }
    rows.addText(kept ?? JSON.stringify(this.record(row)), ts);
  }

  /** The record's own string number `t` (COLUMNS[kind].texts). */
  private textOf(row: number, t: number): string {
    const i = row * this.texts + t;
    return this.batch.text.slice(this.textStarts[i], this.textStarts[i + 1]);
  }

  private label(column: number, row: number): string | undefined {
    const id = this.batch.labels[column][row];
    return id === 0 ? undefined : this.batch.labelTable[id];
  }

  private number(column: number, row: number): number {
    return this.batch.numbers[KEY_COUNT + column][row];
  }

  private conn(row: number): ConnRecord {
    const b = this.batch;
    const [ts, origPort, respPort, proto] = b.numbers;
    const n = (column: number) => {
      const v = this.number(column, row);
      return v !== v ? null : v;
    };
    return connOfRow({
      ts: ts[row], uid: this.textOf(row, 0), community_id: this.textOf(row, 1), orig_h: b.hostTable[b.origHost[row]], orig_p: origPort[row],
      resp_h: b.hostTable[b.respHost[row]], resp_p: respPort[row], proto: PROTO_NAMES[proto[row]], service: this.label(0, row) ?? null,
      conn_state: this.label(1, row) ?? null, history: this.label(2, row) ?? null, duration: n(0), orig_bytes: n(1), resp_bytes: n(2), orig_pkts: n(3),
      orig_ip_bytes: n(4), resp_pkts: n(5), resp_ip_bytes: n(6), orig_retrans: n(7), resp_retrans: n(8), orig_ooo: n(9), resp_ooo: n(10),
      vlan: n(11), inner_vlan: n(12), rtt: n(13), record: '', orig_process: this.label(3, row) ?? null, resp_process: this.label(4, row) ?? null,
    });
  }

  /** Bytes writeConnJson may take for this row: its fixed text and numbers, and its strings escaped at worst. */
  private connJsonRoom(row: number): number {
    const b = this.batch;
    let strings = this.textOf(row, 0).length + this.textOf(row, 1).length + b.hostTable[b.origHost[row]].length + b.hostTable[b.respHost[row]].length;
    for (let l = 0; l < 5; l++) strings += this.label(l, row)?.length ?? 0;
    return CONN_ROW_ROOM + 6 * strings;
  }

  /** JSON.stringify(this.conn(row))'s bytes for a row kept in columns, field by field; returns the end. */
  private writeConnJson(row: number, buf: Buffer, pos: number): number {
    const b = this.batch;
    const [ts, origPort, respPort, proto] = b.numbers;
    const n = (column: number) => this.number(column, row);
    pos = putNumber(buf, putBytes(buf, pos, K.ts), ts[row]);
    pos = putJsonString(buf, putBytes(buf, pos, K.uid), this.textOf(row, 0));
    pos = putJsonString(buf, putBytes(buf, pos, K.origH), b.hostTable[b.origHost[row]]);
    pos = putNumber(buf, putBytes(buf, pos, K.origP), origPort[row]);
    pos = putJsonString(buf, putBytes(buf, pos, K.respH), b.hostTable[b.respHost[row]]);
    pos = putNumber(buf, putBytes(buf, pos, K.respP), respPort[row]);
    pos = putJsonString(buf, putBytes(buf, pos, K.proto), PROTO_NAMES[proto[row]]);
    pos = putJsonString(buf, putBytes(buf, pos, K.community), this.textOf(row, 1));
    for (let i = 0; i < 3; i++) pos = putNumber(buf, putBytes(buf, pos, K.numbers[i]), n(i));
    pos = putOptionalString(buf, putBytes(buf, pos, K.state), this.label(1, row));
    pos = putOptionalString(buf, putBytes(buf, pos, K.history), this.label(2, row));
    for (let i = 3; i < 11; i++) pos = putNumber(buf, putBytes(buf, pos, K.numbers[i]), n(i));
    const service = this.label(0, row);
    if (service !== undefined) pos = putJsonString(buf, putBytes(buf, pos, K.service), service);
    for (let i = 11; i < 14; i++) if (n(i) === n(i)) pos = putNumber(buf, putBytes(buf, pos, K.numbers[i]), n(i));
    for (let l = 3; l < 5; l++) {
      const process = this.label(l, row);
      if (!process) continue;
      const at = putBytes(buf, pos, K.processes[l - 3]);
      pos = at + buf.write(JSON.stringify(JSON.parse(process)), at, 'utf8');
    }
    buf[pos++] = 0x7d;
    return pos;
  }

  private dns(row: number): DnsRecord {
    const b = this.batch;
    const [ts, origPort, respPort, proto] = b.numbers;
    const n = (column: number) => this.number(column, row);
    return dnsOfValues({
      ts: ts[row], uid: this.textOf(row, 0), origHost: b.hostTable[b.origHost[row]], origPort: origPort[row], respHost: b.hostTable[b.respHost[row]],
      respPort: respPort[row], proto: PROTO_NAMES[proto[row]], transId: n(0), rtt: n(1), qclass: n(2), qtype: n(3), rcode: n(4), z: n(5), flags: n(6),
      query: this.label(0, row), qclassName: this.label(1, row), qtypeName: this.label(2, row), rcodeName: this.label(3, row),
      answers: this.textOf(row, 1), ttls: this.textOf(row, 2),
    });
  }
}

/** A string field of a record that may be null. */
function putOptionalString(buf: Buffer, pos: number, s: string | undefined): number {
  return s === undefined ? putAscii(buf, pos, 'null') : putJsonString(buf, pos, s);
}

/** The text of a conn record between its values, in connOfRow's field order; numbers in CONN_NUMBERS' order. */
const K = {
  ts: bytesOf('{"type":"conn","_path":"conn","ts":'),
  uid: bytesOf(',"uid":'),
  origH: bytesOf(',"id.orig_h":'),
  origP: bytesOf(',"id.orig_p":'),
  respH: bytesOf(',"id.resp_h":'),
  respP: bytesOf(',"id.resp_p":'),
  proto: bytesOf(',"proto":'),
  community: bytesOf(',"community_id":'),
  state: bytesOf(',"conn_state":'),
  history: bytesOf(',"history":'),
  service: bytesOf(',"service":'),
  numbers: CONN_NUMBERS.map((name) => bytesOf(`,"${name}":`)),
  processes: [bytesOf(',"orig_process":'), bytesOf(',"resp_process":')],
};

/** Room for a conn row's keys and punctuation (under 400 bytes) and its 17 numbers, besides its strings. */
const CONN_ROW_ROOM = 512 + 17 * MAX_NUMBER_TEXT;
