/**
 * The TLS record layer, as far as the analyzer needs it: find the first handshake message of one direction
 * of the stream (ClientHello or ServerHello), also when it spans several records and several TCP segments.
 * Pure and Suricata-style: given the stream bytes from the start of the direction, it answers ok (the message
 * body), incomplete (how many stream bytes it needs in all) or error (a weird id). It never throws.
 * SSLv2-format hellos (2-byte record header with the high bit set) are recognised and returned whole.
 */
import { defineWeird } from '../../../decode/weirds.js';

export const W_SSL_UNEXPECTED_RECORD = defineWeird('ssl_unexpected_record');
export const W_SSL_RECORD_TOO_LONG = defineWeird('ssl_record_too_long');
export const W_SSL_HANDSHAKE_TOO_LONG = defineWeird('ssl_handshake_too_long');

export const CONTENT_HANDSHAKE = 22;
export const HANDSHAKE_CLIENT_HELLO = 1;
export const HANDSHAKE_SERVER_HELLO = 2;
export const SSLV2_CLIENT_HELLO = 1;
export const SSLV2_SERVER_HELLO = 4;

/** How many stream bytes the analyzer keeps while a hello is incomplete; past it the flow is given up. */
export const MAX_HELLO_BYTES = 64 * 1024;
/** RFC 8446 5.1/5.2: a record carries at most 2^14 bytes, plus 2048 of expansion for protected records. */
const MAX_RECORD_LENGTH = 16384 + 2048;
const RECORD_HEADER = 5;
const HANDSHAKE_HEADER = 4;

const EMPTY = Buffer.alloc(0);

/** readFirstHandshake's answer, written into an object its caller owns and reuses (nothing is allocated per call). */
export class FirstHandshake {
  /** ok: the message is whole; incomplete: `needed` stream bytes in all are needed; error: `weird`. */
  status: 'ok' | 'incomplete' | 'error' = 'incomplete';
  /** true: an SSLv2-format message; `offset` is just after its message-type byte. */
  sslv2 = false;
  msgType = 0;
  /** The message body (after the handshake header): in the input buffer, or a copy when it spanned records. */
  buf: Buffer = EMPTY;
  offset = 0;
  length = 0;
  needed = 0;
  weird = 0;

  /** Lets go of the body's buffer once it is read. */
  clear(): void {
    this.buf = EMPTY;
  }
}

function found(out: FirstHandshake, sslv2: boolean, msgType: number, buf: Buffer, offset: number, length: number): FirstHandshake {
  out.status = 'ok';
  out.sslv2 = sslv2;
  out.msgType = msgType;
  out.buf = buf;
  out.offset = offset;
  out.length = length;
  return out;
}

function error(out: FirstHandshake, weird: number): FirstHandshake {
  out.status = 'error';
  out.weird = weird;
  return out;
}

function incomplete(out: FirstHandshake, needed: number, cap: number): FirstHandshake {
  if (needed > cap) return error(out, W_SSL_HANDSHAKE_TOO_LONG);
  out.status = 'incomplete';
  out.needed = needed;
  return out;
}

/** Reads the first handshake message from `length` stream bytes at `offset` (the direction's first bytes) into `out`. */
export function readFirstHandshake(data: Buffer, offset: number, length: number, out: FirstHandshake, cap = MAX_HELLO_BYTES): FirstHandshake {
  if (length < 1) return incomplete(out, 1, cap);
  if (data[offset] & 0x80) return readSslv2Message(data, offset, length, out, cap);

  // Pass 1: walk whole records, gathering the handshake header (which may itself be split over records).
  let pos = 0;
  let have = 0; // handshake bytes seen so far
  let header = 0; // the 4 header bytes, big-endian, as they arrive
  let records = 0;
  let messageLength = -1;
  for (;;) {
    if (length - pos < RECORD_HEADER) return incomplete(out, pos + RECORD_HEADER, cap);
    const at = offset + pos;
    if (data[at] !== CONTENT_HANDSHAKE || data[at + 1] !== 3) return error(out, W_SSL_UNEXPECTED_RECORD);
    const recordLength = data.readUInt16BE(at + 3);
    if (recordLength > MAX_RECORD_LENGTH) return error(out, W_SSL_RECORD_TOO_LONG);
    if (length - pos - RECORD_HEADER < recordLength) return incomplete(out, pos + RECORD_HEADER + recordLength, cap);
    records++;
    for (let i = 0; i < recordLength && have + i < HANDSHAKE_HEADER; i++) header = header * 256 + data[at + RECORD_HEADER + i];
    have += recordLength;
    pos += RECORD_HEADER + recordLength;
    if (messageLength < 0 && have >= HANDSHAKE_HEADER) {
      messageLength = header & 0xffffff;
      if (messageLength + HANDSHAKE_HEADER > cap) return error(out, W_SSL_HANDSHAKE_TOO_LONG);
    }
    if (messageLength >= 0 && have >= HANDSHAKE_HEADER + messageLength) break;
  }
  const msgType = header >>> 24;
  if (records === 1) {
    return found(out, false, msgType, data, offset + RECORD_HEADER + HANDSHAKE_HEADER, messageLength);
  }
  // Pass 2: the message spans records; copy its body out (once per flow, not per packet).
  const body = Buffer.allocUnsafe(messageLength);
  let skip = HANDSHAKE_HEADER;
  let filled = 0;
  for (let p = 0; filled < messageLength; ) {
    const recordLength = data.readUInt16BE(offset + p + 3);
    let from = offset + p + RECORD_HEADER;
    let n = recordLength;
    const skipped = Math.min(skip, n);
    from += skipped;
    n -= skipped;
    skip -= skipped;
    n = Math.min(n, messageLength - filled);
    data.copy(body, filled, from, from + n);
    filled += n;
    p += RECORD_HEADER + recordLength;
  }
  return found(out, false, msgType, body, 0, messageLength);
}

/** SSLv2 record: 2-byte header (high bit set, 15-bit length), then the message type and body. */
function readSslv2Message(data: Buffer, offset: number, length: number, out: FirstHandshake, cap: number): FirstHandshake {
  if (length < 3) return incomplete(out, 3, cap);
  const recordLength = ((data[offset] & 0x7f) << 8) | data[offset + 1];
  if (recordLength < 1) return error(out, W_SSL_UNEXPECTED_RECORD);
  if (length < 2 + recordLength) return incomplete(out, 2 + recordLength, cap);
  return found(out, true, data[offset + 2], data, offset + 3, recordLength - 1);
}
