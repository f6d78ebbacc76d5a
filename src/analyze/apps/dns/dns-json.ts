/**
 * A dns record as JSON, written by hand into a byte buffer because DNS is the record written most often after
 * conn: JSON.stringify took about 1.6 µs a record (its doubles and its walk over the fields), this about a
 * third of it. Byte-identical to JSON.stringify (a test holds it so) for records as buildDnsRecord makes them
 * (the only maker of dns records), in its field order; names and answers may hold any character and go through
 * putJsonString.
 */
import { hasRecordHead, writeRecordHead } from '../../flows/conn-json.js';
import { bytesOf, MAX_NUMBER_TEXT, putBytes, putJsonString, putNumber } from '../../flows/json-bytes.js';
import type { DnsRecord } from '../../records.js';

const K_TS = bytesOf('{"type":"dns","_path":"dns","ts":');
const K_TRANS_ID = bytesOf('","trans_id":');
const K_AA = bytesOf(',"AA":');
const K_TC = bytesOf(',"TC":');
const K_RD = bytesOf(',"RD":');
const K_RA = bytesOf(',"RA":');
const K_Z = bytesOf(',"Z":');
const K_REJECTED = bytesOf(',"rejected":');
const K_RTT = bytesOf(',"rtt":');
const K_QUERY = bytesOf(',"query":');
const K_QCLASS = bytesOf(',"qclass":');
const K_QCLASS_NAME = bytesOf(',"qclass_name":');
const K_QTYPE = bytesOf(',"qtype":');
const K_QTYPE_NAME = bytesOf(',"qtype_name":');
const K_RCODE = bytesOf(',"rcode":');
const K_RCODE_NAME = bytesOf(',"rcode_name":');
const K_ANSWERS = bytesOf(',"answers":[');
const K_TTLS = bytesOf('],"TTLs":[');
const TRUE = bytesOf('true');
const FALSE = bytesOf('false');

/** The fixed text (the keys are 255 bytes) and up to ten numbers. */
const DNS_FIXED_ROOM = 320 + 10 * MAX_NUMBER_TEXT;

/** Room `writeDnsJson` needs for this record. */
export function dnsJsonRoom(r: DnsRecord): number {
  let room = DNS_FIXED_ROOM + r.uid.length + r['id.orig_h'].length + r['id.resp_h'].length + r.proto.length;
  room += 6 * ((r.query?.length ?? 0) + (r.qclass_name?.length ?? 0) + (r.qtype_name?.length ?? 0) + (r.rcode_name?.length ?? 0)) + 8;
  if (r.answers !== undefined) for (const a of r.answers) room += 6 * a.length + 3;
  if (r.TTLs !== undefined) room += r.TTLs.length * (MAX_NUMBER_TEXT + 1);
  return room;
}

const putBool = (buf: Buffer, pos: number, b: boolean): number => putBytes(buf, pos, b ? TRUE : FALSE);

/** JSON.stringify(r) written as bytes into `buf` at `pos` (with dnsJsonRoom(r) bytes of room); returns the end. */
export function writeDnsJson(buf: Buffer, pos: number, r: DnsRecord): number {
  pos = writeRecordHead(buf, pos, K_TS, r);
  pos = putNumber(buf, putBytes(buf, pos, K_TRANS_ID), r.trans_id);
  pos = putBool(buf, putBytes(buf, pos, K_AA), r.AA);
  pos = putBool(buf, putBytes(buf, pos, K_TC), r.TC);
  pos = putBool(buf, putBytes(buf, pos, K_RD), r.RD);
  pos = putBool(buf, putBytes(buf, pos, K_RA), r.RA);
  pos = putNumber(buf, putBytes(buf, pos, K_Z), r.Z);
  pos = putBool(buf, putBytes(buf, pos, K_REJECTED), r.rejected);
  if (r.rtt !== undefined) pos = putNumber(buf, putBytes(buf, pos, K_RTT), r.rtt);
  if (r.query !== undefined) pos = putJsonString(buf, putBytes(buf, pos, K_QUERY), r.query);
  if (r.qclass !== undefined) pos = putNumber(buf, putBytes(buf, pos, K_QCLASS), r.qclass);
  if (r.qclass_name !== undefined) pos = putJsonString(buf, putBytes(buf, pos, K_QCLASS_NAME), r.qclass_name);
  if (r.qtype !== undefined) pos = putNumber(buf, putBytes(buf, pos, K_QTYPE), r.qtype);
  if (r.qtype_name !== undefined) pos = putJsonString(buf, putBytes(buf, pos, K_QTYPE_NAME), r.qtype_name);
  if (r.rcode !== undefined) pos = putNumber(buf, putBytes(buf, pos, K_RCODE), r.rcode);
  if (r.rcode_name !== undefined) pos = putJsonString(buf, putBytes(buf, pos, K_RCODE_NAME), r.rcode_name);
  if (r.answers !== undefined && r.TTLs !== undefined) {
    pos = putBytes(buf, pos, K_ANSWERS);
    for (let i = 0; i < r.answers.length; i++) {
      if (i > 0) buf[pos++] = 0x2c; // ,
      pos = putJsonString(buf, pos, r.answers[i]);
    }
    pos = putBytes(buf, pos, K_TTLS);
    for (let i = 0; i < r.TTLs.length; i++) {
      if (i > 0) buf[pos++] = 0x2c;
      pos = putNumber(buf, pos, r.TTLs[i]);
    }
    buf[pos++] = 0x5d; // ]
  }
  buf[pos++] = 0x7d; // }
  return pos;
}

/**
 * True when `r` is shaped as buildDnsRecord makes dns records (its required fields, of their types): only
 * those go through writeDnsJson; any other object typed 'dns' is left to JSON.stringify.
 */
export function isEngineDnsRecord(r: DnsRecord): boolean {
  return (
    hasRecordHead(r) && typeof r.trans_id === 'number' && typeof r.AA === 'boolean' && typeof r.rejected === 'boolean' &&
    (r.answers === undefined) === (r.TTLs === undefined)
  );
}
