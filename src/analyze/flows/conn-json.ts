import type { ConnId, ConnRecord, ProcessRecord } from '../records.js';
import { CONN_NUMBERS, connProtoName, formatAddress, type ConnView } from './conn-record.js';
import { uidFor } from './uid.js';
import { communityIdOfKey } from './community-id.js';
import type { FlowOwners } from './flow-owners.js';
import { bytesOf, MAX_NUMBER_TEXT, putAscii, putBytes, putIPv4, putJsonString, putNumber } from './json-bytes.js';

/**
 * A conn record as JSON, written by hand because it is the most frequent record: about twice as fast as
 * JSON.stringify, and byte-identical to it (a test holds it so). Every string field is plain ASCII without
 * quotes or backslashes (uid, addresses, community id, history, state, service); numbers are finite.
 */
export function connToJson(r: ConnRecord): string {
  let s = `{"type":"conn","_path":"conn","ts":${r.ts},"uid":"${r.uid}","id.orig_h":"${r['id.orig_h']}","id.orig_p":${r['id.orig_p']},"id.resp_h":"${r['id.resp_h']}","id.resp_p":${r['id.resp_p']},"proto":"${r.proto}","community_id":"${r.community_id}","duration":${r.duration},"orig_bytes":${r.orig_bytes},"resp_bytes":${r.resp_bytes},"conn_state":"${r.conn_state}","history":"${r.history}","orig_pkts":${r.orig_pkts},"orig_ip_bytes":${r.orig_ip_bytes},"resp_pkts":${r.resp_pkts},"resp_ip_bytes":${r.resp_ip_bytes},"orig_retrans":${r.orig_retrans},"resp_retrans":${r.resp_retrans},"orig_ooo":${r.orig_ooo},"resp_ooo":${r.resp_ooo}`;
  if (r.service !== undefined) s += `,"service":${JSON.stringify(r.service)}`;
  if (r.vlan !== undefined) s += `,"vlan":${r.vlan}`;
  if (r.inner_vlan !== undefined) s += `,"inner_vlan":${r.inner_vlan}`;
  if (r.rtt !== undefined) s += `,"rtt":${r.rtt}`;
  if (r.orig_process !== undefined) s += `,"orig_process":${JSON.stringify(r.orig_process)}`;
  if (r.resp_process !== undefined) s += `,"resp_process":${JSON.stringify(r.resp_process)}`;
  return `${s}}`;
}

/** Conn records by hand (they are built only by connRecordOf, in this field order), the rest by JSON.stringify. */
export function recordToJson(record: { type: string }): string {
  return record.type === 'conn' ? connToJson(record as ConnRecord) : JSON.stringify(record);
}

// connToJson's text between the values, as bytes.
const K_TS = bytesOf('{"type":"conn","_path":"conn","ts":');
const K_UID = bytesOf(',"uid":"');
const K_ORIG_H = bytesOf('","id.orig_h":"');
const K_ORIG_P = bytesOf('","id.orig_p":');
const K_RESP_H = bytesOf(',"id.resp_h":"');
const K_RESP_P = bytesOf('","id.resp_p":');
const K_PROTO = bytesOf(',"proto":"');
const K_COMMUNITY = bytesOf('","community_id":"');
const K_DURATION = bytesOf('","duration":');
const K_ORIG_BYTES = bytesOf(',"orig_bytes":');
const K_RESP_BYTES = bytesOf(',"resp_bytes":');
const K_STATE = bytesOf(',"conn_state":"');
const K_HISTORY = bytesOf('","history":"');
const K_ORIG_PKTS = bytesOf('","orig_pkts":');
const K_ORIG_IP_BYTES = bytesOf(',"orig_ip_bytes":');
const K_RESP_PKTS = bytesOf(',"resp_pkts":');
const K_RESP_IP_BYTES = bytesOf(',"resp_ip_bytes":');
const K_ORIG_RETRANS = bytesOf(',"orig_retrans":');
const K_RESP_RETRANS = bytesOf(',"resp_retrans":');
const K_ORIG_OOO = bytesOf(',"orig_ooo":');
const K_RESP_OOO = bytesOf(',"resp_ooo":');
const K_SERVICE = bytesOf(',"service":');
const K_VLAN = bytesOf(',"vlan":');
const K_INNER_VLAN = bytesOf(',"inner_vlan":');
const K_RTT = bytesOf(',"rtt":');
const K_ORIG_PROCESS = bytesOf(',"orig_process":');
const K_RESP_PROCESS = bytesOf(',"resp_process":');

/** Bytes a process object's JSON can take: its strings escaped at worst (6 bytes a unit), the keys and pid. */
function processRoom(p: ProcessRecord | undefined): number {
  if (p === undefined) return 0;
  return 96 + 6 * (p.name.length + (p.exe?.length ?? 0) + (p.user?.length ?? 0) + (p.unit?.length ?? 0));
}

/** Room the owners' objects take in a conn line. */
function ownersRoom(owners: FlowOwners | undefined): number {
  return owners === undefined ? 0 : processRoom(owners.orig) + processRoom(owners.resp);
}

