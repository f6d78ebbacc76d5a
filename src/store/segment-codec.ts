/**
 * The bytes of a segment's blobs: sections one after another, each a number column narrowed to the smallest
 * type all its values fit (one value when they are all equal; u8/u16/u32, shifted by one where some are
 * absent; f64 otherwise) or a UTF-8 text. Sections start 8-byte aligned so a reader views them in place.
 * Exact: every number comes back as it went in (NaN standing for absent). It knows nothing of records or SQL.
 *
 * Layout: u32 rows, u32 section count, then per section u8 encoding, 3 bytes padding, u32 byte length, u32 count
 * of values (usually the rows; a list of some rows has fewer), 4 bytes padding, data padded to 8 bytes.
 */

const ENCODING = { f64: 0, same: 1, u8: 2, u16: 3, u32: 4, u8n: 5, u16n: 6, u32n: 7, text: 8 } as const;
type Encoding = (typeof ENCODING)[keyof typeof ENCODING];

const HEADER = 8;
const SECTION_HEADER = 16;
const pad8 = (n: number) => (n + 7) & ~7;

interface Section {
  encoding: Encoding;
  count: number;
  byteLength: number;
  values?: Float64Array;
  text?: string;
}

const WIDTH: Record<Encoding, number> = { 0: 8, 1: 0, 2: 1, 3: 2, 4: 4, 5: 1, 6: 2, 7: 4, 8: 1 };

/** The narrowest encoding that holds every value exactly. */
function encodingOf(values: Float64Array): Encoding {
  const first = values[0];
  let same = true;
  let integers = true;
  let absent = false;
  let max = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v !== first && !(v !== v && first !== first)) same = false;
    if (v !== v) absent = true;
    else if (v < 0 || v > 0xffff_fffe || Math.floor(v) !== v || Object.is(v, -0)) integers = false;
    else if (v > max) max = v;
  }
  if (same) return ENCODING.same;
  if (!integers) return ENCODING.f64;
  const top = absent ? max + 1 : max;
  if (top <= 0xff) return absent ? ENCODING.u8n : ENCODING.u8;
  if (top <= 0xffff) return absent ? ENCODING.u16n : ENCODING.u16;
  return absent ? ENCODING.u32n : ENCODING.u32;
}

/** Writes `values` at `offset` (8-aligned) of `buffer` as `encoding` says. */
function writeNumbers(buffer: ArrayBuffer, offset: number, values: Float64Array, encoding: Encoding): void {
  const put = (out: Uint8Array | Uint16Array | Uint32Array, shift: boolean) => {
    if (!shift) out.set(values);
    else for (let i = 0; i < values.length; i++) out[i] = values[i] !== values[i] ? 0 : values[i] + 1;
  };
  const n = values.length;
  switch (encoding) {
    case ENCODING.same:
      new Float64Array(buffer, offset, 1)[0] = values[0];
      return;
    case ENCODING.u8:
    case ENCODING.u8n:
      return put(new Uint8Array(buffer, offset, n), encoding === ENCODING.u8n);
    case ENCODING.u16:
    case ENCODING.u16n:
      return put(new Uint16Array(buffer, offset, n), encoding === ENCODING.u16n);
    case ENCODING.u32:
    case ENCODING.u32n:
      return put(new Uint32Array(buffer, offset, n), encoding === ENCODING.u32n);
    default:
      new Float64Array(buffer, offset, n).set(values);
  }
}

/** Collects sections (keeping references, not copies), then writes the blob in one allocation. */
export class BlobWriter {
  private readonly sections: Section[] = [];

  constructor(private readonly rows: number) {}

  /** A column of numbers (NaN: absent), one a row or a list of any length. */
  numbers(values: Float64Array): this {
    const encoding = values.length === 0 ? ENCODING.f64 : encodingOf(values);
    const byteLength = encoding === ENCODING.same ? 8 : values.length * WIDTH[encoding];
    this.sections.push({ encoding, count: values.length, byteLength, values });
    return this;
  }

