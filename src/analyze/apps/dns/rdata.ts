/**
 * RDATA of the RR types Loopy reads. Each decoder gets the RR's bytes buf[start, end) (names inside may point
 * back into the message at msgStart) and returns a typed value, or null when the bytes do not fit the type;
 * the caller then counts a weird and keeps the RR as `unknown`, since rdlength still frames the next RR.
 * rdataFits makes the same checks without building the value (no object, no string): the packet loop checks
 * every RR that way, and decodes only what a record needs, when it is made.
 */
import { formatIPv4, formatIPv6Bytes } from '../../format-address.js';
import { labelText, NameResult, readName } from './names.js';
import { QTYPE } from './type-names.js';
import { uint32At } from '../../../decode/big-endian.js';

export type DnsRdata =
  | { kind: 'a'; address: string }
  | { kind: 'aaaa'; address: string }
  /** NS, CNAME, PTR, DNAME. */
  | { kind: 'name'; name: string }
  | { kind: 'mx'; preference: number; exchange: string }
  /** TXT and SPF: the character-strings as text, with their lengths in bytes. */
  | { kind: 'txt'; strings: string[]; lengths: number[] }
  | { kind: 'soa'; mname: string; rname: string; serial: number; refresh: number; retry: number; expire: number; minimum: number }
  | { kind: 'srv'; priority: number; weight: number; port: number; target: string }
  | { kind: 'caa'; flags: number; tag: string; value: string }
  /** SVCB and HTTPS (RFC 9460); params in presentation form, e.g. alpn=h2,h3 or port=8443. */
  | { kind: 'svcb'; priority: number; target: string; params: string[] }
  | { kind: 'naptr'; order: number; preference: number; flags: string; service: string; regexp: string; replacement: string }
  | { kind: 'hinfo'; cpu: string; os: string }
  | { kind: 'uri'; priority: number; weight: number; target: string }
  | { kind: 'rrsig'; typeCovered: number; algorithm: number; labels: number; originalTtl: number; expiration: number; inception: number; keyTag: number; signer: string }
  | { kind: 'dnskey'; flags: number; protocol: number; algorithm: number }
  | { kind: 'ds'; keyTag: number; algorithm: number; digestType: number }
  | { kind: 'nsec'; next: string }
  | { kind: 'nsec3'; hashAlgorithm: number; flags: number; iterations: number }
  | { kind: 'sshfp'; algorithm: number; fingerprintType: number; fingerprint: string }
  /** EDNS0 pseudo-RR; its fields are in DnsMessage.edns. */
  | { kind: 'opt' }
  /** A type Loopy does not decode, or rdata that did not fit its type (see DnsResourceRecord.malformed). */
  | { kind: 'unknown' };

const nameScratch = new NameResult();
const EMPTY: DnsRdata = { kind: 'unknown' };
/** What the decoders return instead of a value when only checking (rdataFits). */
const FITS: DnsRdata = { kind: 'unknown' };

let lastNameWeird = -1;

/** After decodeRdata returned null: the weird of the name inside the rdata that failed, or -1 when the bytes were simply the wrong shape. */
export function rdataNameWeird(): number {
  return lastNameWeird;
}

export function decodeRdata(buf: Buffer, msgStart: number, type: number, start: number, end: number): DnsRdata | null {
  return rdata(buf, msgStart, type, start, end, true);
}

/** True when decodeRdata would return a value (false: see rdataNameWeird), without making one. */
export function rdataFits(buf: Buffer, msgStart: number, type: number, start: number, end: number): boolean {
  return rdata(buf, msgStart, type, start, end, false) !== null;
}

