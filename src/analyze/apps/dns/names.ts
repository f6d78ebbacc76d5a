/**
 * DNS name decompression (RFC 1035 4.1.4), guarded the way Zeek's DNS analyzer guards it: a compression
 * pointer must point strictly backwards, and after a jump the walk may read only up to the pointer it came
 * from, so every jump shrinks the readable region and no chain can loop. A name whose wire form exceeds 255
 * bytes, a label of type 0x40/0x80 (RFC 6891 retired them), or a name running off the message is a weird.
 */
import { defineWeird } from '../../../decode/weirds.js';

export const W_DNS_NAME_LOOP = defineWeird('dns_name_loop');
export const W_DNS_BAD_POINTER = defineWeird('DNS_label_forward_compress_offset');
export const W_DNS_NAME_TOO_LONG = defineWeird('DNS_NAME_too_long');
export const W_DNS_BAD_LABEL_TYPE = defineWeird('DNS_label_too_long');
export const W_DNS_TRUNCATED_NAME = defineWeird('DNS_label_len_gt_pkt');
export const W_DNS_NAME_TOO_MANY_POINTERS = defineWeird('DNS_max_compression_chain_depth_exceeded');

/** RFC 1035 2.3.4: 255 octets, counting the length bytes and the root label. */
export const MAX_NAME_WIRE_LENGTH = 255;
/** Real names use one or two pointers; a long chain is an attack on the parser's time, not a name. */
export const MAX_POINTERS = 64;

/** Reused result of readName (one per caller), so a failed read allocates nothing. */
export class NameResult {
  /** Offset just past the name where it started (after its first pointer, or its root label). */
  end = 0;
  /** Labels joined with '.', no trailing dot, "" for the root; bytes outside 0x20..0x7e as \xNN (Zeek's log escaping). */
  name = '';
  /** Weird id when the read failed, else -1. */
  weird = -1;
}

/** The name's text is assembled here and turned into a string once (255 wire bytes, at most 4 text bytes each). */
const text = Buffer.alloc(MAX_NAME_WIRE_LENGTH * 4);
const HEX = '0123456789abcdef';

/** Starts and ends of the byte runs one name walk has read, to tell a loop from a plain forward pointer. */
const visitedStart = new Int32Array(MAX_POINTERS + 1);
const visitedEnd = new Int32Array(MAX_POINTERS + 1);

/**
 * Reads the name at `pos` of the message occupying buf[msgStart, msgEnd). Returns true and fills `out`,
 * or returns false with out.weird set (out.name is then meaningless). With `withText` false the name is only
 * checked: out.end is set, out.name is left alone, and no string is made.
 */
export function readName(buf: Uint8Array, msgStart: number, msgEnd: number, pos: number, out: NameResult, withText = true): boolean {
  let p = pos;
  let limit = msgEnd;
  let end = -1;
  let wireLength = 1; // the root label
  let jumps = 0;
  let segment = 0;
  visitedStart[0] = pos;
  let length = 0;
  out.weird = -1;
  for (;;) {
    if (p >= limit) return fail(out, limit === msgEnd ? W_DNS_TRUNCATED_NAME : W_DNS_NAME_LOOP);
    const len = buf[p];
    const kind = len & 0xc0;
    if (kind === 0xc0) {
      if (p + 1 >= limit) return fail(out, limit === msgEnd ? W_DNS_TRUNCATED_NAME : W_DNS_NAME_LOOP);
      const target = msgStart + (((len & 0x3f) << 8) | buf[p + 1]);
      if (end < 0) end = p + 2;
      visitedEnd[segment] = p + 2;
      if (target >= p) return fail(out, wasVisited(target, segment) ? W_DNS_NAME_LOOP : W_DNS_BAD_POINTER);
      if (++jumps > MAX_POINTERS) return fail(out, W_DNS_NAME_TOO_MANY_POINTERS);
      limit = p;
      p = target;
      visitedStart[++segment] = target;
      continue;
    }
    if (kind !== 0) return fail(out, W_DNS_BAD_LABEL_TYPE);
    if (len === 0) {
      out.end = end < 0 ? p + 1 : end;
      if (withText) out.name = length === 0 ? '' : text.toString('latin1', 0, length);
      return true;
    }
    if (p + 1 + len > limit) return fail(out, limit === msgEnd ? W_DNS_TRUNCATED_NAME : W_DNS_NAME_LOOP);
    wireLength += len + 1;
    if (wireLength > MAX_NAME_WIRE_LENGTH) return fail(out, W_DNS_NAME_TOO_LONG);
    if (withText) {
      if (length > 0) text[length++] = 0x2e; // '.'
      length = appendText(buf, p + 1, p + 1 + len, length);
    }
    p += 1 + len;
  }
}

function fail(out: NameResult, weird: number): false {
  out.weird = weird;
  return false;
}

function wasVisited(target: number, lastSegment: number): boolean {
  for (let i = 0; i <= lastSegment; i++) {
    if (target >= visitedStart[i] && target < visitedEnd[i]) return true;
  }
  return false;
}

/** Copies label bytes into `text` at `at`, escaping as labelText does; returns the new length. */
function appendText(buf: Uint8Array, start: number, end: number, at: number): number {
  for (let i = start; i < end; i++) {
    const c = buf[i];
    if (c >= 0x20 && c <= 0x7e) {
      text[at++] = c;
    } else {
      text[at++] = 0x5c; // '\'
      text[at++] = 0x78; // 'x'
      text[at++] = HEX.charCodeAt(c >> 4);
      text[at++] = HEX.charCodeAt(c & 15);
    }
  }
  return at;
}

/** Label bytes as text: printable ASCII kept, anything else written \xNN as Zeek's logs write it. */
export function labelText(buf: Uint8Array, start: number, end: number): string {
  let plain = true;
  for (let i = start; i < end; i++) {
    const c = buf[i];
    if (c < 0x20 || c > 0x7e) {
      plain = false;
      break;
    }
  }
  if (plain) return String.fromCharCode.apply(null, buf.subarray(start, end) as unknown as number[]);
  let s = '';
  for (let i = start; i < end; i++) {
    const c = buf[i];
    s += c < 0x20 || c > 0x7e ? `\\x${c.toString(16).padStart(2, '0')}` : String.fromCharCode(c);
  }
  return s;
}
