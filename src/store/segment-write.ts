/**
 * Closed flows and DNS transactions are stored in segments, not a row each: one SQLite row holds up to
 * SEGMENT_ROWS records of one minute (by their ts), as columns in two blobs (`keys`: what queries filter on;
 * `rest`: everything else), beside a summary a query reads first: the time range, the protocols, the hosts
 * (a JSON array, the segment's host table) and the distinct ports. A row per record costs SQLite about a
 * microsecond per index and per bound value; a segment costs one insert for a few hundred records
 * (docs/decisions/0013-store-off-the-capture-thread.md). A minute's last segment, while not full, takes the
 * next records of that minute (rewritten whole), so a quiet server's second-by-second flushes do not leave a
 * segment per second for queries to scan. This module writes; it reads only the segment it extends.
 */
import type Database from 'better-sqlite3';
import { COLUMNS, KEY_COUNT, type RecordBatch, type RecordKind } from './record-batch.js';
import { BlobWriter } from './segment-codec.js';
import { decodeSegment } from './segment-records.js';

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

/** Row indexes grouped by minute of ts, oldest minute first, in arrival order within each. */
function minuteGroups(ts: Float64Array, rows: number): Array<{ minute: number; rows: number[] }> {
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
  return [...byMinute].sort((a, b) => a[0] - b[0]).map(([minute, group]) => ({ minute, rows: group }));
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
  const c = COLUMNS[batch.kind];
  for (const labels of batch.labels.slice(0, c.storedFirst)) rest.numbers(gather(labels, rows));
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
  for (const labels of batch.labels.slice(c.storedFirst)) rest.numbers(gather(labels, rows));
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

/** Ids into `from` made ids into `into`, which takes the strings it lacks (id 0, absent, stays 0 when `absent`). */
function mergedIds(into: string[], from: string[], absent: boolean): (id: number) => number {
  const index = new Map(into.map((value, i) => [value, i]));
  const cache = new Int32Array(from.length).fill(-1);
  return (id) => {
    if (absent && id === 0) return 0;
    if (cache[id] < 0) {
      const known = index.get(from[id]);
      cache[id] = known ?? into.push(from[id]) - 1;
      if (known === undefined) index.set(from[id], cache[id]);
    }
    return cache[id];
  };
}

/** A stored segment's records followed by `rows` of a batch, as one batch (table ids remapped, strings joined). */
function appended(stored: RecordBatch, batch: RecordBatch, parts: BatchParts, rows: Uint32Array): RecordBatch {
  const n = stored.rows + rows.length;
  const extend = <T extends Float64Array | Uint32Array>(make: (n: number) => T, head: T, tail: ArrayLike<number>, map = (v: number) => v): T => {
    const out = make(n);
    out.set(head.subarray(0, stored.rows));
    for (let k = 0; k < rows.length; k++) out[stored.rows + k] = map(tail[rows[k]]);
    return out;
  };
  const labelTable = [...stored.labelTable];
  const labelId = mergedIds(labelTable, batch.labelTable, true);
  const hostTable = [...stored.hostTable];
  const hostId = mergedIds(hostTable, batch.hostTable, false);
  const { text, lengths } = segmentTexts(batch, parts, rows);
  const textLengths = new Uint32Array(stored.textLengths.length + lengths.length);
  textLengths.set(stored.textLengths);
  textLengths.set(lengths, stored.textLengths.length);
  const fallbackRows = [...stored.fallbackRows];
  const fallbackJson = [...stored.fallbackJson];
  rows.forEach((row, k) => {
    const json = parts.json.get(row);
    if (json === undefined) return;
    fallbackRows.push(stored.rows + k);
    fallbackJson.push(json);
  });
  return {
    kind: batch.kind, rows: n, labelTable, hostTable, text: stored.text + text, textLengths, fallbackRows, fallbackJson,
    numbers: stored.numbers.map((column, c) => extend((m) => new Float64Array(m), column, batch.numbers[c])),
    labels: stored.labels.map((column, c) => extend((m) => new Uint32Array(m), column, batch.labels[c], labelId)),
    origHost: extend((m) => new Uint32Array(m), stored.origHost, batch.origHost, hostId),
    respHost: extend((m) => new Uint32Array(m), stored.respHost, batch.respHost, hostId),
  };
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

interface OpenSegment {
  id: number;
  rows: number;
  hosts: string;
  keys: Buffer;
  rest: Buffer;
}

/** Writes batches as segments, inside the caller's transaction. */
export class SegmentWriter {
  private readonly summary: Database.Statement;
  private readonly data: Database.Statement;
  private readonly lastOfMinute: Database.Statement;
  private readonly remove: Database.Statement;

  constructor(db: Database.Database) {
    this.summary = db.prepare('INSERT INTO segments (kind, ts_min, ts_max, rows, protos, hosts, ports) VALUES (?, ?, ?, ?, ?, ?, ?)');
    this.data = db.prepare('INSERT INTO segment_data (id, keys, rest) VALUES (?, ?, ?)');
    this.lastOfMinute = db.prepare(
      'SELECT id, rows, hosts, keys, rest FROM segments JOIN segment_data USING (id) WHERE id = (SELECT max(id) FROM segments WHERE kind = ? AND ts_max >= ? AND ts_max < ?) AND rows < ?',
    );
    // segment_data follows (trigger segments_delete).
    this.remove = db.prepare('DELETE FROM segments WHERE id = ?');
  }

  write(batch: RecordBatch): void {
    const parts = new BatchParts(batch);
    for (const { minute, rows } of minuteGroups(batch.numbers[0], batch.rows)) {
      const open = Number.isFinite(minute) ? (this.lastOfMinute.get(batch.kind, minute * SEGMENT_SPAN, (minute + 1) * SEGMENT_SPAN, SEGMENT_ROWS) as OpenSegment | undefined) : undefined;
      const extended = open ? this.extend(open, batch, parts, rows.slice(0, SEGMENT_ROWS - open.rows)) : 0;
      for (let at = extended; at < rows.length; at += SEGMENT_ROWS) this.insert(encodeSegment(batch, parts, Uint32Array.from(rows.slice(at, at + SEGMENT_ROWS))));
    }
  }

  /** Rewrites the minute's open segment with `rows` of the batch after its own; how many of them it took. */
  private extend(open: OpenSegment, batch: RecordBatch, parts: BatchParts, rows: number[]): number {
    const merged = appended(decodeSegment(batch.kind, open.hosts, open.keys, open.rest), batch, parts, Uint32Array.from(rows));
    this.remove.run(open.id);
    this.insert(encodeSegment(merged, new BatchParts(merged), Uint32Array.from({ length: merged.rows }, (_, i) => i)));
    return rows.length;
  }

  private insert(s: SegmentRow): void {
    const id = this.summary.run(s.kind, s.tsMin, s.tsMax, s.rows, s.protos, s.hosts, s.ports).lastInsertRowid;
    this.data.run(id, s.keys, s.rest);
  }
}
