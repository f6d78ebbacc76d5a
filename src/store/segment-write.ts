/**
 * Closed flows and DNS transactions are stored in segments, not a row each: one SQLite row holds up to
 * SEGMENT_ROWS records of one minute (by their ts), as columns in two blobs (`keys`: what queries filter on;
 * `rest`: everything else), beside a summary a query reads first: the time range, the protocols, the hosts
 * (a JSON array, the segment's host table) and the distinct ports. A row per record costs SQLite about a
 * microsecond per index and per bound value; a segment costs one insert for a few hundred records
 * (docs/decisions/0013-store-off-the-capture-thread.md). This module turns a RecordBatch into segment rows;
 * it never reads the database.
 */
import type Database from 'better-sqlite3';
import { COLUMNS, KEY_COUNT, type RecordBatch, type RecordKind } from './record-batch.js';
import { BlobWriter } from './segment-codec.js';

/** At most this many records a segment: a query that needs one of them reads all of their columns. */
export const SEGMENT_ROWS = 256;
/** A segment never spans two minutes of its records' ts, so retention and the size cap cut close to the minute. */
const SEGMENT_SPAN = 60;

export interface SegmentRow {
  kind: RecordKind;
  tsMin: number;
  tsMax: number;
  rows: number;
  /** Bit (1 << protoCode) of every protocol present. */
  protos: number;
  /** JSON array of the hosts; the host columns are indexes into it. */
  hosts: string;
  /** Distinct ports, ascending, two bytes each (big-endian). */
  ports: Buffer;
  keys: Buffer;
  rest: Buffer;
}

/** The segment rows of a batch, in the order to insert them (oldest minute first, records in arrival order). */
export function segmentsOf(batch: RecordBatch): SegmentRow[] {
  const shared = new BatchParts(batch);
  return rowGroups(batch.numbers[0], batch.rows).map((rows) => encodeSegment(batch, shared, rows));
}

/** What every segment of a batch reads the same way: where each record's strings start, its JSON if kept so. */
class BatchParts {
  readonly textStarts: Uint32Array;
  readonly labelTable: string;
  readonly json = new Map<number, string>();
  readonly texts: number;

  constructor(batch: RecordBatch) {
    this.texts = COLUMNS[batch.kind].texts.length;
    this.textStarts = new Uint32Array(batch.rows * this.texts + 1);
    for (let i = 0; i < batch.rows * this.texts; i++) this.textStarts[i + 1] = this.textStarts[i] + batch.textLengths[i];
    this.labelTable = JSON.stringify(batch.labelTable);
    batch.fallbackRows.forEach((row, i) => this.json.set(row, batch.fallbackJson[i]));
  }
}

/** Row indexes grouped by minute of ts (ascending), each group cut into pieces of at most SEGMENT_ROWS. */
function rowGroups(ts: Float64Array, rows: number): Uint32Array[] {
  const byMinute = new Map<number, number[]>();
  let lastMinute = NaN;
  let last: number[] = [];
  for (let r = 0; r < rows; r++) {
    const minute = Math.floor(ts[r] / SEGMENT_SPAN);
    if (minute !== lastMinute) {
      lastMinute = minute;
      last = byMinute.get(minute) ?? [];
      if (last.length === 0) byMinute.set(minute, last);
    }
    last.push(r);
  }
  const groups: Uint32Array[] = [];
  for (const minute of [...byMinute.keys()].sort((a, b) => a - b)) {
    const all = byMinute.get(minute)!;
    for (let at = 0; at < all.length; at += SEGMENT_ROWS) groups.push(Uint32Array.from(all.slice(at, at + SEGMENT_ROWS)));
  }
  return groups;
}

function gather(column: ArrayLike<number>, rows: Uint32Array): Float64Array {
  const out = new Float64Array(rows.length);
  for (let k = 0; k < rows.length; k++) out[k] = column[rows[k]];
  return out;
}

