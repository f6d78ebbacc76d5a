/** The HTTP analyzer's registration: Zeek's service name "http", the usual HTTP ports, a request-line probe. */
import { IPPROTO_TCP } from '../../../decode/packet.js';
import type { AppRegistration } from '../types.js';
import { HttpAnalyzer } from './analyzer.js';

export { HttpAnalyzer, type HttpRecord } from './analyzer.js';

/** Methods common enough to claim a flow on the method alone (RFC 9110, PATCH, WebDAV). */
const KNOWN_METHODS = new Set(['GET', 'POST', 'HEAD', 'PUT', 'DELETE', 'OPTIONS', 'CONNECT', 'TRACE', 'PATCH', 'PROPFIND', 'PROPPATCH', 'MKCOL', 'COPY', 'MOVE', 'LOCK', 'UNLOCK', 'REPORT', 'SEARCH']);
const MAX_METHOD = 24;

/**
 * The payload starts with a method token and a space. A known method is enough; any other upper-case token
 * (CCM_POST, vendor methods) also needs its first line, when it is all there, to end in " HTTP/d.d", so that
 * line protocols like SMTP ("EHLO x") or FTP ("USER x") are not taken for HTTP.
 */
export function looksLikeHttpRequest(data: Buffer, offset: number, length: number): boolean {
  let i = 0;
  while (i < length && i <= MAX_METHOD) {
    const b = data[offset + i];
    if (!((b >= 0x41 && b <= 0x5a) || b === 0x5f || b === 0x2d)) break;
    i++;
  }
  if (i < 3 || i > MAX_METHOD || i >= length || data[offset + i] !== 0x20) return false;
  if (KNOWN_METHODS.has(data.toString('latin1', offset, offset + i))) return true;
  const end = offset + Math.min(length, 8192);
  for (let p = offset + i; p < end; p++) {
    if (data[p] !== 0x0a) continue;
    const lineEnd = data[p - 1] === 0x0d ? p - 1 : p;
    return lineEnd - offset >= i + 10 && /^ HTTP\/\d\.\d$/.test(data.toString('latin1', lineEnd - 9, lineEnd));
  }
  return false;
}

export const httpRegistration: AppRegistration = {
  name: 'http',
  tcpPorts: [80, 8080, 8000, 8008, 3128, 8888],
  probe: (data, offset, length, transport) => transport === IPPROTO_TCP && looksLikeHttpRequest(data, offset, length),
  create: (ctx) => new HttpAnalyzer(ctx),
};
