/**
 * A pure DNS message parser (RFC 1035 + EDNS0, RFC 6891), in the Suricata app-layer manner: bytes in, a
 * result out, never an exception. A failure names a weird and keeps what was parsed before it (a response
 * whose third answer is cut off still yields its first two); anomalies that do not stop parsing (rdata that
 * does not fit its type, a bad EDNS option) are listed in msg.weirds.
 *
 * Two forms of the same parse. DnsWire, for the packet loop: one reused object per analyzer, filled with the
 * header, counts and offsets into the message's bytes; names and rdata are checked, not decoded, and are read
 * as text only when a record is made (while the bytes are still there). DnsMessage, for tests and hooks: the
 * whole message as objects and strings (parseDnsMessage, made from a DnsWire).
 */
import { defineWeird, weirdName } from '../../../decode/weirds.js';
import { grownColumn } from './columns.js';
import { NameResult, readName } from './names.js';
import { decodeRdata, rdataFits, rdataNameWeird, type DnsRdata } from './rdata.js';
import { QTYPE } from './type-names.js';
import { uint16At, uint32At } from '../../../decode/big-endian.js';

const W_DNS_TRUNCATED_HEADER = defineWeird('DNS_truncated_len_lt_hdr_len');
const W_DNS_TRUNCATED_QUESTION = defineWeird('DNS_truncated_quest_too_short');
const W_DNS_TRUNCATED_RR = defineWeird('DNS_truncated_ans_too_short');
const W_DNS_BAD_RDATA = defineWeird('DNS_RR_length_mismatch');
const W_DNS_EDNS_BAD_OPTION = defineWeird('EDNS_truncated_option');
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
  /** Weird names of anomalies that did not stop parsing (one shared frozen empty list when there are none). */
  weirds: readonly string[];
  /** The weird that stopped parsing (the sections hold what came before it), or null for a whole message. */
  error: string | null;
}

export type DnsParseResult =
  | { ok: true; msg: DnsMessage }
  /** msg holds what was parsed before the failure; null when even the header was short. */
  | { ok: false; weird: string; msg: DnsMessage | null };

/** Zeek's dns.log Z: (flags & 0x0070) >> 4, i.e. the reserved bit with AD and CD. */
export function zeekZ(msg: { flags: number }): number {
  return (msg.flags >> 4) & 7;
}

const nameScratch = new NameResult();
const NO_BYTES = Buffer.alloc(0);

/** Sections of an RR, as DnsWire.section numbers them. */
const ANSWER = 0;
const AUTHORITY = 1;
const ADDITIONAL = 2;

/**
 * One message parsed in place. `parse` fills it again for each message (its arrays grow to the largest
 * message seen and stay); offsets are into `buf`, so the text accessors work only while the caller still
 * holds the message's bytes (during the packet's handling).
 */
export class DnsWire {
  buf: Buffer = NO_BYTES;
  /** The message occupies buf[start, end). */
  start = 0;
  end = 0;
  id = 0;
  /** The raw 16-bit flags word (qr is the top bit, opcode the next four). */
  flags = 0;
  qdcount = 0;
  ancount = 0;
  nscount = 0;
  arcount = 0;
  /** 12-bit rcode: the header's 4 bits combined with the EDNS extended bits when an OPT RR is present. */
  rcode = 0;
  /** Bytes the parse consumed (up to the start of the item that failed, on a failure). */
  length = 0;
  /** Weird id of what stopped parsing, or -1 for a whole message. */
  error = -1;
  /** Anomalies that did not stop parsing, as weird ids: weirds[0, weirdCount). */
  weirdCount = 0;
  weirds = new Int32Array(8);
  /** Questions parsed: name offsets (into buf), types, classes. */
  questionCount = 0;
  qName = new Int32Array(4);
  qType = new Uint16Array(4);
  qClass = new Uint16Array(4);
  /** RRs parsed, answers first, then authority, then additional; answerCount of them are answers. */
  rrCount = 0;
  answerCount = 0;
  authorityCount = 0;
  rrName = new Int32Array(16);
  rrType = new Uint16Array(16);
  rrClass = new Uint16Array(16);
  rrTtl = new Uint32Array(16);
  /** Offset of the rdata in buf (not from the message start), and its length. */
  rrRdata = new Int32Array(16);
  rrRdlength = new Uint16Array(16);
  /** 1: the rdata did not fit its type. */
  rrMalformed = new Uint8Array(16);
  /** The RR that carried the message's EDNS0 OPT (the first in the additional section), or -1. */
  edns = -1;
  /** Well-formed options at the start of that OPT's rdata. */
  ednsOptions = 0;

  get qr(): boolean {
    return (this.flags & 0x8000) !== 0;
  }

  get opcode(): number {
    return (this.flags >> 11) & 0x0f;
  }

