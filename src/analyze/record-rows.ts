/**
 * Records as JSON text rows, made where the records are (the store's thread for stored ones, the engine's
 * columns for open flows) and handed on without a copy or an object per row: one buffer of rows separated
 * by commas, with each row's time and the offset where it ends. An answer merges lists of rows by time and is
 * written to the client as it is. Cloned and stringified as objects, a 10,000-row history answer cost the
 * agent's thread 100–280 ms of CPU (the clone, the collector, JSON.stringify), taken from capture.
 */

export interface RecordRows {
  /** The rows' JSON texts, newest first, separated by commas (UTF-8). */
  readonly text: Uint8Array;
  /** Each row's ts. */
  readonly ts: Float64Array;
  /** Where each row's text ends in `text` (exclusive); the next one starts one byte later, past the comma. */
  readonly ends: Uint32Array;
}

const COMMA = 0x2c;

/** Writes rows one at a time into a buffer that grows as needed; its ArrayBuffer is its own, to transfer. */
export class RowsBuilder {
  private buf: Buffer;
  private pos = 0;
  private count = 0;
  private readonly ts: Float64Array;
  private readonly ends: Uint32Array;

  constructor(rows: number, bytesHint: number) {
    this.buf = ownBuffer(Math.max(64, bytesHint));
    this.ts = new Float64Array(rows);
    this.ends = new Uint32Array(rows);
  }

  /** The buffer with `bytes` free at `at` (after the separator): write the row there, then call end. */
  room(bytes: number): Buffer {
    const need = this.pos + 1 + bytes;
    if (need > this.buf.length) {
      const bigger = ownBuffer(Math.max(need, this.buf.length * 2));
      this.buf.copy(bigger, 0, 0, this.pos);
      this.buf = bigger;
    }
    return this.buf;
  }

  /** Where the next row's text starts (call room first). */
  get at(): number {
    return this.count === 0 ? this.pos : this.pos + 1;
  }

  /** The row written from `at` up to `end` is done. */
  end(end: number, ts: number): void {
    if (this.count > 0) this.buf[this.pos] = COMMA;
    this.ts[this.count] = ts;
    this.ends[this.count++] = end;
    this.pos = end;
  }

  /** A row given as its JSON text. */
  addText(text: string, ts: number): void {
    const buf = this.room(3 * text.length);
    const at = this.at;
    this.end(at + buf.write(text, at), ts);
  }

  done(): RecordRows {
    return { text: new Uint8Array(this.buf.buffer, 0, this.pos), ts: this.ts.subarray(0, this.count), ends: this.ends.subarray(0, this.count) };
  }
}

function ownBuffer(bytes: number): Buffer {
  const bytesOwned = new Uint8Array(bytes);
  return Buffer.from(bytesOwned.buffer, 0, bytes);
}

/**
 * The records (newest first) as rows, each as JSON.stringify writes it: the text a reply carried when it was
 * stringified whole (a row of an older version's table may lack fields a hand-written writer assumes).
 */
export function rowsOf(records: ReadonlyArray<{ ts: number }>): RecordRows {
  const rows = new RowsBuilder(records.length, records.length * 400);
  for (const r of records) rows.addText(JSON.stringify(r), r.ts);
  return rows.done();
}

/** Where row `i` starts in `rows.text`. */
export function rowStart(rows: RecordRows, i: number): number {
  return i === 0 ? 0 : rows.ends[i - 1] + 1;
}

/** The buffers a RecordRows holds, to transfer it between threads. */
export function rowBuffers(rows: RecordRows): ArrayBuffer[] {
  return [rows.text.buffer, rows.ts.buffer, rows.ends.buffer] as ArrayBuffer[];
}

/**
 * The newest `limit` rows of several lists (each newest first) as the parts of one JSON array's text, in
 * order; on equal times an earlier list's row comes first (as a stable sort of the lists one after the
 * other would have them). Consecutive rows of one list are one part, not copied.
 */
export function mergedRows(lists: readonly RecordRows[], limit: number): Uint8Array[] {
  const parts: Uint8Array[] = [OPEN_BRACKET];
  const next = new Array<number>(lists.length).fill(0);
  for (let n = 0; n < limit; ) {
    const best = newestHead(lists, next);
    if (best < 0) break;
    // The run goes on while its rows beat the other lists' heads (which do not move meanwhile).
    let before = -Infinity;
    let after = -Infinity;
    for (let k = 0; k < lists.length; k++) {
      if (k === best || next[k] >= lists[k].ts.length) continue;
      if (k < best) before = Math.max(before, lists[k].ts[next[k]]);
      else after = Math.max(after, lists[k].ts[next[k]]);
    }
    const rows = lists[best];
    const first = next[best];
    // The head is taken whatever its time compares as (a NaN compares as nothing: no run would start).
    let j = first;
    do {
      j++;
      n++;
    } while (j < rows.ts.length && n < limit && rows.ts[j] > before && rows.ts[j] >= after);
    next[best] = j;
    if (parts.length > 1) parts.push(COMMA_BYTE);
    parts.push(rows.text.subarray(rowStart(rows, first), rows.ends[j - 1]));
  }
  parts.push(CLOSE_BRACKET);
  return parts;
}

/** The list whose next row is newest (the first such list on a tie), or -1 when all are done. */
function newestHead(lists: readonly RecordRows[], next: readonly number[]): number {
  let best = -1;
  for (let k = 0; k < lists.length; k++) {
    if (next[k] >= lists[k].ts.length) continue;
    if (best < 0 || lists[k].ts[next[k]] > lists[best].ts[next[best]]) best = k;
  }
  return best;
}

const OPEN_BRACKET = Uint8Array.of(0x5b);
const COMMA_BYTE = Uint8Array.of(COMMA);
const CLOSE_BRACKET = Uint8Array.of(0x5d);
