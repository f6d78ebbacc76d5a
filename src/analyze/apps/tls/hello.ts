/**
 * ClientHello / ServerHello bodies (RFC 8446 4.1.2-4.1.3, RFC 5246 7.4.1) and their SSLv2 forms (RFC 6101
 * appendix E). Pure: the body is complete (record-layer.ts found it), so the answer is HELLO_OK or a weird id;
 * nothing throws. The parse allocates nothing: it fills a HelloFields the analyzer owns and reuses (numbers in
 * typed arrays, names as offsets into the body), and the analyzer decodes only what its record keeps.
 */
import { defineWeird } from '../../../decode/weirds.js';
import { isGrease, versionRank } from './names.js';

export const W_SSL_BAD_CLIENT_HELLO = defineWeird('ssl_bad_client_hello');
export const W_SSL_BAD_SERVER_HELLO = defineWeird('ssl_bad_server_hello');

/** What the parsers answer when the hello is well-formed (any other answer is a weird id). */
export const HELLO_OK = -1;

const EXT_SERVER_NAME = 0;
const EXT_SUPPORTED_GROUPS = 10;
const EXT_EC_POINT_FORMATS = 11;
const EXT_ALPN = 16;
const EXT_SUPPORTED_VERSIONS = 43;
const SNI_HOST_NAME = 0;

/**
 * One hello's fields, valid until the next parse into the same object; name offsets point into the body the
 * parse was given. Lists are `values[0, count)`, in wire order, GREASE included (JA3 filters it).
 */
export class HelloFields {
  sslv2 = false;
  /** client_version / legacy_version field. */
  legacyVersion = 0;
  /**
   * Client: the highest non-GREASE supported_versions offer, else the legacy version. Server: the
   * supported_versions selection (TLS 1.3), else the legacy version.
   */
  version = 0;
  /** Server: the selected suite; -1 when the hello names none (SSLv2). */
  cipher = -1;
  suiteCount = 0;
  extensionCount = 0;
  groupCount = 0;
  pointFormatCount = 0;
  /** First host_name entry of the server_name extension; -1 when there is none. */
  serverNameAt = -1;
  serverNameLength = 0;
  /** ALPN protocols: the client's offer in order; for a server, one entry (its choice) or none. */
  alpnCount = 0;
  suites = new Uint32Array(0);
  extensions = new Uint16Array(0);
  groups = new Uint16Array(0);
  pointFormats = new Uint8Array(0);
  alpnAt = new Uint32Array(0);
  alpnLength = new Uint8Array(0);

  /** Empties the lists, room for a body of `length` bytes (no list can hold more entries than it has bytes). */
  reset(sslv2: boolean, length: number): void {
    if (this.suites.length < length) {
      const size = Math.max(length, 2048, this.suites.length * 2);
      this.suites = new Uint32Array(size);
      this.extensions = new Uint16Array(size);
      this.groups = new Uint16Array(size);
      this.pointFormats = new Uint8Array(size);
      this.alpnAt = new Uint32Array(size);
      this.alpnLength = new Uint8Array(size);
    }
    this.sslv2 = sslv2;
    this.legacyVersion = 0;
    this.version = 0;
    this.cipher = -1;
    this.suiteCount = 0;
    this.extensionCount = 0;
    this.groupCount = 0;
    this.pointFormatCount = 0;
    this.serverNameAt = -1;
    this.serverNameLength = 0;
    this.alpnCount = 0;
  }
}