/** The decoders: with `build` false each checks its bytes as it would decode them and returns FITS. */
function rdata(buf: Buffer, msgStart: number, type: number, start: number, end: number, build: boolean): DnsRdata | null {
  lastNameWeird = -1;
  const len = end - start;
  // Empty rdata is legitimate in UPDATE (RFC 2136 2.5: delete an RRset) and in prerequisites.
  if (len === 0) return EMPTY;
  switch (type) {
    case QTYPE.A:
      if (len !== 4) return null;
      return build ? { kind: 'a', address: formatIPv4(uint32At(buf, start)) } : FITS;
    case QTYPE.AAAA:
      if (len !== 16) return null;
      return build ? { kind: 'aaaa', address: formatIPv6Bytes(buf, start) } : FITS;
    case QTYPE.NS: case QTYPE.CNAME: case QTYPE.PTR: case QTYPE.DNAME: {
      const name = nameAt(buf, msgStart, start, end, build);
      if (name === null || nameScratch.end !== end) return null;
      return build ? { kind: 'name', name } : FITS;
    }
    case QTYPE.MX: {
      if (len < 3) return null;
      const exchange = nameAt(buf, msgStart, start + 2, end, build);
      if (exchange === null) return null;
      return build ? { kind: 'mx', preference: buf.readUInt16BE(start), exchange } : FITS;
    }
    case QTYPE.TXT: case QTYPE.SPF:
      return txt(buf, start, end, build);
    case QTYPE.SOA: {
      const mname = nameAt(buf, msgStart, start, end, build);
      if (mname === null) return null;
      const rname = nameAt(buf, msgStart, nameScratch.end, end, build);
      if (rname === null) return null;
      const p = nameScratch.end;
      if (end - p < 20) return null;
      if (!build) return FITS;
      return {
        kind: 'soa', mname, rname, serial: buf.readUInt32BE(p), refresh: buf.readUInt32BE(p + 4),
        retry: buf.readUInt32BE(p + 8), expire: buf.readUInt32BE(p + 12), minimum: buf.readUInt32BE(p + 16),
      };
    }
    case QTYPE.SRV: {
      if (len < 7) return null;
      const target = nameAt(buf, msgStart, start + 6, end, build);
      if (target === null) return null;
      return build ? { kind: 'srv', priority: buf.readUInt16BE(start), weight: buf.readUInt16BE(start + 2), port: buf.readUInt16BE(start + 4), target } : FITS;
    }
    case QTYPE.CAA: {
      if (len < 2 || 2 + buf[start + 1] > len) return null;
      if (!build) return FITS;
      const tagEnd = start + 2 + buf[start + 1];
      return { kind: 'caa', flags: buf[start], tag: labelText(buf, start + 2, tagEnd), value: labelText(buf, tagEnd, end) };
    }
    case QTYPE.SVCB: case QTYPE.HTTPS:
      return svcb(buf, msgStart, start, end, build);
    case QTYPE.NAPTR:
      return naptr(buf, msgStart, start, end, build);
    case QTYPE.HINFO: {
      const cpuEnd = charStringEnd(buf, start, end);
      if (cpuEnd < 0) return null;
      const osEnd = charStringEnd(buf, cpuEnd, end);
      if (osEnd < 0) return null;
      return build ? { kind: 'hinfo', cpu: labelText(buf, start + 1, cpuEnd), os: labelText(buf, cpuEnd + 1, osEnd) } : FITS;
    }
    case QTYPE.URI:
      if (len < 4) return null;
      return build ? { kind: 'uri', priority: buf.readUInt16BE(start), weight: buf.readUInt16BE(start + 2), target: labelText(buf, start + 4, end) } : FITS;
    case QTYPE.RRSIG: {
      if (len < 19) return null;
      const signer = nameAt(buf, msgStart, start + 18, end, build);
      if (signer === null) return null;
      if (!build) return FITS;
      return {
        kind: 'rrsig', typeCovered: buf.readUInt16BE(start), algorithm: buf[start + 2], labels: buf[start + 3],
        originalTtl: buf.readUInt32BE(start + 4), expiration: buf.readUInt32BE(start + 8),
        inception: buf.readUInt32BE(start + 12), keyTag: buf.readUInt16BE(start + 16), signer,
      };
    }
    case QTYPE.DNSKEY:
      if (len < 4) return null;
      return build ? { kind: 'dnskey', flags: buf.readUInt16BE(start), protocol: buf[start + 2], algorithm: buf[start + 3] } : FITS;
    case QTYPE.DS:
      if (len < 4) return null;
      return build ? { kind: 'ds', keyTag: buf.readUInt16BE(start), algorithm: buf[start + 2], digestType: buf[start + 3] } : FITS;
    case QTYPE.NSEC: {
      const next = nameAt(buf, msgStart, start, end, build);
      if (next === null) return null;
      return build ? { kind: 'nsec', next } : FITS;
    }
    case QTYPE.NSEC3:
      if (len < 5) return null;
      return build ? { kind: 'nsec3', hashAlgorithm: buf[start], flags: buf[start + 1], iterations: buf.readUInt16BE(start + 2) } : FITS;
    case QTYPE.SSHFP:
      if (len < 2) return null;
      return build ? { kind: 'sshfp', algorithm: buf[start], fingerprintType: buf[start + 1], fingerprint: buf.toString('hex', start + 2, end) } : FITS;
    default:
      return build ? { kind: 'unknown' } : FITS;
  }
}

/**
 * A name inside rdata: must end within the rdata; a failure remembers the name's own weird. Without `build`
 * the name is only checked, and "" stands for it.
 */
function nameAt(buf: Buffer, msgStart: number, pos: number, end: number, build: boolean): string | null {
  if (!readName(buf, msgStart, end, pos, nameScratch, build)) {
    lastNameWeird = nameScratch.weird;
    return null;
  }
  return build ? nameScratch.name : '';
}

/** Offset just past the <length><bytes> character-string at `pos`, or -1 when it runs past `end`. */
function charStringEnd(buf: Buffer, pos: number, end: number): number {
  if (pos >= end) return -1;
  const stop = pos + 1 + buf[pos];
  return stop > end ? -1 : stop;
}

