/**
 * An http record as JSON, written by hand into a byte buffer (as dns-json.ts does for dns records): about a
 * third of JSON.stringify's time and no string to encode afterwards. Byte-identical to JSON.stringify (a test
 * holds it so) for records as HttpRecordObject makes them, in its field order; the strings (URIs, user
 * agents) may hold any character and go through putJsonString.
 */
import { hasRecordHead, isNumberOrAbsent, isStringOrAbsent, writeRecordHead } from '../../flows/conn-json.js';
import { bytesOf, MAX_NUMBER_TEXT, putBytes, putJsonString, putNumber } from '../../flows/json-bytes.js';
import type { HttpRecord } from './record.js';

const K_TS = bytesOf('{"type":"http","_path":"http","ts":');
const K_TRANS_DEPTH = bytesOf('","trans_depth":');
const K_REQUEST_BODY_LEN = bytesOf(',"request_body_len":');
const K_RESPONSE_BODY_LEN = bytesOf(',"response_body_len":');
const K_METHOD = bytesOf(',"method":');
const K_HOST = bytesOf(',"host":');
const K_URI = bytesOf(',"uri":');
const K_VERSION = bytesOf(',"version":');
const K_USER_AGENT = bytesOf(',"user_agent":');
const K_STATUS_CODE = bytesOf(',"status_code":');
const K_STATUS_MSG = bytesOf(',"status_msg":');
const K_MISSED_BYTES = bytesOf(',"missed_bytes":');

/** The fixed text (keys and punctuation: 263 bytes) and up to eight numbers (ts, the ports, depth, lengths, status). */
const HTTP_FIXED_ROOM = 288 + 8 * MAX_NUMBER_TEXT;

/** Room a string takes at worst: 6 bytes a UTF-16 unit escaped, and its quotes. */
const stringRoom = (s: string | undefined): number => (s === undefined ? 0 : 6 * s.length + 2);

/** Room `writeHttpJson` needs for this record. */
export function httpJsonRoom(r: HttpRecord): number {
  return (
    HTTP_FIXED_ROOM + r.uid.length + r['id.orig_h'].length + r['id.resp_h'].length + r.proto.length +
    stringRoom(r.method) + stringRoom(r.host) + stringRoom(r.uri) + stringRoom(r.version) + stringRoom(r.user_agent) + stringRoom(r.status_msg)
  );
}

/** JSON.stringify(r) written as bytes into `buf` at `pos` (with httpJsonRoom(r) bytes of room); returns the end. */
export function writeHttpJson(buf: Buffer, pos: number, r: HttpRecord): number {
  pos = writeRecordHead(buf, pos, K_TS, r);
  pos = putNumber(buf, putBytes(buf, pos, K_TRANS_DEPTH), r.trans_depth);
  pos = putNumber(buf, putBytes(buf, pos, K_REQUEST_BODY_LEN), r.request_body_len);
  pos = putNumber(buf, putBytes(buf, pos, K_RESPONSE_BODY_LEN), r.response_body_len);
  if (r.method !== undefined) pos = putJsonString(buf, putBytes(buf, pos, K_METHOD), r.method);
  if (r.host !== undefined) pos = putJsonString(buf, putBytes(buf, pos, K_HOST), r.host);
  if (r.uri !== undefined) pos = putJsonString(buf, putBytes(buf, pos, K_URI), r.uri);
  if (r.version !== undefined) pos = putJsonString(buf, putBytes(buf, pos, K_VERSION), r.version);
  if (r.user_agent !== undefined) pos = putJsonString(buf, putBytes(buf, pos, K_USER_AGENT), r.user_agent);
  if (r.status_code !== undefined) pos = putNumber(buf, putBytes(buf, pos, K_STATUS_CODE), r.status_code);
  if (r.status_msg !== undefined) pos = putJsonString(buf, putBytes(buf, pos, K_STATUS_MSG), r.status_msg);
  if (r.missed_bytes !== undefined) pos = putNumber(buf, putBytes(buf, pos, K_MISSED_BYTES), r.missed_bytes);
  buf[pos++] = 0x7d; // }
  return pos;
}


/**
 * True when `r` is shaped as HttpRecordObject makes http records (the only maker; a record cloned to another
 * thread keeps its fields' order): only those go through writeHttpJson, any other object typed 'http' is left
 * to JSON.stringify.
 */
export function isEngineHttpRecord(r: HttpRecord): boolean {
  return (
    hasRecordHead(r) && typeof r.trans_depth === 'number' && typeof r.request_body_len === 'number' && typeof r.response_body_len === 'number' &&
    isStringOrAbsent(r.method) && isStringOrAbsent(r.host) && isStringOrAbsent(r.uri) && isStringOrAbsent(r.version) &&
    isStringOrAbsent(r.user_agent) && isNumberOrAbsent(r.status_code) && isStringOrAbsent(r.status_msg) && isNumberOrAbsent(r.missed_bytes)
  );
}
