/**
 * Builds the dns record (Zeek dns.log fields, scripts/base/protocols/dns/main.zeek) from a query, a response,
 * or both. Answers are written as Zeek's do_reply hooks write them; where Zeek decodes a type but logs
 * nothing (CAA, HINFO, SVCB/HTTPS) or does not decode it (DNAME, URI) we write a short readable form instead
 * of dropping it, since a monitor's user wants to see what came back.
 */
import { formatIPv4, formatIPv6Bytes } from '../../format-address.js';
import { setRecordHead, type ConnId, type DnsRecord } from '../../records.js';
import type { DnsResourceRecord, DnsWire } from './message.js';
import { qclassName, QTYPE, qtypeName, rcodeName } from './type-names.js';

/** Zeek's TYPE_BINDS: BIND 9's private signing-state record. */
const TYPE_BINDS = 65534;

/** What a dns record needs of its query, copied out of the message when it is seen (its bytes do not stay). */
export interface DnsQueryFields {
  ts: number;
  id: number;
  flags: number;
  /** The first question, or qtype -1 (and name "") when the query had none. */
  name: string;
  qtype: number;
  qclass: number;
}

/** The query fields of the message in `w`, seen at `ts`, written into `out`. */
export function queryFieldsOf(w: DnsWire, ts: number, out: DnsQueryFields = { ts: 0, id: 0, flags: 0, name: '', qtype: -1, qclass: 0 }): DnsQueryFields {
  out.ts = ts;
  out.id = w.id;
  out.flags = w.flags;
  const question = w.questionCount > 0;
  out.name = question ? w.questionName(0) : '';
  out.qtype = question ? w.qType[0] : -1;
  out.qclass = question ? w.qClass[0] : 0;
  return out;
}

/** The answer text for one RR, or null when Zeek would log nothing for it (OPT, WKS). */
export function formatAnswer(rr: DnsResourceRecord): string | null {
  const d = rr.data;
  switch (d.kind) {
    case 'a': case 'aaaa': return d.address;
    case 'name': return d.name;
    case 'mx': return d.exchange;
    case 'soa': return d.mname;
    case 'srv': return d.target;
    case 'txt': {
      const label = rr.type === 99 ? 'SPF' : 'TXT';
      let text = '';
      for (let i = 0; i < d.strings.length; i++) text += `${i > 0 ? ' ' : ''}${label} ${d.lengths[i]} ${d.strings[i]}`;
      return text;
    }
    case 'naptr': {
      let tail = d.regexp;
      if (d.replacement.length > 0) tail += (tail.length > 0 ? ' ' : '') + d.replacement;
      return `NAPTR ${d.order} ${d.preference} ${d.flags} ${d.service} ${tail}`;
    }
    case 'rrsig': return `RRSIG ${d.typeCovered} ${d.signer === '' ? '<Root>' : d.signer}`;
    case 'dnskey': return `DNSKEY ${d.algorithm}`;
    case 'ds': return `DS ${d.algorithm} ${d.digestType}`;
    case 'nsec': return `NSEC ${rr.name} ${d.next}`;
    case 'nsec3': return 'NSEC3';
    case 'sshfp': return `SSHFP: ${d.fingerprint}`;
    case 'caa': return `CAA ${d.flags} ${d.tag} ${d.value}`;
    case 'hinfo': return `HINFO ${d.cpu} ${d.os}`;
    case 'uri': return `URI ${d.priority} ${d.weight} ${d.target}`;
    case 'svcb': {
      const head = `${rr.type === 65 ? 'HTTPS' : 'SVCB'} ${d.priority} ${d.target === '' ? '.' : d.target}`;
      return d.params.length > 0 ? `${head} ${d.params.join(' ')}` : head;
    }
    case 'opt': return null;
    case 'unknown':
      if (rr.type === 11) return null; // WKS: Zeek logs an empty reply, i.e. nothing
      if (rr.type === 51 && !rr.malformed) return 'NSEC3PARAM';
      if (rr.type === TYPE_BINDS) return 'BIND9 signing signal';
      return `<unknown type=${rr.type}>`;
  }
}

/**
 * The answer text of answer i of the response in `w` (formatAnswer's text): the types whose answer is one
 * address or name are read straight from the bytes, the others decoded first.
 */
