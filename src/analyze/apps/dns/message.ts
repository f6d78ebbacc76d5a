/**
 * A pure DNS message parser (RFC 1035 + EDNS0, RFC 6891), in the Suricata app-layer manner: bytes in, a
 * result out, never an exception. A failure names a weird and keeps what was parsed before it (a response
 * whose third answer is cut off still yields its first two); anomalies that do not stop parsing (rdata that
 * does not fit its type, a bad EDNS option) are listed in msg.weirds.
 */
import { defineWeird, weirdName } from '../../../decode/weirds.js';
import { NameResult, readName } from './names.js';
import { decodeRdata, rdataNameWeird, type DnsRdata } from './rdata.js';
import { QTYPE } from './type-names.js';

const W_DNS_TRUNCATED_HEADER = defineWeird('dns_truncated_header');
const W_DNS_TRUNCATED_QUESTION = defineWeird('dns_truncated_question');
const W_DNS_TRUNCATED_RR = defineWeird('dns_truncated_rr');
const W_DNS_BAD_RDATA = defineWeird('dns_bad_rdata');
const W_DNS_EDNS_BAD_OPTION = defineWeird('dns_edns_bad_option');
const W_DNS_EDNS_MULTIPLE_OPT = defineWeird('dns_edns_multiple_opt');

export const DNS_HEADER_LENGTH = 12;

export interface DnsQuestion {
  name: string;
  qtype: number;
  /** As on the wire: mDNS sets the top bit for "unicast response wanted". */
  qclass: number;
}

export interface DnsResourceRecord {
  name: string;
  type: number;
  class: number;
  ttl: number;
  /** Offset of the rdata from the start of the message, and its length. */
  rdataOffset: number;
  rdlength: number;
  data: DnsRdata;
  /** The rdata did not fit its type (data is then `unknown`). */
  malformed: boolean;
}

export interface EdnsOption {
  code: number;
  length: number;
}

export interface EdnsInfo {
  udpPayloadSize: number;
  /** Upper 8 bits of the 12-bit rcode. */
  extendedRcode: number;
  version: number;
  /** DO bit: the sender wants DNSSEC records. */
  dnssecOk: boolean;
  /** The 16 flag bits of the OPT TTL (DO is the top one). */
  flags: number;
  options: EdnsOption[];
}

export interface DnsMessage {
  id: number;
  /** The raw 16-bit flags word. */
  flags: number;
  /** True for a response. */
  qr: boolean;
  opcode: number;
  aa: boolean;
  tc: boolean;
  rd: boolean;
  ra: boolean;
  /** The reserved Z bit (0x0040) alone. Zeek's dns.log Z is the three bits Z|AD|CD: see zeekZ. */
  z: number;
  ad: boolean;
  cd: boolean;
  /** 12-bit rcode: the header's 4 bits combined with the EDNS extended bits when an OPT RR is present. */
  rcode: number;
  headerRcode: number;
  qdcount: number;
  ancount: number;
  nscount: number;
  arcount: number;
  questions: DnsQuestion[];
  answers: DnsResourceRecord[];
  authority: DnsResourceRecord[];
  additional: DnsResourceRecord[];
  edns: EdnsInfo | null;
  /** Bytes the parse consumed (a UDP datagram may carry padding after the message). */
  length: number;
  /** Weird names of anomalies that did not stop parsing (one shared empty list until the first: see noteWeird). */
  weirds: readonly string[];
  /** The weird that stopped parsing (the sections hold what came before it), or null for a whole message. */
  error: string | null;
}

export type DnsParseResult =
  | { ok: true; msg: DnsMessage }
  /** msg holds what was parsed before the failure; null when even the header was short. */
  | { ok: false; weird: string; msg: DnsMessage | null };

/** Zeek's dns.log Z: (flags & 0x0070) >> 4, i.e. the reserved bit with AD and CD. */
export function zeekZ(msg: DnsMessage): number {
  return (msg.flags >> 4) & 7;
}

const nameScratch = new NameResult();