  /** Parses the message occupying buf[offset, offset + length); false when even the header is short (error says so). */
  parse(buf: Buffer, offset: number, length: number): boolean {
    const start = offset;
    const end = Math.min(offset + length, buf.length);
    this.buf = buf;
    this.start = start;
    this.end = end;
    this.error = -1;
    this.weirdCount = 0;
    this.questionCount = 0;
    this.rrCount = 0;
    this.answerCount = 0;
    this.authorityCount = 0;
    this.edns = -1;
    this.ednsOptions = 0;
    this.length = 0;
    if (end - start < DNS_HEADER_LENGTH) {
      this.error = W_DNS_TRUNCATED_HEADER;
      return false;
    }
    this.id = uint16At(buf, start);
    this.flags = uint16At(buf, start + 2);
    this.rcode = this.flags & 0x0f;
    this.qdcount = uint16At(buf, start + 4);
    this.ancount = uint16At(buf, start + 6);
    this.nscount = uint16At(buf, start + 8);
    this.arcount = uint16At(buf, start + 10);
    let p = start + DNS_HEADER_LENGTH;
    for (let i = 0; i < this.qdcount; i++) {
      if (!readName(buf, start, end, p, nameScratch, false)) return this.failed(nameScratch.weird, p);
      const name = p;
      p = nameScratch.end;
      if (end - p < 4) return this.failed(W_DNS_TRUNCATED_QUESTION, p);
      if (i === this.qName.length) this.growQuestions();
      this.qName[i] = name;
      this.qType[i] = uint16At(buf, p);
      this.qClass[i] = uint16At(buf, p + 2);
      this.questionCount = i + 1;
      p += 4;
    }
    for (let section = ANSWER; section <= ADDITIONAL; section++) {
      const count = section === ANSWER ? this.ancount : section === AUTHORITY ? this.nscount : this.arcount;
      for (let i = 0; i < count; i++) {
        const next = this.parseRR(p, section);
        if (next < 0) return this.failed(-next - 1, p);
        p = next;
      }
    }
    this.length = p - start;
    return true;
  }

  /** Lets go of the message's bytes (the parse's numbers stay, its text accessors no longer work). */
  release(): void {
    this.buf = NO_BYTES;
  }

  /** The section of RR i: 0 answer, 1 authority, 2 additional. */
  section(i: number): number {
    return i < this.answerCount ? ANSWER : i < this.answerCount + this.authorityCount ? AUTHORITY : ADDITIONAL;
  }

  /** Question i's name as text. */
  questionName(i: number): string {
    return this.nameText(this.qName[i], this.end);
  }

  /** RR i's owner name as text. */
  ownerName(i: number): string {
    return this.nameText(this.rrName[i], this.end);
  }

  /** The name at `pos` (parsed before, so known to be whole) read up to `limit`, as text. */
  nameText(pos: number, limit: number): string {
    readName(this.buf, this.start, limit, pos, nameScratch);
    return nameScratch.name;
  }

  /** RR i as an object, its rdata decoded. */
  resourceRecord(i: number): DnsResourceRecord {
    const type = this.rrType[i];
    const rd = this.rrRdata[i];
    const malformed = this.rrMalformed[i] === 1;
    const data = malformed ? UNKNOWN : type === QTYPE.OPT ? OPT : (decodeRdata(this.buf, this.start, type, rd, rd + this.rrRdlength[i]) as DnsRdata);
    return {
      name: this.ownerName(i), type, class: this.rrClass[i], ttl: this.rrTtl[i], rdataOffset: rd - this.start,
      rdlength: this.rrRdlength[i], data, malformed,
    };
  }

  /** The whole message as objects (for tests and hooks: it makes every string). */
  message(): DnsMessage {
    const flags = this.flags;
    const questions: DnsQuestion[] = [];
    for (let i = 0; i < this.questionCount; i++) questions.push({ name: this.questionName(i), qtype: this.qType[i], qclass: this.qClass[i] });
    const sections: [DnsResourceRecord[], DnsResourceRecord[], DnsResourceRecord[]] = [[], [], []];
    for (let i = 0; i < this.rrCount; i++) sections[this.section(i)].push(this.resourceRecord(i));
    const weirds: string[] = [];
    for (let i = 0; i < this.weirdCount; i++) weirds.push(weirdName(this.weirds[i]));
    return {
      id: this.id,
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
      rcode: this.rcode,
      headerRcode: flags & 0x0f,
      qdcount: this.qdcount,
      ancount: this.ancount,
      nscount: this.nscount,
      arcount: this.arcount,
      questions,
      answers: sections[ANSWER],
      authority: sections[AUTHORITY],
      additional: sections[ADDITIONAL],
      edns: this.edns < 0 ? null : this.ednsInfo(),
      length: this.length,
      weirds: weirds.length === 0 ? NO_WEIRDS : weirds,
      error: this.error < 0 ? null : weirdName(this.error),
    };
  }

