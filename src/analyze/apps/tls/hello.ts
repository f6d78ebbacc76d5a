/**
 * ClientHello / ServerHello bodies (RFC 8446 4.1.2-4.1.3, RFC 5246 7.4.1) and their SSLv2 forms (RFC 6101
 * appendix E). Pure: the body is complete (record-layer.ts found it), so the answer is ok or an error with a
 * weird id; nothing throws. Runs once per flow and direction, so building arrays and strings here is fine.
 */
import { defineWeird } from '../../../decode/weirds.js';
import { isGrease, versionRank } from './names.js';

export const W_SSL_BAD_CLIENT_HELLO = defineWeird('ssl_bad_client_hello');
export const W_SSL_BAD_SERVER_HELLO = defineWeird('ssl_bad_server_hello');

const EXT_SERVER_NAME = 0;
const EXT_SUPPORTED_GROUPS = 10;
const EXT_EC_POINT_FORMATS = 11;
const EXT_ALPN = 16;
const EXT_SUPPORTED_VERSIONS = 43;
const SNI_HOST_NAME = 0;

export interface ClientHello {
  sslv2: boolean;
  /** client_version / legacy_version field. */
  legacyVersion: number;
  /** Highest non-GREASE supported_versions offer, else the legacy version. */
  maxVersion: number;
  supportedVersions: number[];
  /** First host_name entry of the server_name extension. */
  serverName?: string;
  alpn: string[];
  /** As offered, GREASE included (JA3 filters it). */
  cipherSuites: number[];
  extensions: number[];
  groups: number[];
  pointFormats: number[];
}

export interface ServerHello {
  sslv2: boolean;
  legacyVersion: number;
  /** supported_versions' selection (TLS 1.3), else the legacy version. */
  version: number;
  /** Selected suite; -1 when the hello names none (SSLv2). */
  cipher: number;
  /** The protocol the server chose via ALPN. */
  alpn?: string;
  extensions: number[];
}

export type HelloResult<T> = { status: 'ok'; hello: T } | { status: 'error'; weird: number };

/** Bounds-checked big-endian reader over [pos, end); a short read sets `ok` false instead of throwing. */
class Reader {
  ok = true;
  constructor(
    readonly buf: Buffer,
    public pos: number,
    readonly end: number,
  ) {}

