/**
 * HTTP/1.1 messages as a browser or API client and a web server exchange them (RFC 9112): header block
 * as text, bodies of a given length filled with HTML-ish text or opaque bytes.
 */
import { fillRandom, fillText } from './content.js';
import type { Rng } from './prng.js';

export const HTTP_STATUS_TEXT: Readonly<Record<number, string>> = {
  200: 'OK', 204: 'No Content', 301: 'Moved Permanently', 304: 'Not Modified', 404: 'Not Found', 500: 'Internal Server Error',
};

const USER_AGENTS = [
  'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0',
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36',
  'curl/7.88.1',
  'Debian APT-HTTP/1.3 (2.6.1)',
];

export interface HttpRequestSpec {
  method: string;
  host: string;
  uri: string;
  /** Request body length (POST/PUT): a URL-encoded form. */
  bodyLength?: number;
  userAgent?: string;
}

export function httpRequest(spec: HttpRequestSpec, rng: Rng): Buffer {
  const body = spec.bodyLength ?? 0;
  let head = `${spec.method} ${spec.uri} HTTP/1.1\r\nHost: ${spec.host}\r\nUser-Agent: ${spec.userAgent ?? rng.pick(USER_AGENTS)}\r\n`;
  head += 'Accept: */*\r\nAccept-Encoding: gzip, deflate\r\nConnection: keep-alive\r\n';
  if (body > 0) head += `Content-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body}\r\n`;
  head += '\r\n';
  // A form post: one field of letters and digits (per-request cost is fine: bodies are small).
  const form = body > 0 ? `q=${rng.label(Math.max(body - 2, 0))}`.slice(0, body) : '';
  return Buffer.from(head + form, 'latin1');
}

export interface HttpResponseSpec {
  status: number;
  /** Body length; 0 for 204/304 and HEAD. */
  bodyLength: number;
  /** text/html bodies are text; anything else is opaque bytes. */
  contentType?: string;
  location?: string;
}

export function httpResponse(spec: HttpResponseSpec, rng: Rng): Buffer {
  const type = spec.contentType ?? 'text/html; charset=utf-8';
  let head = `HTTP/1.1 ${spec.status} ${HTTP_STATUS_TEXT[spec.status] ?? 'Unknown'}\r\nServer: nginx/1.22.1\r\n`;
  head += 'Date: Mon, 10 Jun 2024 06:13:20 GMT\r\n';
  if (spec.location) head += `Location: ${spec.location}\r\n`;
  if (spec.status !== 204 && spec.status !== 304) head += `Content-Type: ${type}\r\nContent-Length: ${spec.bodyLength}\r\n`;
  head += 'Connection: keep-alive\r\n\r\n';
  const out = Buffer.allocUnsafe(Buffer.byteLength(head, 'latin1') + spec.bodyLength);
  const at = out.write(head, 'latin1');
  if (type.startsWith('text/')) fillText(rng, out, at, out.length);
  else fillRandom(rng, out, at, out.length);
  return out;
}
