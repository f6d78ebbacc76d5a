/**
 * JA3 / JA3S fingerprints (Salesforce, github.com/salesforce/ja3): the md5 of decimal fields joined by
 * commas, lists joined by dashes, GREASE values removed. Computed once per flow, when the record is built.
 */
import * as crypto from 'node:crypto';
import type { ClientHello, ServerHello } from './hello.js';
import { isGrease } from './names.js';

/** The values joined by dashes, GREASE left out: one string built as it goes (no filtered copy, no join). */
function list(values: readonly number[]): string {
  let out = '';
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (isGrease(v)) continue;
    out = out.length === 0 ? String(v) : `${out}-${v}`;
  }
  return out;
}

/** SSLVersion,Ciphers,Extensions,EllipticCurves,EllipticCurvePointFormats */
export function ja3String(hello: ClientHello): string {
  return `${hello.legacyVersion},${list(hello.cipherSuites)},${list(hello.extensions)},${list(hello.groups)},${list(hello.pointFormats)}`;
}

/** SSLVersion,Cipher,Extensions */
export function ja3sString(hello: ServerHello): string {
  return `${hello.legacyVersion},${hello.cipher},${list(hello.extensions)}`;
}

/** crypto.hash (Node ≥ 20.12) hashes in one call, without a Hash object per fingerprint. */
const oneShot = (crypto as { hash?: (algorithm: string, data: string, encoding: 'hex') => string }).hash;

export function md5Hex(text: string): string {
  return oneShot ? oneShot('md5', text, 'hex') : crypto.createHash('md5').update(text).digest('hex');
}