/** Printable ASCII as-is, other bytes as \xNN (Zeek escapes names the same way). */
export function escapedText(buf: Buffer, at: number, length: number): string {
  const end = at + length;
  let plain = true;
  for (let i = at; i < end && plain; i++) plain = buf[i] >= 0x20 && buf[i] < 0x7f && buf[i] !== 0x5c;
  if (plain) return buf.toString('latin1', at, end);
  let out = '';
  for (let i = at; i < end; i++) {
    const b = buf[i];
    out += b >= 0x20 && b < 0x7f && b !== 0x5c ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`;
  }
  return out;
}

/** The ALPN protocols of `f` (parsed from `buf`), decoded. */
export function alpnList(f: HelloFields, buf: Buffer): string[] {
  const out = new Array<string>(f.alpnCount);
  for (let i = 0; i < f.alpnCount; i++) out[i] = escapedText(buf, f.alpnAt[i], f.alpnLength[i]);
  return out;
}

/**
 * The extension block at `pos` (a 2-byte length, then type, length, data entries) up to `end`: each type is
 * listed, each extension's data goes to `onExtension`. False when a length runs past what holds it. Bytes
 * after the block are allowed.
 */
function readExtensions(
  buf: Buffer,
  pos: number,
  end: number,
  f: HelloFields,
  onExtension: (buf: Buffer, type: number, at: number, end: number, f: HelloFields) => boolean,
): boolean {
  if (end - pos < 2) return false;
  const blockEnd = pos + 2 + buf.readUInt16BE(pos);
  if (blockEnd > end) return false;
  for (let p = pos + 2; p < blockEnd; ) {
    if (blockEnd - p < 4) return false;
    const type = buf.readUInt16BE(p);
    const at = p + 4;
    p = at + buf.readUInt16BE(p + 2);
    if (p > blockEnd) return false;
    f.extensions[f.extensionCount++] = type;
    if (!onExtension(buf, type, at, p, f)) return false;
  }
  return true;
}

/** Fills `f` from a ClientHello body; HELLO_OK or W_SSL_BAD_CLIENT_HELLO. */
export function parseClientHello(buf: Buffer, offset: number, length: number, f: HelloFields): number {
  f.reset(false, length);
  const end = offset + length;
  let pos = offset;
  if (end - pos < 35) return W_SSL_BAD_CLIENT_HELLO; // version, random, session id length
  f.legacyVersion = f.version = buf.readUInt16BE(pos);
  pos += 35 + buf[pos + 34]; // legacy_session_id
  if (end - pos < 2) return W_SSL_BAD_CLIENT_HELLO;
  const suitesLength = buf.readUInt16BE(pos);
  pos += 2;
  if (end - pos < suitesLength || suitesLength % 2 !== 0) return W_SSL_BAD_CLIENT_HELLO;
  for (let i = 0; i < suitesLength; i += 2) f.suites[f.suiteCount++] = buf.readUInt16BE(pos + i);
  pos += suitesLength;
  if (end - pos < 1) return W_SSL_BAD_CLIENT_HELLO;
  pos += 1 + buf[pos]; // legacy_compression_methods
  if (pos > end) return W_SSL_BAD_CLIENT_HELLO;
  // Extensions are optional before TLS 1.3: a hello may end right after the compression methods.
  if (pos < end && !readExtensions(buf, pos, end, f, readClientExtension)) return W_SSL_BAD_CLIENT_HELLO;
  return HELLO_OK;
}

/** Fills `f` from one extension's data [at, end); false when its inner lengths do not fit. */
function readClientExtension(buf: Buffer, type: number, at: number, end: number, f: HelloFields): boolean {
  switch (type) {
    case EXT_SERVER_NAME: {
      if (at === end) return true;
      if (end - at < 2) return false;
      const listEnd = at + 2 + buf.readUInt16BE(at);
      if (listEnd > end) return false;
      for (let p = at + 2; p < listEnd; ) {
        if (listEnd - p < 3) return false;
        const nameType = buf[p];
        const nameAt = p + 3;
        const nameLength = buf.readUInt16BE(p + 1);
        p = nameAt + nameLength;
        if (p > listEnd) return false;
        if (nameType === SNI_HOST_NAME && f.serverNameAt < 0) {
          f.serverNameAt = nameAt;
          f.serverNameLength = nameLength;
        }
      }
      return true;
    }
    case EXT_ALPN: {
      if (end - at < 2) return false;
      const listEnd = at + 2 + buf.readUInt16BE(at);
      if (listEnd > end) return false;
      for (let p = at + 2; p < listEnd; ) {
        const n = buf[p];
        if (listEnd - p - 1 < n) return false;
        f.alpnAt[f.alpnCount] = p + 1;
        f.alpnLength[f.alpnCount++] = n;
        p += 1 + n;
      }
      return true;
    }
    case EXT_SUPPORTED_VERSIONS: {
      if (end - at < 1) return false;
      const listLength = buf[at];
      if (end - at - 1 < listLength || listLength % 2 !== 0) return false;
      for (let p = at + 1; p < at + 1 + listLength; p += 2) {
        const v = buf.readUInt16BE(p);
        if (!isGrease(v) && versionRank(v) > versionRank(f.version)) f.version = v;
      }
      return true;
    }
    case EXT_SUPPORTED_GROUPS: {
      if (end - at < 2) return false;
      const listLength = buf.readUInt16BE(at);
      if (end - at - 2 < listLength || listLength % 2 !== 0) return false;
      for (let p = at + 2; p < at + 2 + listLength; p += 2) f.groups[f.groupCount++] = buf.readUInt16BE(p);
      return true;
    }
    case EXT_EC_POINT_FORMATS: {
      if (end - at < 1) return false;
      const listLength = buf[at];
      if (end - at - 1 < listLength) return false;
      for (let p = at + 1; p < at + 1 + listLength; p++) f.pointFormats[f.pointFormatCount++] = buf[p];
      return true;
    }
    default:
      return true;
  }
}

/** Fills `f` from a ServerHello body; HELLO_OK or W_SSL_BAD_SERVER_HELLO. */
export function parseServerHello(buf: Buffer, offset: number, length: number, f: HelloFields): number {
  f.reset(false, length);
  const end = offset + length;
  let pos = offset;
  if (end - pos < 34) return W_SSL_BAD_SERVER_HELLO; // version, random
  f.legacyVersion = f.version = buf.readUInt16BE(pos);
  pos += 34;
  // TLS 1.3 drafts before -22 (version 0x7fNN) dropped the session id and compression fields.
  const draft = f.legacyVersion >> 8 === 0x7f;
  if (!draft) {
    if (end - pos < 1) return W_SSL_BAD_SERVER_HELLO;
    pos += 1 + buf[pos];
  }
  if (end - pos < (draft ? 2 : 3)) return W_SSL_BAD_SERVER_HELLO; // cipher suite, compression method
  f.cipher = buf.readUInt16BE(pos);
  pos += draft ? 2 : 3;
  if (pos < end && !readExtensions(buf, pos, end, f, readServerExtension)) return W_SSL_BAD_SERVER_HELLO;
  return HELLO_OK;
}

/** The server's supported_versions selection and ALPN choice (the last of each wins); false when too short. */
function readServerExtension(buf: Buffer, type: number, at: number, end: number, f: HelloFields): boolean {
  if (type === EXT_SUPPORTED_VERSIONS) {
    if (end - at < 2) return false;
    f.version = buf.readUInt16BE(at);
  } else if (type === EXT_ALPN) {
    if (end - at < 2) return false;
    const listLength = buf.readUInt16BE(at);
    if (end - at - 2 < listLength) return false;
    if (listLength > 0) {
      // A protocol longer than its list reads as "" (the list is not checked further, as before).
      const n = buf[at + 2];
      f.alpnAt[0] = at + 3;
      f.alpnLength[0] = listLength - 1 >= n ? n : 0;
      f.alpnCount = 1;
    }
  }
  return true;
}

/** SSLv2 CLIENT-HELLO body after the type byte: version, three lengths, then 3-byte cipher specs. */
export function parseSslv2ClientHello(buf: Buffer, offset: number, length: number, f: HelloFields): number {
  f.reset(true, length);
  if (length < 8) return W_SSL_BAD_CLIENT_HELLO;
  const version = buf.readUInt16BE(offset);
  const specsLength = buf.readUInt16BE(offset + 2);
  const sessionIdLength = buf.readUInt16BE(offset + 4);
  const challengeLength = buf.readUInt16BE(offset + 6);
  if (specsLength % 3 !== 0 || length - 8 < specsLength + sessionIdLength + challengeLength) return W_SSL_BAD_CLIENT_HELLO;
  f.legacyVersion = f.version = version;
  for (let p = offset + 8; p < offset + 8 + specsLength; p += 3) f.suites[f.suiteCount++] = (buf[p] << 16) | buf.readUInt16BE(p + 1);
  return HELLO_OK;
}

/** SSLv2 SERVER-HELLO body after the type byte: session-id-hit, certificate type, version, lengths. */
export function parseSslv2ServerHello(buf: Buffer, offset: number, length: number, f: HelloFields): number {
  f.reset(true, length);
  if (length < 10) return W_SSL_BAD_SERVER_HELLO;
  const version = buf.readUInt16BE(offset + 2);
  const certificateLength = buf.readUInt16BE(offset + 4);
  const specsLength = buf.readUInt16BE(offset + 6);
  if (specsLength % 3 !== 0 || length - 10 < certificateLength + specsLength) return W_SSL_BAD_SERVER_HELLO;
  f.legacyVersion = f.version = version;
  return HELLO_OK;
}