/** The owners' fields (processes are rare strings from /proc: JSON.stringify escapes them). */
function writeOwners(buf: Buffer, pos: number, orig: ProcessRecord | undefined, resp: ProcessRecord | undefined): number {
  if (orig !== undefined) pos = putProcess(buf, putBytes(buf, pos, K_ORIG_PROCESS), orig);
  if (resp !== undefined) pos = putProcess(buf, putBytes(buf, pos, K_RESP_PROCESS), resp);
  return pos;
}

function putProcess(buf: Buffer, pos: number, p: ProcessRecord): number {
  return pos + buf.write(JSON.stringify(p), pos, 'utf8');
}

/** Bytes connToJson's fixed text and numbers can take, at most (the keys are 354 bytes, 16 numbers). */
const CONN_FIXED_ROOM = 512 + 16 * MAX_NUMBER_TEXT;

/** Room `writeConnJson` needs for this record. */
export function connJsonRoom(r: ConnRecord): number {
  return (
    CONN_FIXED_ROOM +
    r.uid.length + r['id.orig_h'].length + r['id.resp_h'].length + r.proto.length + r.community_id.length + r.conn_state.length + r.history.length +
    (r.service === undefined ? 0 : 6 * r.service.length + 2) +
    processRoom(r.orig_process) + processRoom(r.resp_process)
  );
}

/**
 * True when `r` has the fields writeRecordHead writes, of their types: what the hand-written record writers
 * (dns, tls, http) check first before taking a record from JSON.stringify.
 */
export function hasRecordHead(r: Partial<ConnId> & { ts?: unknown }): boolean {
  return (
    typeof r.ts === 'number' && typeof r.uid === 'string' && typeof r['id.orig_h'] === 'string' && typeof r['id.orig_p'] === 'number' &&
    typeof r['id.resp_h'] === 'string' && typeof r['id.resp_p'] === 'number' && typeof r.proto === 'string'
  );
}

/** For the record writers' shape checks: an optional field is absent or of its type. */
export const isStringOrAbsent = (v: unknown): boolean => v === undefined || typeof v === 'string';
export const isNumberOrAbsent = (v: unknown): boolean => v === undefined || typeof v === 'number';

/**
 * The start every flow's record shares: `head` (`{"type":"conn","_path":"conn","ts":`), then ts, uid, id.* and proto, up to
 * proto's closing quote (the next field's key starts with it). Room: 110 bytes, the strings and two numbers.
 */
export function writeRecordHead(buf: Buffer, pos: number, head: Uint8Array, r: ConnId & { ts: number }): number {
  pos = putNumber(buf, putBytes(buf, pos, head), r.ts);
  pos = putAscii(buf, putBytes(buf, pos, K_UID), r.uid);
  pos = putAscii(buf, putBytes(buf, pos, K_ORIG_H), r['id.orig_h']);
  pos = putNumber(buf, putBytes(buf, pos, K_ORIG_P), r['id.orig_p']);
  pos = putAscii(buf, putBytes(buf, pos, K_RESP_H), r['id.resp_h']);
  pos = putNumber(buf, putBytes(buf, pos, K_RESP_P), r['id.resp_p']);
  return putAscii(buf, putBytes(buf, pos, K_PROTO), r.proto);
}

/**
 * connToJson's text written as bytes into `buf` at `pos` (which has connJsonRoom(r) bytes of room); returns
 * the position after it. No string is built on the way.
 */
export function writeConnJson(buf: Buffer, pos: number, r: ConnRecord): number {
  pos = writeRecordHead(buf, pos, K_TS, r);
  pos = putAscii(buf, putBytes(buf, pos, K_COMMUNITY), r.community_id);
  pos = putNumber(buf, putBytes(buf, pos, K_DURATION), r.duration);
  pos = putNumber(buf, putBytes(buf, pos, K_ORIG_BYTES), r.orig_bytes);
  pos = putNumber(buf, putBytes(buf, pos, K_RESP_BYTES), r.resp_bytes);
  pos = putAscii(buf, putBytes(buf, pos, K_STATE), r.conn_state);
  pos = putAscii(buf, putBytes(buf, pos, K_HISTORY), r.history);
  pos = putNumber(buf, putBytes(buf, pos, K_ORIG_PKTS), r.orig_pkts);
  pos = putNumber(buf, putBytes(buf, pos, K_ORIG_IP_BYTES), r.orig_ip_bytes);
  pos = putNumber(buf, putBytes(buf, pos, K_RESP_PKTS), r.resp_pkts);
  pos = putNumber(buf, putBytes(buf, pos, K_RESP_IP_BYTES), r.resp_ip_bytes);
  pos = putNumber(buf, putBytes(buf, pos, K_ORIG_RETRANS), r.orig_retrans);
  pos = putNumber(buf, putBytes(buf, pos, K_RESP_RETRANS), r.resp_retrans);
  pos = putNumber(buf, putBytes(buf, pos, K_ORIG_OOO), r.orig_ooo);
  pos = putNumber(buf, putBytes(buf, pos, K_RESP_OOO), r.resp_ooo);
  if (r.service !== undefined) pos = putJsonString(buf, putBytes(buf, pos, K_SERVICE), r.service);
  if (r.vlan !== undefined) pos = putNumber(buf, putBytes(buf, pos, K_VLAN), r.vlan);
  if (r.inner_vlan !== undefined) pos = putNumber(buf, putBytes(buf, pos, K_INNER_VLAN), r.inner_vlan);
  if (r.rtt !== undefined) pos = putNumber(buf, putBytes(buf, pos, K_RTT), r.rtt);
  pos = writeOwners(buf, pos, r.orig_process, r.resp_process);
  buf[pos++] = 0x7d; // }
  return pos;
}

