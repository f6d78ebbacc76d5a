/**
 * HTTP/1.x message heads (RFC 9112 sections 3-6): request line, status line and the few headers Loopy needs
 * (Host, User-Agent and the body framing ones). Pure and Suricata-style: ok (with the bytes consumed),
 * incomplete (no blank line yet) or error with a weird id; never throws. Strings are made here, once per
 * message: the record that leaves with them is one per message anyway.
 */
import { defineWeird } from '../../../decode/weirds.js';

export const W_HTTP_BAD_REQUEST_LINE = defineWeird('bad_HTTP_request');
export const W_HTTP_BAD_STATUS_LINE = defineWeird('bad_HTTP_reply');
export const W_HTTP_BAD_CONTENT_LENGTH = defineWeird('HTTP_bad_content_length');
export const W_HTTP_HEADER_TOO_LONG = defineWeird('contentline_size_exceeded');

/** A head (request/status line plus headers) longer than this is given up on. */
export const MAX_HEAD_BYTES = 64 * 1024;

const LF = 0x0a;
const CR = 0x0d;
const SP = 0x20;
const HT = 0x09;
const COLON = 0x3a;

/** Body framing headers, shared by requests and responses. */
export interface FramingHeaders {
  /** Content-Length, or -1 when absent. */
  contentLength: number;
  /** Transfer-Encoding: 'none' when absent, 'chunked' when chunked is the final coding, else 'other'. */
  transferEncoding: 'none' | 'chunked' | 'other';
}

export interface RequestHead extends FramingHeaders {
  method: string;
  uri: string;
  /** "1.1" as Zeek writes it; undefined for a request line without a version (HTTP/0.9 style). */
  version?: string;
  host?: string;
  userAgent?: string;
}

export interface ResponseHead extends FramingHeaders {
  version: string;
  statusCode: number;
  statusMsg: string;
}

export type HeadResult<T> = { status: 'ok'; head: T; consumed: number } | { status: 'incomplete'; needed: number } | { status: 'error'; weird: number };

/** RFC 9110 tchar: the characters of a method token or header name (1 = allowed), built once. */
const TOKEN_CHARS = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") TOKEN_CHARS[c.charCodeAt(0)] = 1;

/** buf.indexOf(byte) limited to [from, end): the buffer may be a whole capture batch, so never scan past the data. */
export function indexOfByte(buf: Buffer, byte: number, from: number, end: number): number {
  for (let i = from; i < end; i++) if (buf[i] === byte) return i;
  return -1;
}

/** Length of the head at `offset` up to and including its blank line (CRLF or bare LF), or -1 if not there yet. */
export function findHeadEnd(buf: Buffer, offset: number, length: number): number {
  const end = offset + length;
  for (let i = indexOfByte(buf, LF, offset, end); i >= 0; i = indexOfByte(buf, LF, i + 1, end)) {
    if (i + 1 < end && buf[i + 1] === LF) return i + 2 - offset;
    if (i + 2 < end && buf[i + 1] === CR && buf[i + 2] === LF) return i + 3 - offset;
  }
  return -1;
}

/** Line boundaries within a complete head: [start, end) without the CR/LF. Calls `each` per line. */
function forEachLine(buf: Buffer, offset: number, length: number, each: (start: number, end: number) => void): void {
  const stop = offset + length;
  for (let start = offset; start < stop; ) {
    let nl = indexOfByte(buf, LF, start, stop);
    if (nl < 0) nl = stop;
    each(start, nl > start && buf[nl - 1] === CR ? nl - 1 : nl);
    start = nl + 1;
  }
}

/** Case-insensitive comparison of buf[start, end) with a lower-case ASCII name. */
function nameIs(buf: Buffer, start: number, end: number, lower: string): boolean {
  if (end - start !== lower.length) return false;
  for (let i = 0; i < lower.length; i++) if ((buf[start + i] | 0x20) !== lower.charCodeAt(i)) return false;
  return true;
}

