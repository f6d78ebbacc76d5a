/**
 * A tls record as JSON, written by hand into a byte buffer (as dns-json.ts does for dns records): about a
 * third of JSON.stringify's time and no string to encode afterwards, for the record written once per TLS
 * flow. Byte-identical to JSON.stringify (a test holds it so) for records as TlsRecordObject makes them,
 * in its field order; the strings may hold any character and go through putJsonString.
 */
import { hasRecordHead, isNumberOrAbsent, isStringOrAbsent, writeRecordHead } from '../../flows/conn-json.js';
import { bytesOf, MAX_NUMBER_TEXT, putBytes, putJsonString, putNumber } from '../../flows/json-bytes.js';
import type { TlsFlowRecord } from './analyzer.js';

const K_TS = bytesOf('{"type":"tls","_path":"ssl","ts":');
const K_SERVER_NAME = bytesOf(',"server_name":');
const K_VERSION = bytesOf(',"version":');
const K_CIPHER = bytesOf(',"cipher":');
const K_NEXT_PROTOCOL = bytesOf(',"next_protocol":');
const K_CLIENT_VERSION = bytesOf(',"client_version":');
const K_CLIENT_ALPN = bytesOf(',"client_alpn":[');
const K_CLIENT_CIPHER_COUNT = bytesOf(',"client_cipher_count":');
const K_JA3 = bytesOf(',"ja3":');
const K_JA3S = bytesOf(',"ja3s":');

/** The fixed text (keys and punctuation: 236 bytes) and up to four numbers (ts, the ports, the cipher count). */
const TLS_FIXED_ROOM = 256 + 4 * MAX_NUMBER_TEXT;

/** Room a string takes at worst: 6 bytes a UTF-16 unit escaped, and its quotes and a comma. */
const stringRoom = (s: string | undefined): number => (s === undefined ? 0 : 6 * s.length + 3);

/** Room `writeTlsJson` needs for this record. */
export function tlsJsonRoom(r: TlsFlowRecord): number {
  let room = TLS_FIXED_ROOM + r.uid.length + r['id.orig_h'].length + r['id.resp_h'].length + r.proto.length;
  room += stringRoom(r.server_name) + stringRoom(r.version) + stringRoom(r.cipher) + stringRoom(r.next_protocol);
  room += stringRoom(r.client_version) + stringRoom(r.ja3) + stringRoom(r.ja3s);
  if (r.client_alpn !== undefined) for (const p of r.client_alpn) room += stringRoom(p);
  return room;
}

/** JSON.stringify(r) written as bytes into `buf` at `pos` (with tlsJsonRoom(r) bytes of room); returns the end. */
export function writeTlsJson(buf: Buffer, pos: number, r: TlsFlowRecord): number {
  pos = writeRecordHead(buf, pos, K_TS, r);
  buf[pos++] = 0x22; // the head ends inside proto's quotes
  if (r.server_name !== undefined) pos = putJsonString(buf, putBytes(buf, pos, K_SERVER_NAME), r.server_name);
  if (r.version !== undefined) pos = putJsonString(buf, putBytes(buf, pos, K_VERSION), r.version);
  if (r.cipher !== undefined) pos = putJsonString(buf, putBytes(buf, pos, K_CIPHER), r.cipher);
  if (r.next_protocol !== undefined) pos = putJsonString(buf, putBytes(buf, pos, K_NEXT_PROTOCOL), r.next_protocol);
  if (r.client_version !== undefined) pos = putJsonString(buf, putBytes(buf, pos, K_CLIENT_VERSION), r.client_version);
  if (r.client_alpn !== undefined) {
    pos = putBytes(buf, pos, K_CLIENT_ALPN);
    for (let i = 0; i < r.client_alpn.length; i++) {
      if (i > 0) buf[pos++] = 0x2c; // ,
      pos = putJsonString(buf, pos, r.client_alpn[i]);
    }
    buf[pos++] = 0x5d; // ]
  }
  if (r.client_cipher_count !== undefined) pos = putNumber(buf, putBytes(buf, pos, K_CLIENT_CIPHER_COUNT), r.client_cipher_count);
  if (r.ja3 !== undefined) pos = putJsonString(buf, putBytes(buf, pos, K_JA3), r.ja3);
  if (r.ja3s !== undefined) pos = putJsonString(buf, putBytes(buf, pos, K_JA3S), r.ja3s);
  buf[pos++] = 0x7d; // }
  return pos;
}


/**
 * True when `r` is shaped as TlsRecordObject makes tls records (the only maker; a record cloned to another
 * thread keeps its fields' order): only those go through writeTlsJson, any other object typed 'tls' is left
 * to JSON.stringify.
 */
export function isEngineTlsRecord(r: TlsFlowRecord): boolean {
  return (
    hasRecordHead(r) && r.established === undefined && isStringOrAbsent(r.server_name) && isStringOrAbsent(r.version) &&
    isStringOrAbsent(r.cipher) && isStringOrAbsent(r.next_protocol) && isStringOrAbsent(r.client_version) && isStringOrAbsent(r.ja3) &&
    isStringOrAbsent(r.ja3s) && isNumberOrAbsent(r.client_cipher_count) &&
    (r.client_alpn === undefined || Array.isArray(r.client_alpn))
  );
}
