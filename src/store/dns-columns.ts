/**
 * DNS transactions in columns: the engine writes a dns record's fields in one order (src/analyze/apps/dns/
 * zeek-record.ts), with parts present or not (a round-trip time, a question, its class and type, a response
 * code, answers). A record in that order is stored as columns and rebuilt as the same line; one in any other
 * shape (a field this file does not know, an order it does not expect) is kept as JSON instead. It neither
 * reads nor writes the database.
 */
import type { DnsRecord } from '../analyze/records.js';

const BASE = ['type', '_path', 'ts', 'uid', 'id.orig_h', 'id.orig_p', 'id.resp_h', 'id.resp_p', 'proto', 'trans_id', 'AA', 'TC', 'RD', 'RA', 'Z', 'rejected'];
/** The optional parts, in the order they follow BASE; bit i of a shape says part i is there. */
const PARTS = [['rtt'], ['query'], ['qclass', 'qclass_name', 'qtype', 'qtype_name'], ['rcode', 'rcode_name'], ['answers', 'TTLs']];
const shapes: string[][] = [];

function keysOf(shape: number): string[] {
  shapes[shape] ??= [...BASE, ...PARTS.flatMap((part, i) => (shape & (1 << i) ? part : []))];
  return shapes[shape];
}

const isNumber = (x: unknown) => typeof x === 'number';
const isString = (x: unknown) => typeof x === 'string';

/** The record's shape (which parts it has), or -1 when the columns cannot hold it whole (its protocol aside). */
export function dnsShape(d: DnsRecord): number {
  const shape = +('rtt' in d) | (+('query' in d) << 1) | (+('qclass' in d) << 2) | (+('rcode' in d) << 3) | (+('answers' in d) << 4);
  const keys = keysOf(shape);
  let i = 0;
  for (const key in d) if (key !== keys[i++]) return -1;
  if (i !== keys.length) return -1;
  const valuesFit =
    d.type === 'dns' && isNumber(d.ts) && isString(d.uid) && isString(d['id.orig_h']) && isNumber(d['id.orig_p']) && isString(d['id.resp_h']) &&
    isNumber(d['id.resp_p']) && isString(d.proto) && isNumber(d.trans_id) && isNumber(d.Z) && typeof d.AA === 'boolean' &&
    typeof d.TC === 'boolean' && typeof d.RD === 'boolean' && typeof d.RA === 'boolean' && typeof d.rejected === 'boolean' &&
    (!(shape & 1) || isNumber(d.rtt)) && (!(shape & 2) || isString(d.query)) &&
    (!(shape & 4) || (isNumber(d.qclass) && isString(d.qclass_name) && isNumber(d.qtype) && isString(d.qtype_name))) &&
    (!(shape & 8) || (isNumber(d.rcode) && isString(d.rcode_name))) && (!(shape & 16) || (Array.isArray(d.answers) && Array.isArray(d.TTLs)));
  return valuesFit ? shape : -1;
}

/** AA, TC, RD, RA and rejected in one number. */
export function dnsFlags(d: DnsRecord): number {
  return +d.AA | (+d.TC << 1) | (+d.RD << 2) | (+d.RA << 3) | (+d.rejected << 4);
}

/** A stored transaction's values (numbers NaN and strings undefined where absent). */
export interface DnsValues {
  ts: number;
  uid: string;
  origHost: string;
  origPort: number;
  respHost: string;
  respPort: number;
  proto: string;
  transId: number;
  rtt: number;
  query: string | undefined;
  qclass: number;
  qclassName: string | undefined;
  qtype: number;
  qtypeName: string | undefined;
  rcode: number;
  rcodeName: string | undefined;
  z: number;
  flags: number;
  /** JSON of the answers and their TTLs, '' when there were none. */
  answers: string;
  ttls: string;
}

/** The record in the engine's field order. */
export function dnsOfValues(v: DnsValues): DnsRecord {
  const r: DnsRecord = {
    type: 'dns', _path: 'dns', ts: v.ts, uid: v.uid, 'id.orig_h': v.origHost, 'id.orig_p': v.origPort, 'id.resp_h': v.respHost, 'id.resp_p': v.respPort,
    proto: v.proto as DnsRecord['proto'], trans_id: v.transId, AA: (v.flags & 1) !== 0, TC: (v.flags & 2) !== 0, RD: (v.flags & 4) !== 0,
    RA: (v.flags & 8) !== 0, Z: v.z, rejected: (v.flags & 16) !== 0,
  };
  if (v.rtt === v.rtt) r.rtt = v.rtt;
  if (v.query !== undefined) r.query = v.query;
  if (v.qclass === v.qclass) {
    r.qclass = v.qclass;
    r.qclass_name = v.qclassName;
    r.qtype = v.qtype;
    r.qtype_name = v.qtypeName;
  }
  if (v.rcode === v.rcode) {
    r.rcode = v.rcode;
    r.rcode_name = v.rcodeName;
  }
  if (v.answers !== '') {
    r.answers = JSON.parse(v.answers) as string[];
    r.TTLs = JSON.parse(v.ttls) as number[];
  }
  return r;
}
