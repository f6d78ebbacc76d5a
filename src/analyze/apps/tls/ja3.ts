/**
 * JA3 / JA3S fingerprints (Salesforce, github.com/salesforce/ja3): the md5 of decimal fields joined by
 * commas, lists joined by dashes, GREASE values removed. Computed once per hello, when its fields are parsed:
 * the text is written as bytes into a buffer the writer reuses and hashed from there, so the only string
 * made is the md5 the record keeps.
 */
import * as crypto from 'node:crypto';
import type { HelloFields } from './hello.js';
import { isGrease } from './names.js';

const COMMA = 0x2c;
const DASH = 0x2d;
/** A JA3 value is at most 5 digits (all are 16-bit), plus its separator. */
const MAX_ENTRY = 6;

/** crypto.hash (Node ≥ 20.12) hashes in one call, without a Hash object per fingerprint. */
const oneShot = (crypto as { hash?: (algorithm: string, data: Uint8Array, encoding: 'hex') => string }).hash;

export class Ja3Writer {
  private out = Buffer.allocUnsafe(1024);
  private len = 0;

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
    const text = this.out.subarray(0, this.len);
    return oneShot ? oneShot('md5', text, 'hex') : crypto.createHash('md5').update(text).digest('hex');
  }
}