  text(s: string): this {
    this.sections.push({ encoding: ENCODING.text, count: s.length, byteLength: Buffer.byteLength(s, 'utf8'), text: s });
    return this;
  }

  finish(): Buffer {
    let size = HEADER;
    for (const s of this.sections) size += SECTION_HEADER + pad8(s.byteLength);
    // Zeroed (padding included) and not from the pool: it starts 8-aligned, and the same input gives the same bytes.
    const out = Buffer.alloc(size);
    const header = new DataView(out.buffer, out.byteOffset, size);
    header.setUint32(0, this.rows, true);
    header.setUint32(4, this.sections.length, true);
    let at = HEADER;
    for (const s of this.sections) {
      out[at] = s.encoding;
      header.setUint32(at + 4, s.byteLength, true);
      header.setUint32(at + 8, s.count, true);
      if (s.text !== undefined) out.write(s.text, at + SECTION_HEADER, 'utf8');
      else writeNumbers(out.buffer, out.byteOffset + at + SECTION_HEADER, s.values!, s.encoding);
      at += SECTION_HEADER + pad8(s.byteLength);
    }
    return out;
  }
}

/** Reads the sections of a blob written by BlobWriter, in their order. */
export class BlobReader {
  readonly rows: number;
  private readonly bytes: Uint8Array;
  private readonly starts: number[] = [];

  constructor(blob: Uint8Array) {
    // Views need aligned offsets: a buffer from SQLite may sit anywhere in its pool.
    this.bytes = blob.byteOffset % 8 === 0 ? blob : new Uint8Array(blob);
    const view = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
    this.rows = view.getUint32(0, true);
    const count = view.getUint32(4, true);
    let at = HEADER;
    for (let i = 0; i < count; i++) {
      this.starts.push(at);
      at += SECTION_HEADER + pad8(view.getUint32(at + 4, true));
    }
  }

  get sectionCount(): number {
    return this.starts.length;
  }

  /** Section `i` as numbers (NaN where absent). */
  numbers(i: number): Float64Array {
    const { encoding, offset, count } = this.section(i);
    const buffer = this.bytes.buffer;
    const out = new Float64Array(count);
    const unshift = (src: Uint8Array | Uint16Array | Uint32Array) => {
      for (let r = 0; r < out.length; r++) out[r] = src[r] === 0 ? NaN : src[r] - 1;
    };
    switch (encoding) {
      case ENCODING.same:
        out.fill(new Float64Array(buffer, offset, 1)[0]);
        break;
      case ENCODING.u8:
        out.set(new Uint8Array(buffer, offset, count));
        break;
      case ENCODING.u16:
        out.set(new Uint16Array(buffer, offset, count));
        break;
      case ENCODING.u32:
        out.set(new Uint32Array(buffer, offset, count));
        break;
      case ENCODING.u8n:
        unshift(new Uint8Array(buffer, offset, count));
        break;
      case ENCODING.u16n:
        unshift(new Uint16Array(buffer, offset, count));
        break;
      case ENCODING.u32n:
        unshift(new Uint32Array(buffer, offset, count));
        break;
      case ENCODING.f64:
        out.set(new Float64Array(buffer, offset, count));
        break;
      default:
        throw new Error(`segment section ${i} holds text, not numbers`);
    }
    return out;
  }

  text(i: number): string {
    const { encoding, offset, length } = this.section(i);
    if (encoding !== ENCODING.text) throw new Error(`segment section ${i} holds numbers, not text`);
    return Buffer.from(this.bytes.buffer, offset, length).toString('utf8');
  }

  private section(i: number): { encoding: number; offset: number; length: number; count: number } {
    const at = this.starts[i];
    if (at === undefined) throw new Error(`segment has no section ${i}`);
    const start = this.bytes.byteOffset + at;
    const header = new DataView(this.bytes.buffer, start, SECTION_HEADER);
    return { encoding: this.bytes[at], offset: start + SECTION_HEADER, length: header.getUint32(4, true), count: header.getUint32(8, true) };
  }
}