/** Offset just past the character-strings that fill buf[pos, end) exactly, or -1 when the last runs past `end`. */
function charStringsEnd(buf: Buffer, pos: number, end: number): number {
  for (let p = pos; p < end; ) {
    const stop = charStringEnd(buf, p, end);
    if (stop < 0) return -1;
    p = stop;
  }
  return end;
}

function txt(buf: Buffer, start: number, end: number, build: boolean): DnsRdata | null {
  if (!build) return charStringsEnd(buf, start, end) < 0 ? null : FITS;
  const strings: string[] = [];
  const lengths: number[] = [];
  for (let p = start; p < end; ) {
    const stop = charStringEnd(buf, p, end);
    if (stop < 0) return null;
    strings.push(labelText(buf, p + 1, stop));
    lengths.push(stop - p - 1);
    p = stop;
  }
  return { kind: 'txt', strings, lengths };
}

function naptr(buf: Buffer, msgStart: number, start: number, end: number, build: boolean): DnsRdata | null {
  if (end - start < 7) return null;
  const flagsEnd = charStringEnd(buf, start + 4, end);
  const serviceEnd = flagsEnd < 0 ? -1 : charStringEnd(buf, flagsEnd, end);
  const regexpEnd = serviceEnd < 0 ? -1 : charStringEnd(buf, serviceEnd, end);
  if (regexpEnd < 0) return null;
  const replacement = nameAt(buf, msgStart, regexpEnd, end, build);
  if (replacement === null) return null;
  if (!build) return FITS;
  return {
    kind: 'naptr', order: buf.readUInt16BE(start), preference: buf.readUInt16BE(start + 2),
    flags: labelText(buf, start + 5, flagsEnd), service: labelText(buf, flagsEnd + 1, serviceEnd),
    regexp: labelText(buf, serviceEnd + 1, regexpEnd), replacement,
  };
}

const SVC_KEY_NAMES = ['mandatory', 'alpn', 'no-default-alpn', 'port', 'ipv4hint', 'ech', 'ipv6hint'];

function svcKeyName(key: number): string {
  return SVC_KEY_NAMES[key] ?? `key${key}`;
}

function svcb(buf: Buffer, msgStart: number, start: number, end: number, build: boolean): DnsRdata | null {
  if (end - start < 3) return null;
  const target = nameAt(buf, msgStart, start + 2, end, build);
  if (target === null) return null;
  const params: string[] | null = build ? [] : null;
  for (let p = nameScratch.end; p < end; ) {
    if (end - p < 4) return null;
    const key = buf.readUInt16BE(p);
    const vlen = buf.readUInt16BE(p + 2);
    const v = p + 4;
    const vend = v + vlen;
    if (vend > end) return null;
    if (!svcParamFits(buf, key, v, vend)) return null;
    if (params !== null) {
      const value = svcParamValue(buf, key, v, vend);
      params.push(value === '' && key === 2 ? svcKeyName(key) : `${svcKeyName(key)}=${value}`);
    }
    p = vend;
  }
  return params === null ? FITS : { kind: 'svcb', priority: buf.readUInt16BE(start), target, params };
}

/** Whether one SvcParam value's bytes fit its key (RFC 9460). */
function svcParamFits(buf: Buffer, key: number, v: number, vend: number): boolean {
  const len = vend - v;
  switch (key) {
    case 0: return len % 2 === 0; // mandatory: list of keys
    case 1: return charStringsEnd(buf, v, vend) >= 0; // alpn: character-strings
    case 2: return len === 0; // no-default-alpn: no value
    case 3: return len === 2; // port
    case 4: return len > 0 && len % 4 === 0; // ipv4hint
    case 6: return len > 0 && len % 16 === 0; // ipv6hint
    default: return true; // ech and unknown keys: any bytes
  }
}

/** RFC 9460 presentation form of one SvcParam value whose bytes fit its key. */
function svcParamValue(buf: Buffer, key: number, v: number, vend: number): string {
  switch (key) {
    case 0: { // mandatory
      const keys: string[] = [];
      for (let p = v; p < vend; p += 2) keys.push(svcKeyName(buf.readUInt16BE(p)));
      return keys.join(',');
    }
    case 1: { // alpn
      const ids: string[] = [];
      for (let p = v; p < vend; ) {
        const stop = charStringEnd(buf, p, vend);
        ids.push(labelText(buf, p + 1, stop));
        p = stop;
      }
      return ids.join(',');
    }
    case 2: // no-default-alpn
      return '';
    case 3: // port
      return String(buf.readUInt16BE(v));
    case 4: { // ipv4hint
      const out: string[] = [];
      for (let p = v; p < vend; p += 4) out.push(formatIPv4(buf.readUInt32BE(p)));
      return out.join(',');
    }
    case 5: // ech: ECHConfigList, base64 in presentation form
      return buf.toString('base64', v, vend);
    case 6: { // ipv6hint
      const out: string[] = [];
      for (let p = v; p < vend; p += 16) out.push(formatIPv6Bytes(buf, p));
      return out.join(',');
    }
    default:
      return buf.toString('hex', v, vend);
  }
}
