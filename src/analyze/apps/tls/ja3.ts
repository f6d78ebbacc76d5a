/**
 * JA3 / JA3S fingerprints (Salesforce, github.com/salesforce/ja3): the md5 of decimal fields joined by
 * commas, lists joined by dashes, GREASE values removed. Computed once per hello, when its fields are parsed:
 * the text is written as bytes into a buffer the writer reuses. A server's clients are mostly the same few
 * programs, so the same texts come again and again: each text's md5 is remembered (a bounded table), and a
 * text seen before costs a look-up instead of a hash (crypto.hash is ~0.7 µs a call, two per TLS flow).
 */
import * as crypto from 'node:crypto';
import type { HelloFields } from './hello.js';
import { isGrease } from './names.js';

const COMMA = 0x2c;
const DASH = 0x2d;
/** A JA3 value is at most 5 digits (all are 16-bit), plus its separator. */
const MAX_ENTRY = 6;
/**
 * Fingerprints remembered, at most; past it the table starts again (a client that shuffles its extensions,
 * as Chrome does, makes a new text per connection: those are hashed as before, one look-up more).
 */
const MAX_REMEMBERED = 1024;

/** crypto.hash (Node ≥ 20.12) hashes in one call, without a Hash object per fingerprint. */
const oneShot = (crypto as { hash?: (algorithm: string, data: Uint8Array, encoding: 'hex') => string }).hash;

export class Ja3Writer {
  private out = Buffer.allocUnsafe(1024);
  private len = 0;
  /** md5 by fingerprint text (latin1), JA3 and JA3S alike. */
  private readonly remembered = new Map<string, string>();

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

  /** A 16-bit value in decimal, as String(v) writes it. */
  private decimal(v: number): void {
    let digits = 1;
    for (let rest = v; rest >= 10; rest = Math.floor(rest / 10)) digits++;
    for (let i = this.len + digits - 1; i >= this.len; i--) {
      this.out[i] = 0x30 + (v % 10);
      v = Math.floor(v / 10);
    }
    this.len += digits;
  }

  /** The md5 of the text written: remembered, or hashed (and remembered). */
  private md5(): string {
    const key = this.out.toString('latin1', 0, this.len);
    let md5 = this.remembered.get(key);
    if (md5 === undefined) {
      md5 = md5Hex(this.out.subarray(0, this.len));
      if (this.remembered.size >= MAX_REMEMBERED) this.remembered.clear();
      this.remembered.set(key, md5);
    }
    return md5;
  }
}

function md5Hex(text: Buffer): string {
  return oneShot ? oneShot('md5', text, 'hex') : crypto.createHash('md5').update(text).digest('hex');
}
