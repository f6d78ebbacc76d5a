/**
 * DNS messages as a resolver and a stub exchange them (RFC 1035), with name compression: every name is
 * written as labels up to the longest suffix already in the message, then a pointer to it.
 * Built once per transaction (not per packet), so plain objects and strings are fine here.
 */

export const DNS_A = 1;
export const DNS_NS = 2;
export const DNS_CNAME = 5;
export const DNS_SOA = 6;
export const DNS_PTR = 12;
export const DNS_MX = 15;
export const DNS_TXT = 16;
export const DNS_AAAA = 28;
export const DNS_OPT = 41;
export const DNS_CLASS_IN = 1;

export const RCODE_NOERROR = 0;
export const RCODE_SERVFAIL = 2;
export const RCODE_NXDOMAIN = 3;

export const DNS_TYPE_NAMES: Readonly<Record<number, string>> = {
  [DNS_A]: 'A', [DNS_NS]: 'NS', [DNS_CNAME]: 'CNAME', [DNS_SOA]: 'SOA', [DNS_PTR]: 'PTR', [DNS_MX]: 'MX',
  [DNS_TXT]: 'TXT', [DNS_AAAA]: 'AAAA', [DNS_OPT]: 'OPT',
};
export const DNS_RCODE_NAMES: Readonly<Record<number, string>> = { 0: 'NOERROR', 1: 'FORMERR', 2: 'SERVFAIL', 3: 'NXDOMAIN', 5: 'REFUSED' };

export type DnsRData =
  | { kind: 'address'; bytes: Uint8Array }
  | { kind: 'name'; name: string }
  | { kind: 'mx'; preference: number; name: string }
  | { kind: 'txt'; strings: string[] }
  | { kind: 'soa'; mname: string; rname: string; serial: number; refresh: number; retry: number; expire: number; minimum: number };

export interface DnsRR {
  name: string;
  type: number;
  ttl: number;
  rdata: DnsRData;
}

export interface DnsQueryOptions {
  /** RD flag (default true, as stub resolvers send). */
  recursionDesired?: boolean;
  /** Adds an EDNS(0) OPT record advertising 1232 bytes. */
  edns?: boolean;
}

export interface DnsResponseOptions extends DnsQueryOptions {
  rcode?: number;
  answers?: readonly DnsRR[];
  authority?: readonly DnsRR[];
  /** RA flag (default true: a recursive resolver answers). */
  recursionAvailable?: boolean;
  authoritative?: boolean;
}

/** A standard query for one name. */
export function dnsQuery(id: number, name: string, qtype: number, options: DnsQueryOptions = {}): Buffer {
  const w = new DnsWriter();
  const rd = options.recursionDesired ?? true;
  w.header(id, rd ? 0x0100 : 0, 1, 0, 0, options.edns ? 1 : 0);
  w.question(name, qtype);
  if (options.edns) w.opt();
  return w.finish();
}

/** The response to `dnsQuery(id, name, qtype)`: the question echoed, then answers and authority. */
export function dnsResponse(id: number, name: string, qtype: number, options: DnsResponseOptions = {}): Buffer {
  const answers = options.answers ?? [];
  const authority = options.authority ?? [];
  let flags = 0x8000; // QR
  if (options.authoritative) flags |= 0x0400;
  if (options.recursionDesired ?? true) flags |= 0x0100;
  if (options.recursionAvailable ?? true) flags |= 0x0080;
  flags |= (options.rcode ?? RCODE_NOERROR) & 0x0f;
  const w = new DnsWriter();
  w.header(id, flags, 1, answers.length, authority.length, options.edns ? 1 : 0);
  w.question(name, qtype);
  for (const rr of answers) w.record(rr);
  for (const rr of authority) w.record(rr);
  if (options.edns) w.opt();
  return w.finish();
}

/** Writes one message into a growing buffer, remembering where each name suffix was written. */
class DnsWriter {
  private buf = Buffer.alloc(512);
  private at = 0;
  private readonly suffixes = new Map<string, number>();

  header(id: number, flags: number, qd: number, an: number, ns: number, ar: number): void {
    this.u16(id);
    this.u16(flags);
    this.u16(qd);
    this.u16(an);
    this.u16(ns);
    this.u16(ar);
  }

  question(name: string, qtype: number): void {
    this.name(name);
    this.u16(qtype);
    this.u16(DNS_CLASS_IN);
  }

  record(rr: DnsRR): void {
    this.name(rr.name);
    this.u16(rr.type);
    this.u16(DNS_CLASS_IN);
    this.u32(rr.ttl);
    const lengthAt = this.at;
    this.u16(0);
    const d = rr.rdata;
    switch (d.kind) {
      case 'address':
        this.bytes(d.bytes);
        break;
      case 'name':
        this.name(d.name);
        break;
      case 'mx':
        this.u16(d.preference);
        this.name(d.name);
        break;
      case 'txt':
        for (const s of d.strings) {
          const b = Buffer.from(s, 'latin1');
          this.u8(Math.min(b.length, 255));
          this.bytes(b.subarray(0, 255));
        }
        break;
      case 'soa':
        this.name(d.mname);
        this.name(d.rname);
        for (const n of [d.serial, d.refresh, d.retry, d.expire, d.minimum]) this.u32(n);
        break;
    }
    this.buf.writeUInt16BE(this.at - lengthAt - 2, lengthAt);
  }

  /** EDNS(0) pseudo-record: root name, UDP payload size 1232 (the DNS flag day value), no options. */
  opt(): void {
    this.u8(0);
    this.u16(DNS_OPT);
    this.u16(1232);
    this.u32(0);
    this.u16(0);
  }

  /** A domain name, compressed against every suffix written before. */
  name(name: string): void {
    const labels = name.length === 0 || name === '.' ? [] : name.replace(/\.$/, '').toLowerCase().split('.');
    for (let i = 0; i < labels.length; i++) {
      const suffix = labels.slice(i).join('.');
      const earlier = this.suffixes.get(suffix);
      if (earlier !== undefined) {
        this.u16(0xc000 | earlier);
        return;
      }
      // Pointers hold 14 bits: suffixes beyond that offset are written but not remembered.
      if (this.at < 0x4000) this.suffixes.set(suffix, this.at);
      const label = Buffer.from(labels[i], 'latin1');
      this.u8(Math.min(label.length, 63));
      this.bytes(label.subarray(0, 63));
    }
    this.u8(0);
  }

  finish(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.at));
  }

  private room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const bigger = Buffer.alloc(Math.max(this.buf.length * 2, this.at + n));
    this.buf.copy(bigger, 0, 0, this.at);
    this.buf = bigger;
  }

  private u8(v: number): void {
    this.room(1);
    this.buf[this.at++] = v;
  }

  private u16(v: number): void {
    this.room(2);
    this.buf.writeUInt16BE(v & 0xffff, this.at);
    this.at += 2;
  }

  private u32(v: number): void {
    this.room(4);
    this.buf.writeUInt32BE(v >>> 0, this.at);
    this.at += 4;
  }

  private bytes(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.at);
    this.at += b.length;
  }
}