  get left(): number {
    return this.end - this.pos;
  }
  private take(n: number): number {
    if (!this.ok || this.end - this.pos < n) {
      this.ok = false;
      this.pos = this.end;
      return -1;
    }
    const at = this.pos;
    this.pos += n;
    return at;
  }
  u8(): number {
    const at = this.take(1);
    return at < 0 ? 0 : this.buf[at];
  }
  u16(): number {
    const at = this.take(2);
    return at < 0 ? 0 : this.buf.readUInt16BE(at);
  }
  skip(n: number): void {
    this.take(n);
  }
  /** A reader over the next n bytes (a length-prefixed vector); the outer reader moves past them. */
  sub(n: number): Reader {
    const at = this.take(n);
    const inner = new Reader(this.buf, at < 0 ? this.end : at, at < 0 ? this.end : at + n);
    inner.ok = at >= 0;
    return inner;
  }
  /** Printable ASCII as-is, other bytes as \xNN (Zeek escapes names the same way). */
  text(n: number): string {
    const at = this.take(n);
    if (at < 0) return '';
    let out = '';
    for (let i = at; i < at + n; i++) {
      const b = this.buf[i];
      out += b >= 0x20 && b < 0x7f && b !== 0x5c ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`;
    }
    return out;
  }
}

function fail<T>(weird: number): HelloResult<T> {
  return { status: 'error', weird };
}

export function parseClientHello(buf: Buffer, offset: number, length: number): HelloResult<ClientHello> {
  const r = new Reader(buf, offset, offset + length);
  const legacyVersion = r.u16();
  r.skip(32); // random
  r.skip(r.u8()); // legacy_session_id
  const suites = r.sub(r.u16());
  const hello: ClientHello = {
    sslv2: false,
    legacyVersion,
    maxVersion: legacyVersion,
    supportedVersions: [],
    alpn: [],
    cipherSuites: [],
    extensions: [],
    groups: [],
    pointFormats: [],
  };
  if (suites.left % 2 !== 0) return fail(W_SSL_BAD_CLIENT_HELLO);
  while (suites.left > 0) hello.cipherSuites.push(suites.u16());
  r.skip(r.u8()); // legacy_compression_methods
  if (!r.ok) return fail(W_SSL_BAD_CLIENT_HELLO);
  // Extensions are optional before TLS 1.3: a hello may end right after the compression methods.
  if (r.left > 0) {
    const exts = r.sub(r.u16());
    while (exts.ok && exts.left > 0) {
      const type = exts.u16();
      const ext = exts.sub(exts.u16());
      if (!exts.ok) break;
      hello.extensions.push(type);
      if (!readClientExtension(type, ext, hello)) return fail(W_SSL_BAD_CLIENT_HELLO);
    }
    if (!exts.ok || !r.ok) return fail(W_SSL_BAD_CLIENT_HELLO);
  }
  for (const v of hello.supportedVersions) if (!isGrease(v) && versionRank(v) > versionRank(hello.maxVersion)) hello.maxVersion = v;
  return { status: 'ok', hello };
}

/** Fills `hello` from one extension's data; false when its inner lengths do not fit. */
function readClientExtension(type: number, ext: Reader, hello: ClientHello): boolean {
  switch (type) {
    case EXT_SERVER_NAME: {
      if (ext.left === 0) return true;
      const list = ext.sub(ext.u16());
      while (list.ok && list.left > 0) {
        const nameType = list.u8();
        const nameLength = list.u16();
        if (nameType === SNI_HOST_NAME && hello.serverName === undefined) hello.serverName = list.text(nameLength);
        else list.skip(nameLength);
      }
      return list.ok && ext.ok;
    }
    case EXT_ALPN: {
      const list = ext.sub(ext.u16());
      while (list.ok && list.left > 0) hello.alpn.push(list.text(list.u8()));
      return list.ok && ext.ok;
    }
    case EXT_SUPPORTED_VERSIONS: {
      const list = ext.sub(ext.u8());
      while (list.ok && list.left > 1) hello.supportedVersions.push(list.u16());
      return list.ok && list.left === 0 && ext.ok;
    }
    case EXT_SUPPORTED_GROUPS: {
      const list = ext.sub(ext.u16());
      while (list.ok && list.left > 1) hello.groups.push(list.u16());
      return list.ok && list.left === 0 && ext.ok;
    }
    case EXT_EC_POINT_FORMATS: {
      const list = ext.sub(ext.u8());
      while (list.ok && list.left > 0) hello.pointFormats.push(list.u8());
      return list.ok && ext.ok;
    }
    default:
      return true;
  }
}

export function parseServerHello(buf: Buffer, offset: number, length: number): HelloResult<ServerHello> {
  const r = new Reader(buf, offset, offset + length);
  const legacyVersion = r.u16();
  r.skip(32); // random
  // TLS 1.3 drafts before -22 (version 0x7fNN) dropped the session id and compression fields.
  const draft = legacyVersion >> 8 === 0x7f;
  if (!draft) r.skip(r.u8());
  const cipher = r.u16();
  if (!draft) r.u8(); // compression method
  if (!r.ok) return fail(W_SSL_BAD_SERVER_HELLO);
  const hello: ServerHello = { sslv2: false, legacyVersion, version: legacyVersion, cipher, extensions: [] };
  if (r.left > 0) {
    const exts = r.sub(r.u16());
    while (exts.ok && exts.left > 0) {
      const type = exts.u16();
      const ext = exts.sub(exts.u16());
      if (!exts.ok) break;
      hello.extensions.push(type);
      if (type === EXT_SUPPORTED_VERSIONS) {
        hello.version = ext.u16();
      } else if (type === EXT_ALPN) {
        const list = ext.sub(ext.u16());
        if (list.left > 0) hello.alpn = list.text(list.u8());
      }
      if (!ext.ok) return fail(W_SSL_BAD_SERVER_HELLO);
    }
    if (!exts.ok) return fail(W_SSL_BAD_SERVER_HELLO);
  }
  return { status: 'ok', hello };
}

/** SSLv2 CLIENT-HELLO body after the type byte: version, three lengths, then 3-byte cipher specs. */
export function parseSslv2ClientHello(buf: Buffer, offset: number, length: number): HelloResult<ClientHello> {
  const r = new Reader(buf, offset, offset + length);
  const version = r.u16();
  const specsLength = r.u16();
  const sessionIdLength = r.u16();
  const challengeLength = r.u16();
  if (!r.ok || specsLength % 3 !== 0 || r.left < specsLength + sessionIdLength + challengeLength) return fail(W_SSL_BAD_CLIENT_HELLO);
  const cipherSuites: number[] = [];
  for (let i = 0; i < specsLength; i += 3) cipherSuites.push((r.u8() << 16) | r.u16());
  return {
    status: 'ok',
    hello: { sslv2: true, legacyVersion: version, maxVersion: version, supportedVersions: [], alpn: [], cipherSuites, extensions: [], groups: [], pointFormats: [] },
  };
}

/** SSLv2 SERVER-HELLO body after the type byte: session-id-hit, certificate type, version, lengths. */
export function parseSslv2ServerHello(buf: Buffer, offset: number, length: number): HelloResult<ServerHello> {
  const r = new Reader(buf, offset, offset + length);
  r.skip(2);
  const version = r.u16();
  const certificateLength = r.u16();
  const specsLength = r.u16();
  r.u16(); // connection id length
  if (!r.ok || specsLength % 3 !== 0 || r.left < certificateLength + specsLength) return fail(W_SSL_BAD_SERVER_HELLO);
  return { status: 'ok', hello: { sslv2: true, legacyVersion: version, version, cipher: -1, extensions: [] } };
}
