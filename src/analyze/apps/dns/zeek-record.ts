/**
 * Builds the dns record (Zeek dns.log fields, scripts/base/protocols/dns/main.zeek) from a query, a response,
 * or both. Answers are written as Zeek's do_reply hooks write them; where Zeek decodes a type but logs
 * nothing (CAA, HINFO, SVCB/HTTPS) or does not decode it (DNAME, URI) we write a short readable form instead
 * of dropping it, since a monitor's user wants to see what came back.
 */
import type { ConnId, DnsRecord } from '../../records.js';
import type { DnsMessage, DnsResourceRecord } from './message.js';
import { zeekZ } from './message.js';
import { qclassName, qtypeName, rcodeName } from './type-names.js';

/** Zeek's TYPE_BINDS: BIND 9's private signing-state record. */
const TYPE_BINDS = 65534;

export interface TimedMessage {
  ts: number;
  msg: DnsMessage;
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
      return d.strings.map((s, i) => `${label} ${d.lengths[i]} ${s}`).join(' ');
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
 * Zeek's rejected: the response carries a question and no RRs at all (its dns_rejected event), or a non-zero
 * rcode and no question (set_session).
 */
export function isRejected(resp: DnsMessage): boolean {
  if (resp.qdcount > 0 && resp.questions.length > 0 && resp.ancount === 0 && resp.nscount === 0 && resp.arcount === 0) return true;
  return resp.rcode !== 0 && resp.qdcount === 0;
}

/** ASCII lower case, as Zeek normalises the query name (bytes above 0x7f are left alone). */
function lowerAscii(s: string): string {
  return /[A-Z]/.test(s) ? s.replace(/[A-Z]+/g, (m) => m.toLowerCase()) : s;
}

/** One dns record from a matched pair, a lone query, or a lone response. */
export function buildDnsRecord(conn: ConnId, query: TimedMessage | null, response: TimedMessage | null): DnsRecord {
  const first = (query ?? response) as TimedMessage;
  const flagsFrom = (response ?? query) as TimedMessage;
  const rec: DnsRecord = {
    type: 'dns',
    ts: first.ts,
    ...conn,
    trans_id: first.msg.id,
    AA: flagsFrom.msg.aa,
    TC: flagsFrom.msg.tc,
    RD: flagsFrom.msg.rd,
    RA: flagsFrom.msg.ra,
    Z: zeekZ(first.msg),
    rejected: response ? isRejected(response.msg) : false,
  };
  // Microseconds, as Zeek writes times; the float difference would show noise digits.
  if (query && response && response.ts > query.ts) rec.rtt = Math.round((response.ts - query.ts) * 1e6) / 1e6;
  const question = query?.msg.questions[0] ?? response?.msg.questions[0];
  if (question) {
    rec.query = lowerAscii(question.name);
    rec.qclass = question.qclass;
    rec.qclass_name = qclassName(question.qclass);
    rec.qtype = question.qtype;
    rec.qtype_name = qtypeName(question.qtype);
  } else if (response && response.msg.answers.length > 0) {
    rec.query = response.msg.answers[0].name; // Zeek's do_reply falls back to the answer's owner name
  }
  if (response) {
    rec.rcode = response.msg.rcode;
    rec.rcode_name = rcodeName(response.msg.rcode);
    const answers: string[] = [];
    const ttls: number[] = [];
    for (const rr of response.msg.answers) {
      const text = formatAnswer(rr);
      if (text === null || text === '') continue;
      answers.push(text);
      ttls.push(rr.ttl);
    }
    if (answers.length > 0) {
      rec.answers = answers;
      rec.TTLs = ttls;
    }
  }
  return rec;
}