/** "HTTP/" as bytes. */
const HTTP_SLASH = [0x48, 0x54, 0x54, 0x50, 0x2f];

/** True when "HTTP/" starts at `at` (checked byte by byte: no string per message). */
function isHttpSlash(buf: Buffer, at: number): boolean {
  for (let i = 0; i < HTTP_SLASH.length; i++) if (buf[at + i] !== HTTP_SLASH[i]) return false;
  return true;
}

/** "d.d" for each digit pair, made once: nearly every message is 1.1 or 1.0. */
const VERSION_TEXTS = Array.from({ length: 100 }, (_, i) => `${Math.floor(i / 10)}.${i % 10}`);

/** "HTTP/d.d" at [start, end) → "d.d", else undefined. */
function httpVersion(buf: Buffer, start: number, end: number): string | undefined {
  if (end - start !== 8 || !isHttpSlash(buf, start)) return undefined;
  const major = buf[start + 5];
  const minor = buf[start + 7];
  if (major < 0x30 || major > 0x39 || buf[start + 6] !== 0x2e || minor < 0x30 || minor > 0x39) return undefined;
  return VERSION_TEXTS[(major - 0x30) * 10 + (minor - 0x30)];
}

interface HeaderVisitor {
  (nameStart: number, nameEnd: number, valueStart: number, valueEnd: number): void;
}

/**
 * Walks the header lines after the first line, giving trimmed name/value bounds. Lines without a colon and
 * obsolete folded continuations are skipped (servers tolerate them; they carry nothing Loopy logs).
 * Returns false when the framing headers are unusable (bad or conflicting Content-Length).
 */
function readHeaders(buf: Buffer, offset: number, length: number, framing: FramingHeaders, visit: HeaderVisitor): boolean {
  let first = true;
  let ok = true;
  forEachLine(buf, offset, length, (start, end) => {
    if (first || start === end) {
      first = false;
      return;
    }
    if (buf[start] === SP || buf[start] === HT) return;
    const colon = indexOfByte(buf, COLON, start, end);
    if (colon < 0) return;
    let nameEnd = colon;
    while (nameEnd > start && (buf[nameEnd - 1] === SP || buf[nameEnd - 1] === HT)) nameEnd--;
    let valueStart = colon + 1;
    let valueEnd = end;
    while (valueStart < valueEnd && (buf[valueStart] === SP || buf[valueStart] === HT)) valueStart++;
    while (valueEnd > valueStart && (buf[valueEnd - 1] === SP || buf[valueEnd - 1] === HT)) valueEnd--;
    if (nameIs(buf, start, nameEnd, 'content-length')) {
      const value = buf.toString('latin1', valueStart, valueEnd);
      const n = /^[0-9]{1,15}$/.test(value) ? Number(value) : -1;
      if (n < 0 || (framing.contentLength >= 0 && framing.contentLength !== n)) ok = false;
      framing.contentLength = n;
    } else if (nameIs(buf, start, nameEnd, 'transfer-encoding')) {
      const codings = buf.toString('latin1', valueStart, valueEnd).toLowerCase().split(',');
      framing.transferEncoding = codings[codings.length - 1].trim() === 'chunked' ? 'chunked' : 'other';
    } else {
      visit(start, nameEnd, valueStart, valueEnd);
    }
  });
  return ok;
}

function headOrIncomplete(buf: Buffer, offset: number, length: number): number | HeadResult<never> {
  const headLength = findHeadEnd(buf, offset, length);
  if (headLength >= 0) return headLength;
  if (length >= MAX_HEAD_BYTES) return { status: 'error', weird: W_HTTP_HEADER_TOO_LONG };
  return { status: 'incomplete', needed: length + 1 };
}