function encodeSegment(batch: RecordBatch, parts: BatchParts, rows: Uint32Array): SegmentRow {
  const n = rows.length;
  const numbers = batch.numbers.map((column) => gather(column, rows));
  const [ts, origPort, respPort, proto] = numbers;
  let tsMin = Infinity;
  let tsMax = -Infinity;
  let protos = 0;
  for (let k = 0; k < n; k++) {
    if (ts[k] < tsMin) tsMin = ts[k];
    if (ts[k] > tsMax) tsMax = ts[k];
    protos |= 1 << proto[k];
  }
  // A record without a time (never from the engine) must not make the summary NULL.
  if (tsMin > tsMax) tsMin = tsMax = 0;
  const { hosts, origHost, respHost } = localHosts(batch, rows);
  const keys = new BlobWriter(n).numbers(ts).numbers(origPort).numbers(respPort).numbers(proto).numbers(origHost).numbers(respHost).finish();

  const rest = new BlobWriter(n);
  for (let c = KEY_COUNT; c < numbers.length; c++) rest.numbers(numbers[c]);
  for (const labels of batch.labels) rest.numbers(gather(labels, rows));
  rest.text(parts.labelTable);
  const { text, lengths } = segmentTexts(batch, parts, rows);
  rest.text(text).numbers(lengths);
  const jsonRows: number[] = [];
  const json: string[] = [];
  if (parts.json.size > 0) {
    rows.forEach((row, k) => {
      const kept = parts.json.get(row);
      if (kept === undefined) return;
      jsonRows.push(k);
      json.push(kept);
    });
  }
  rest.numbers(Float64Array.from(jsonRows)).text(json.join('')).numbers(Float64Array.from(json, (j) => j.length));
  return { kind: batch.kind, tsMin, tsMax, rows: n, protos, hosts: JSON.stringify(hosts), ports: distinctPorts(origPort, respPort), keys, rest: rest.finish() };
}

/** The segment's own host table (only hosts its records name) and each record's indexes into it. */
function localHosts(batch: RecordBatch, rows: Uint32Array): { hosts: string[]; origHost: Float64Array; respHost: Float64Array } {
  const local = new Int32Array(batch.hostTable.length).fill(-1);
  const hosts: string[] = [];
  const idOf = (batchId: number) => {
    if (local[batchId] < 0) local[batchId] = hosts.push(batch.hostTable[batchId]) - 1;
    return local[batchId];
  };
  const origHost = new Float64Array(rows.length);
  const respHost = new Float64Array(rows.length);
  for (let k = 0; k < rows.length; k++) {
    origHost[k] = idOf(batch.origHost[rows[k]]);
    respHost[k] = idOf(batch.respHost[rows[k]]);
  }
  return { hosts, origHost, respHost };
}

/** The records' strings, joined, and their lengths (one substring when the rows are consecutive). */
function segmentTexts(batch: RecordBatch, parts: BatchParts, rows: Uint32Array): { text: string; lengths: Float64Array } {
  const per = parts.texts;
  const lengths = new Float64Array(rows.length * per);
  for (let k = 0; k < rows.length; k++) for (let t = 0; t < per; t++) lengths[k * per + t] = batch.textLengths[rows[k] * per + t];
  const first = rows[0];
  const last = rows[rows.length - 1];
  if (last - first === rows.length - 1) {
    return { text: batch.text.slice(parts.textStarts[first * per], parts.textStarts[(last + 1) * per]), lengths };
  }
  const pieces: string[] = [];
  for (let k = 0; k < rows.length; k++) pieces.push(batch.text.slice(parts.textStarts[rows[k] * per], parts.textStarts[(rows[k] + 1) * per]));
  return { text: pieces.join(''), lengths };
}

/** Marks of the ports seen in one segment; cleared after each, so one table serves every segment. */
const portSeen = new Uint8Array(65_536);

function distinctPorts(origPort: Float64Array, respPort: Float64Array): Buffer {
  const found = new Uint16Array(2 * origPort.length);
  let count = 0;
  for (const column of [origPort, respPort]) {
    for (let k = 0; k < column.length; k++) {
      const p = column[k];
      // A fraction or NaN indexes nothing in the table and is skipped.
      if (portSeen[p] === 0) {
        portSeen[p] = 1;
        found[count++] = p;
      }
    }
  }
  const ports = found.subarray(0, count).sort();
  const out = Buffer.alloc(count * 2);
  for (let i = 0; i < count; i++) {
    const p = ports[i];
    out[2 * i] = p >> 8;
    out[2 * i + 1] = p & 0xff;
    portSeen[p] = 0;
  }
  return out;
}

/** The insert of a segment row. */
export function prepareSegmentInsert(db: Database.Database): (s: SegmentRow) => void {
  const insert = db.prepare('INSERT INTO segments (kind, ts_min, ts_max, rows, protos, hosts, ports, keys, rest) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
  return (s) => insert.run(s.kind, s.tsMin, s.tsMax, s.rows, s.protos, s.hosts, s.ports, s.keys, s.rest);
}