/** Scratch for writeConnViewJson: the view's numbers and its key's words (one record at a time). */
const viewNumbers = new Float64Array(CONN_NUMBERS.length);
const viewWords = new Uint32Array(8);

/** Room writeConnViewJson needs for this flow (its history and service are the only long strings). */
export function connViewJsonRoom(history: string, service: string | undefined, owners?: FlowOwners): number {
  // uid 18, two IPv6 texts of 39, "icmp", a community id of 30, a state of 6.
  return CONN_FIXED_ROOM + 18 + 2 * 39 + 4 + 30 + 6 + history.length + (service === undefined ? 0 : 6 * service.length + 2) + ownersRoom(owners);
}

/** viewWords[at..at+3] as text: IPv4 digit by digit (no string), IPv6 through its text. */
function putAddress(buf: Buffer, pos: number, v6: boolean, at: number): number {
  return v6 ? putAscii(buf, pos, formatAddress(6, viewWords.subarray(at, at + 4))) : putIPv4(buf, pos, viewWords[at]);
}

/**
 * writeConnJson's bytes for a flow read straight from the flow table: the same line as for `view.record()`,
 * without making the record object (`loopy read --json` writes a million of them).
 */
export function writeConnViewJson(buf: Buffer, pos: number, c: ConnView, history: string): number {
  c.numbers(viewNumbers);
  c.addresses(viewWords, 0);
  const proto = c.proto;
  const v6 = c.version === 6;
  const origPort = c.origPort;
  const respPort = c.respPort;
  const n = viewNumbers;
  pos = putNumber(buf, putBytes(buf, pos, K_TS), c.ts);
  pos = putAscii(buf, putBytes(buf, pos, K_UID), uidFor(c.serial));
  pos = putAddress(buf, putBytes(buf, pos, K_ORIG_H), v6, 0);
  pos = putNumber(buf, putBytes(buf, pos, K_ORIG_P), origPort);
  pos = putAddress(buf, putBytes(buf, pos, K_RESP_H), v6, 4);
  pos = putNumber(buf, putBytes(buf, pos, K_RESP_P), respPort);
  pos = putAscii(buf, putBytes(buf, pos, K_PROTO), connProtoName(proto));
  pos = putAscii(buf, putBytes(buf, pos, K_COMMUNITY), communityIdOfKey(proto, v6, viewWords, 0, 4, origPort, respPort));
  pos = putNumber(buf, putBytes(buf, pos, K_DURATION), n[0]);
  pos = putNumber(buf, putBytes(buf, pos, K_ORIG_BYTES), n[1]);
  pos = putNumber(buf, putBytes(buf, pos, K_RESP_BYTES), n[2]);
  pos = putAscii(buf, putBytes(buf, pos, K_STATE), c.connState(history));
  pos = putAscii(buf, putBytes(buf, pos, K_HISTORY), history);
  pos = putNumber(buf, putBytes(buf, pos, K_ORIG_PKTS), n[3]);
  pos = putNumber(buf, putBytes(buf, pos, K_ORIG_IP_BYTES), n[4]);
  pos = putNumber(buf, putBytes(buf, pos, K_RESP_PKTS), n[5]);
  pos = putNumber(buf, putBytes(buf, pos, K_RESP_IP_BYTES), n[6]);
  pos = putNumber(buf, putBytes(buf, pos, K_ORIG_RETRANS), n[7]);
  pos = putNumber(buf, putBytes(buf, pos, K_RESP_RETRANS), n[8]);
  pos = putNumber(buf, putBytes(buf, pos, K_ORIG_OOO), n[9]);
  pos = putNumber(buf, putBytes(buf, pos, K_RESP_OOO), n[10]);
  if (c.service !== undefined) pos = putJsonString(buf, putBytes(buf, pos, K_SERVICE), c.service);
  if (!Number.isNaN(n[11])) pos = putNumber(buf, putBytes(buf, pos, K_VLAN), n[11]);
  if (!Number.isNaN(n[12])) pos = putNumber(buf, putBytes(buf, pos, K_INNER_VLAN), n[12]);
  if (!Number.isNaN(n[13])) pos = putNumber(buf, putBytes(buf, pos, K_RTT), n[13]);
  const owners = c.owners();
  if (owners !== undefined) pos = writeOwners(buf, pos, owners.orig, owners.resp);
  buf[pos++] = 0x7d; // }
  return pos;
}