function answerText(w: DnsWire, i: number): string | null {
  const rd = w.rrRdata[i];
  const end = rd + w.rrRdlength[i];
  // Empty rdata decodes as unknown whatever the type; malformed rdata is unknown too.
  if (w.rrMalformed[i] === 0 && end > rd) {
    switch (w.rrType[i]) {
      case QTYPE.A: return formatIPv4(w.buf.readUInt32BE(rd));
      case QTYPE.AAAA: return formatIPv6Bytes(w.buf, rd);
      case QTYPE.NS: case QTYPE.CNAME: case QTYPE.PTR: case QTYPE.DNAME: case QTYPE.SOA: return w.nameText(rd, end);
      case QTYPE.MX: return w.nameText(rd + 2, end);
      case QTYPE.SRV: return w.nameText(rd + 6, end);
    }
  }
  return formatAnswer(w.resourceRecord(i));
}

/**
 * Zeek's rejected: the response carries a question and no RRs at all (its dns_rejected event), or a non-zero
 * rcode and no question (set_session).
 */
export function isRejected(resp: DnsWire): boolean {
  if (resp.qdcount > 0 && resp.questionCount > 0 && resp.ancount === 0 && resp.nscount === 0 && resp.arcount === 0) return true;
  return resp.rcode !== 0 && resp.qdcount === 0;
}

/** ASCII lower case, as Zeek normalises the query name (bytes above 0x7f are left alone). */
function lowerAscii(s: string): string {
  return /[A-Z]/.test(s) ? s.replace(/[A-Z]+/g, (m) => m.toLowerCase()) : s;
}

/** Answer texts and TTLs of the record being made, copied out at their exact length. */
const answerTexts: string[] = [];
const answerTtls: number[] = [];

/** One dns record from a matched pair, a lone query, or a lone response (`response` parsed, seen at `responseTs`, its bytes still at hand). */
export function buildDnsRecord(conn: ConnId, query: DnsQueryFields | null, response: DnsWire | null, responseTs: number): DnsRecord {
  return new DnsRecordObject(conn, query, response, responseTs);
}

/**
 * Makes the record as a plain object (its prototype Object.prototype, as a literal's is) with every field
 * inside it: V8 sizes a constructor's objects by the fields the constructor assigns, optional ones included,
 * whereas fields added to an object literal after it is made go to an array of their own, made again as it
 * grows (about 300 bytes a record). Fields in the order store/dns-columns.ts expects.
 */
const DnsRecordObject = function (this: DnsRecord, conn: ConnId, query: DnsQueryFields | null, response: DnsWire | null, responseTs: number) {
  const firstFlags = query !== null ? query.flags : (response as DnsWire).flags;
  const flags = response !== null ? response.flags : firstFlags;
  setRecordHead(this, 'dns', 'dns', query !== null ? query.ts : responseTs, conn);
  this.trans_id = query !== null ? query.id : (response as DnsWire).id;
  this.AA = (flags & 0x0400) !== 0;
  this.TC = (flags & 0x0200) !== 0;
  this.RD = (flags & 0x0100) !== 0;
  this.RA = (flags & 0x0080) !== 0;
  this.Z = (firstFlags >> 4) & 7; // zeekZ of the first message
  this.rejected = response !== null && isRejected(response);
  // Microseconds, as Zeek writes times; the float difference would show noise digits.
  if (query !== null && response !== null && responseTs > query.ts) this.rtt = Math.round((responseTs - query.ts) * 1e6) / 1e6;
  const fromQuery = query !== null && query.qtype >= 0;
  if (fromQuery || (response !== null && response.questionCount > 0)) {
    const qtype = fromQuery ? query.qtype : (response as DnsWire).qType[0];
    const qclass = fromQuery ? query.qclass : (response as DnsWire).qClass[0];
    this.query = lowerAscii(fromQuery ? query.name : (response as DnsWire).questionName(0));
    this.qclass = qclass;
    this.qclass_name = qclassName(qclass);
    this.qtype = qtype;
    this.qtype_name = qtypeName(qtype);
  } else if (response !== null && response.answerCount > 0) {
    this.query = response.ownerName(0); // Zeek's do_reply falls back to the answer's owner name
  }
  if (response !== null) {
    this.rcode = response.rcode;
    this.rcode_name = rcodeName(response.rcode);
    let n = 0;
    for (let i = 0; i < response.answerCount; i++) {
      const text = answerText(response, i);
      if (text === null || text === '') continue;
      answerTexts[n] = text;
      answerTtls[n++] = response.rrTtl[i];
    }
    if (n > 0) {
      this.answers = answerTexts.slice(0, n);
      this.TTLs = answerTtls.slice(0, n);
      answerTexts.fill('', 0, n);
    }
  }
} as unknown as new (conn: ConnId, query: DnsQueryFields | null, response: DnsWire | null, responseTs: number) => DnsRecord;
DnsRecordObject.prototype = Object.prototype;