/** Parses the message occupying buf[offset, offset + length). */
export function parseDnsMessage(buf: Buffer, offset: number, length: number): DnsParseResult {
  const start = offset;
  const end = Math.min(offset + length, buf.length);
  if (end - start < DNS_HEADER_LENGTH) return { ok: false, weird: weirdName(W_DNS_TRUNCATED_HEADER), msg: null };
  const flags = buf.readUInt16BE(start + 2);
  const msg: DnsMessage = {
    id: buf.readUInt16BE(start),
    flags,
    qr: (flags & 0x8000) !== 0,
    opcode: (flags >> 11) & 0x0f,
    aa: (flags & 0x0400) !== 0,
    tc: (flags & 0x0200) !== 0,
    rd: (flags & 0x0100) !== 0,
    ra: (flags & 0x0080) !== 0,
    z: (flags >> 6) & 1,
    ad: (flags & 0x0020) !== 0,
    cd: (flags & 0x0010) !== 0,
    rcode: flags & 0x0f,
    headerRcode: flags & 0x0f,
    qdcount: buf.readUInt16BE(start + 4),
    ancount: buf.readUInt16BE(start + 6),
    nscount: buf.readUInt16BE(start + 8),
    arcount: buf.readUInt16BE(start + 10),
    questions: [],
    answers: [],
    authority: [],
    additional: [],
    edns: null,
    length: DNS_HEADER_LENGTH,
    weirds: NO_WEIRDS,
    error: null,
  };
  let p = start + DNS_HEADER_LENGTH;
  for (let i = 0; i < msg.qdcount; i++) {
    if (!readName(buf, start, end, p, nameScratch)) return failed(nameScratch.weird, msg, p, start);
    p = nameScratch.end;
    if (end - p < 4) return failed(W_DNS_TRUNCATED_QUESTION, msg, p, start);
    msg.questions.push({ name: nameScratch.name, qtype: buf.readUInt16BE(p), qclass: buf.readUInt16BE(p + 2) });
    p += 4;
  }
  // The three sections in turn, with no array of them per message (most messages are a question and an answer).
  for (let section = 0; section < 3; section++) {
    const into = section === 0 ? msg.answers : section === 1 ? msg.authority : msg.additional;
    const count = section === 0 ? msg.ancount : section === 1 ? msg.nscount : msg.arcount;
    for (let i = 0; i < count; i++) {
      const next = parseRR(buf, start, end, p, msg, into, section === 2);
      if (next < 0) return failed(-next - 1, msg, p, start);
      p = next;
    }
  }
  msg.length = p - start;
  return { ok: true, msg };
}

const NO_WEIRDS: readonly string[] = Object.freeze([]);

/** Lists an anomaly that did not stop parsing (the message's own list is made at the first). */
function noteWeird(msg: DnsMessage, weird: number): void {
  msg.weirds = msg.weirds === NO_WEIRDS ? [weirdName(weird)] : [...msg.weirds, weirdName(weird)];
}

/** msg.length then counts the bytes up to the start of the item that failed. */
function failed(weird: number, msg: DnsMessage, p: number, start: number): DnsParseResult {
  msg.length = p - start;
  msg.error = weirdName(weird);
  return { ok: false, weird: msg.error, msg };
}

/** Parses one RR at p into `into`; returns the offset after it, or -(weird id) - 1 on a fatal error. */
function parseRR(buf: Buffer, start: number, end: number, p: number, msg: DnsMessage, into: DnsResourceRecord[], additional: boolean): number {
  if (!readName(buf, start, end, p, nameScratch)) return -nameScratch.weird - 1;
  p = nameScratch.end;
  if (end - p < 10) return -W_DNS_TRUNCATED_RR - 1;
  const type = buf.readUInt16BE(p);
  const klass = buf.readUInt16BE(p + 2);
  const ttl = buf.readUInt32BE(p + 4);
  const rdlength = buf.readUInt16BE(p + 8);
  const rd = p + 10;
  if (rd + rdlength > end) return -W_DNS_TRUNCATED_RR - 1;
  const rr: DnsResourceRecord = {
    name: nameScratch.name, type, class: klass, ttl, rdataOffset: rd - start, rdlength, data: UNKNOWN, malformed: false,
  };
  if (type === QTYPE.OPT) {
    rr.data = OPT;
    if (additional) readEdns(buf, rd, rd + rdlength, klass, ttl, msg);
  } else {
    const data = decodeRdata(buf, start, type, rd, rd + rdlength);
    if (data === null) {
      rr.malformed = true;
      const nameWeird = rdataNameWeird();
      noteWeird(msg, nameWeird >= 0 ? nameWeird : W_DNS_BAD_RDATA);
    } else {
      rr.data = data;
    }
  }
  into.push(rr);
  return rd + rdlength;
}

const UNKNOWN: DnsRdata = { kind: 'unknown' };
const OPT: DnsRdata = { kind: 'opt' };

function readEdns(buf: Buffer, p: number, end: number, udpSize: number, ttl: number, msg: DnsMessage): void {
  if (msg.edns !== null) {
    noteWeird(msg, W_DNS_EDNS_MULTIPLE_OPT);
    return;
  }
  const extendedRcode = ttl >>> 24;
  const edns: EdnsInfo = {
    udpPayloadSize: udpSize,
    extendedRcode,
    version: (ttl >>> 16) & 0xff,
    dnssecOk: (ttl & 0x8000) !== 0,
    flags: ttl & 0xffff,
    options: [],
  };
  msg.edns = edns;
  msg.rcode = (extendedRcode << 4) | msg.headerRcode;
  while (p < end) {
    if (end - p < 4 || p + 4 + buf.readUInt16BE(p + 2) > end) {
      noteWeird(msg, W_DNS_EDNS_BAD_OPTION);
      return;
    }
    const length = buf.readUInt16BE(p + 2);
    edns.options.push({ code: buf.readUInt16BE(p), length });
    p += 4 + length;
  }
}
