/**
 * How long a message body is (RFC 9112 section 6.3), decided from its head and, for responses, the request
 * it answers. A length >= 0, or one of the FRAME_* codes. Pure.
 */
import type { RequestHead, ResponseHead } from './head.js';

export const FRAME_CHUNKED = -1;
/** The body runs to the end of the connection: nothing after it can be parsed. */
export const FRAME_UNTIL_CLOSE = -2;
/** The connection stops being HTTP (101 Switching Protocols, a CONNECT tunnel). */
export const FRAME_TUNNEL = -3;
/** The framing cannot be known (a request with a transfer coding other than chunked). */
export const FRAME_INVALID = -4;

export function requestFraming(head: RequestHead): number {
  if (head.transferEncoding === 'chunked') return FRAME_CHUNKED;
  if (head.transferEncoding === 'other') return FRAME_INVALID;
  return head.contentLength >= 0 ? head.contentLength : 0;
}

/** `requestMethod`: the method of the request this response answers, when known. */
export function responseFraming(head: ResponseHead, requestMethod: string | undefined): number {
  const code = head.statusCode;
  if (code === 101 || (requestMethod === 'CONNECT' && code >= 200 && code < 300)) return FRAME_TUNNEL;
  if (requestMethod === 'HEAD' || (code >= 100 && code < 200) || code === 204 || code === 304) return 0;
  if (head.transferEncoding === 'chunked') return FRAME_CHUNKED;
  if (head.transferEncoding === 'other') return FRAME_UNTIL_CLOSE;
  return head.contentLength >= 0 ? head.contentLength : FRAME_UNTIL_CLOSE;
}

/** A chunk-size line (hex digits, optional ";extensions") in buf[start, end) without its CRLF; -1 if malformed. */
export function parseChunkSize(buf: Buffer, start: number, end: number): number {
  let size = 0;
  let i = start;
  for (; i < end; i++) {
    const b = buf[i];
    const digit = b >= 0x30 && b <= 0x39 ? b - 0x30 : (b | 0x20) >= 0x61 && (b | 0x20) <= 0x66 ? (b | 0x20) - 0x61 + 10 : -1;
    if (digit < 0) break;
    if (i - start >= 12) return -1; // 2^48 bytes: not a real chunk
    size = size * 16 + digit;
  }
  if (i === start) return -1;
  while (i < end && (buf[i] === 0x20 || buf[i] === 0x09)) i++;
  if (i < end && buf[i] !== 0x3b) return -1; // ';' starts chunk extensions, which are ignored
  return size;
}
