/**
 * JA3 / JA3S fingerprints (Salesforce, github.com/salesforce/ja3): the md5 of decimal fields joined by
 * commas, lists joined by dashes, GREASE values removed. Computed once per hello, when its fields are parsed:
 * the text is written as bytes into a buffer the writer reuses and hashed from there, so the only string
 * made is the md5 the record keeps — and that one only for a text not hashed lately (see DigestMemo).
 */
import * as crypto from 'node:crypto';
import { hashBytes } from '../../../decode/bytes-hash.js';
import type { HelloFields } from './hello.js';
import { isGrease } from './names.js';

const COMMA = 0x2c;
const DASH = 0x2d;
/** A JA3 value is at most 5 digits (all are 16-bit), plus its separator. */
const MAX_ENTRY = 6;

/** crypto.hash (Node ≥ 20.12) hashes in one call, without a Hash object per fingerprint. */
const oneShot = (crypto as { hash?: (algorithm: string, data: Uint8Array, encoding: 'hex') => string }).hash;

function md5(text: Uint8Array): string {
  return oneShot ? oneShot('md5', text, 'hex') : crypto.createHash('md5').update(text).digest('hex');
}

/** Texts remembered with their digests (a power of two), and the longest remembered. */
const MEMO_SLOTS = 256;
const MEMO_TEXT_BYTES = 512;

/**
 * The digests of the fingerprint texts met lately, by text. A network's clients send few distinct hellos
 * (one per TLS library and its settings) and its servers answer with fewer, so nearly every text was hashed
 * before: finding it here (a hash of its bytes, then a comparison with the text kept in its slot) costs a
 * fraction of an md5 call, and hands back the string already made. Direct-mapped: a text evicts the one in
 * its slot; texts longer than MEMO_TEXT_BYTES are always hashed.
 */
export class DigestMemo {
  private readonly texts = new Uint8Array(MEMO_SLOTS * MEMO_TEXT_BYTES);
  /** Per slot: the text's length, 0 while empty. */
  private readonly lengths = new Uint16Array(MEMO_SLOTS);
  private readonly digests: string[] = new Array<string>(MEMO_SLOTS).fill('');

  /** md5 of text[0, length) as hex. */
  digest(text: Uint8Array, length: number): string {
    if (length === 0 || length > MEMO_TEXT_BYTES) return md5(text.subarray(0, length));
    const slot = hashBytes(text, 0, length) & (MEMO_SLOTS - 1);
    const base = slot * MEMO_TEXT_BYTES;
    if (this.lengths[slot] === length && this.holds(base, text, length)) return this.digests[slot];
    const digest = md5(text.subarray(0, length));
    for (let i = 0; i < length; i++) this.texts[base + i] = text[i];
    this.lengths[slot] = length;
    this.digests[slot] = digest;
    return digest;
  }

  private holds(base: number, text: Uint8Array, length: number): boolean {
    const texts = this.texts;
    for (let i = 0; i < length; i++) if (texts[base + i] !== text[i]) return false;
    return true;
  }
}


export class Ja3Writer {
  private out = Buffer.allocUnsafe(1024);
  private len = 0;
  private readonly memo = new DigestMemo();

  /** md5 of SSLVersion,Ciphers,Extensions,EllipticCurves,EllipticCurvePointFormats */
  ja3(f: HelloFields): string {
    this.writeJa3(f);
    return this.md5();
  }

  /** md5 of SSLVersion,Cipher,Extensions */
  ja3s(f: HelloFields): string {
    this.writeJa3s(f);
    return this.md5();
  }

  /** The JA3 text itself (tests). */
  ja3Text(f: HelloFields): string {
    this.writeJa3(f);
    return this.out.toString('latin1', 0, this.len);
  }

  /** The JA3S text itself (tests). */
  ja3sText(f: HelloFields): string {
    this.writeJa3s(f);
    return this.out.toString('latin1', 0, this.len);
  }

  private writeJa3(f: HelloFields): void {
    this.start(4 + f.suiteCount + f.extensionCount + f.groupCount + f.pointFormatCount);
    this.decimal(f.legacyVersion);
    this.list(COMMA, f.suites, f.suiteCount);
    this.list(COMMA, f.extensions, f.extensionCount);
    this.list(COMMA, f.groups, f.groupCount);
    this.list(COMMA, f.pointFormats, f.pointFormatCount);
  }

  private writeJa3s(f: HelloFields): void {
    this.start(2 + f.extensionCount);
    this.decimal(f.legacyVersion);
    this.out[this.len++] = COMMA;
    this.decimal(f.cipher);
    this.list(COMMA, f.extensions, f.extensionCount);
  }

  private start(entries: number): void {
    if (this.out.length < entries * MAX_ENTRY) this.out = Buffer.allocUnsafe(Math.max(entries * MAX_ENTRY, this.out.length * 2));
    this.len = 0;
  }

  /** `before`, then the values joined by dashes, GREASE left out. */
  private list(before: number, values: Uint8Array | Uint16Array | Uint32Array, count: number): void {
    this.out[this.len++] = before;
    let first = true;
    for (let i = 0; i < count; i++) {
      const v = values[i];
      if (isGrease(v)) continue;
      if (!first) this.out[this.len++] = DASH;
      first = false;
      this.decimal(v);
    }
  }

  /**
   * A value in decimal, as String(v) writes it. Values are 16-bit (SSLv2 cipher specs 24-bit), so integer
   * division (`| 0`) is exact, and keeps the loop in 32-bit arithmetic rather than doubles and Math.floor.
   */
  private decimal(v: number): void {
    let digits = 1;
    for (let rest = v | 0; rest >= 10; rest = (rest / 10) | 0) digits++;
    for (let i = this.len + digits - 1, rest = v | 0; i >= this.len; i--, rest = (rest / 10) | 0) this.out[i] = 0x30 + (rest % 10);
    this.len += digits;
  }

  private md5(): string {
    return this.memo.digest(this.out, this.len);
  }
}