export function parseRequestHead(buf: Buffer, offset: number, length: number): HeadResult<RequestHead> {
  const headLength = headOrIncomplete(buf, offset, length);
  if (typeof headLength !== 'number') return headLength;
  let lineEnd = indexOfByte(buf, LF, offset, offset + headLength);
  if (lineEnd > offset && buf[lineEnd - 1] === CR) lineEnd--;
  let methodEnd = offset;
  while (methodEnd < lineEnd && TOKEN_CHARS[buf[methodEnd]] === 1) methodEnd++;
  if (methodEnd === offset || methodEnd >= lineEnd || buf[methodEnd] !== SP) return { status: 'error', weird: W_HTTP_BAD_REQUEST_LINE };
  let uriStart = methodEnd + 1;
  while (uriStart < lineEnd && buf[uriStart] === SP) uriStart++;
  // METHOD SP URI SP HTTP/version. Like tshark, a last word starting "HTTP/" is the version even when it is
  // not d.d ("HTTP/1." gives "1."); without one the rest of the line is the URI (HTTP/0.9 style).
  let lastSpace = lineEnd - 1;
  while (lastSpace > uriStart && buf[lastSpace] !== SP) lastSpace--;
  const version = lastSpace > uriStart && lineEnd - lastSpace > 5 && isHttpSlash(buf, lastSpace + 1) ? buf.toString('latin1', lastSpace + 6, lineEnd) : undefined;
  const uriEnd = version !== undefined ? lastSpace : lineEnd;
  if (uriEnd <= uriStart) return { status: 'error', weird: W_HTTP_BAD_REQUEST_LINE };
  for (let i = uriStart; i < uriEnd; i++) if (buf[i] < 0x20 || buf[i] === 0x7f) return { status: 'error', weird: W_HTTP_BAD_REQUEST_LINE };
  const head: RequestHead = {
    method: buf.toString('latin1', offset, methodEnd),
    uri: buf.toString('latin1', uriStart, uriEnd),
    version,
    contentLength: -1,
    transferEncoding: 'none',
  };
  const ok = readHeaders(buf, offset, headLength, head, (ns, ne, vs, ve) => {
    if (head.host === undefined && nameIs(buf, ns, ne, 'host')) head.host = buf.toString('latin1', vs, ve);
    else if (head.userAgent === undefined && nameIs(buf, ns, ne, 'user-agent')) head.userAgent = buf.toString('latin1', vs, ve);
  });
  if (!ok) return { status: 'error', weird: W_HTTP_BAD_CONTENT_LENGTH };
  return { status: 'ok', head, consumed: headLength };
}

export function parseResponseHead(buf: Buffer, offset: number, length: number): HeadResult<ResponseHead> {
  const headLength = headOrIncomplete(buf, offset, length);
  if (typeof headLength !== 'number') return headLength;
  let lineEnd = indexOfByte(buf, LF, offset, offset + headLength);
  if (lineEnd > offset && buf[lineEnd - 1] === CR) lineEnd--;
  // HTTP/d.d SP ddd [SP reason]
  const version = httpVersion(buf, offset, offset + 8);
  const codeAt = offset + 9;
  const digits = codeAt + 3 <= lineEnd ? buf.toString('latin1', codeAt, codeAt + 3) : '';
  if (version === undefined || buf[offset + 8] !== SP || !/^[0-9]{3}$/.test(digits) || (codeAt + 3 < lineEnd && buf[codeAt + 3] !== SP)) {
    return { status: 'error', weird: W_HTTP_BAD_STATUS_LINE };
  }
  const head: ResponseHead = {
    version,
    statusCode: Number(digits),
    statusMsg: codeAt + 4 <= lineEnd ? buf.toString('latin1', codeAt + 4, lineEnd) : '',
    contentLength: -1,
    transferEncoding: 'none',
  };
  if (!readHeaders(buf, offset, headLength, head, () => {})) return { status: 'error', weird: W_HTTP_BAD_CONTENT_LENGTH };
  return { status: 'ok', head, consumed: headLength };
}