  private ednsInfo(): EdnsInfo {
    const ttl = this.rrTtl[this.edns];
    const options: EdnsOption[] = [];
    let p = this.rrRdata[this.edns];
    for (let i = 0; i < this.ednsOptions; i++) {
      const length = this.buf.readUInt16BE(p + 2);
      options.push({ code: this.buf.readUInt16BE(p), length });
      p += 4 + length;
    }
    return {
      udpPayloadSize: this.rrClass[this.edns], extendedRcode: ttl >>> 24, version: (ttl >>> 16) & 0xff,
      dnssecOk: (ttl & 0x8000) !== 0, flags: ttl & 0xffff, options,
    };
  }

  /** length then counts the bytes up to the start of the item that failed. */
  private failed(weird: number, p: number): true {
    this.length = p - this.start;
    this.error = weird;
    return true;
  }

  /** Lists an anomaly that did not stop parsing. */
  private noteWeird(weird: number): void {
    if (this.weirdCount === this.weirds.length) this.weirds = grownColumn(this.weirds);
    this.weirds[this.weirdCount++] = weird;
  }

  /** Parses one RR at p; returns the offset after it, or -(weird id) - 1 on a fatal error. */
  private parseRR(p: number, section: number): number {
    const buf = this.buf;
    const start = this.start;
    const end = this.end;
    if (!readName(buf, start, end, p, nameScratch, false)) return -nameScratch.weird - 1;
    const name = p;
    p = nameScratch.end;
    if (end - p < 10) return -W_DNS_TRUNCATED_RR - 1;
    const type = uint16At(buf, p);
    const klass = uint16At(buf, p + 2);
    const ttl = uint32At(buf, p + 4);
    const rdlength = uint16At(buf, p + 8);
    const rd = p + 10;
    if (rd + rdlength > end) return -W_DNS_TRUNCATED_RR - 1;
    const i = this.rrCount;
    if (i === this.rrName.length) this.growRRs();
    this.rrName[i] = name;
    this.rrType[i] = type;
    this.rrClass[i] = klass;
    this.rrTtl[i] = ttl;
    this.rrRdata[i] = rd;
    this.rrRdlength[i] = rdlength;
    this.rrMalformed[i] = 0;
    this.rrCount = i + 1;
    if (section === ANSWER) this.answerCount++;
    else if (section === AUTHORITY) this.authorityCount++;
    if (type === QTYPE.OPT) {
      if (section === ADDITIONAL) this.readEdns(i, rd, rd + rdlength, ttl);
    } else if (!rdataFits(buf, start, type, rd, rd + rdlength)) {
      this.rrMalformed[i] = 1;
      const nameWeird = rdataNameWeird();
      this.noteWeird(nameWeird >= 0 ? nameWeird : W_DNS_BAD_RDATA);
    }
    return rd + rdlength;
  }

  private readEdns(rr: number, p: number, end: number, ttl: number): void {
    if (this.edns >= 0) {
      this.noteWeird(W_DNS_EDNS_MULTIPLE_OPT);
      return;
    }
    this.edns = rr;
    this.rcode = ((ttl >>> 24) << 4) | (this.flags & 0x0f);
    const buf = this.buf;
    while (p < end) {
      if (end - p < 4 || p + 4 + buf.readUInt16BE(p + 2) > end) {
        this.noteWeird(W_DNS_EDNS_BAD_OPTION);
        return;
      }
      this.ednsOptions++;
      p += 4 + buf.readUInt16BE(p + 2);
    }
  }

  private growQuestions(): void {
    this.qName = grownColumn(this.qName);
    this.qType = grownColumn(this.qType);
    this.qClass = grownColumn(this.qClass);
  }

  private growRRs(): void {
    this.rrName = grownColumn(this.rrName);
    this.rrType = grownColumn(this.rrType);
    this.rrClass = grownColumn(this.rrClass);
    this.rrTtl = grownColumn(this.rrTtl);
    this.rrRdata = grownColumn(this.rrRdata);
    this.rrRdlength = grownColumn(this.rrRdlength);
    this.rrMalformed = grownColumn(this.rrMalformed);
  }
}

const wire = new DnsWire();

/** Parses the message occupying buf[offset, offset + length) into objects. */
export function parseDnsMessage(buf: Buffer, offset: number, length: number): DnsParseResult {
  if (!wire.parse(buf, offset, length)) return { ok: false, weird: weirdName(wire.error), msg: null };
  const msg = wire.message();
  wire.release();
  return msg.error === null ? { ok: true, msg } : { ok: false, weird: msg.error, msg };
}

const NO_WEIRDS: readonly string[] = Object.freeze([]);
const UNKNOWN: DnsRdata = { kind: 'unknown' };
const OPT: DnsRdata = { kind: 'opt' };
