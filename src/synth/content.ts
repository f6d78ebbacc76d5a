/**
 * Filler for payloads: encrypted-looking bytes and HTML-looking text, copied from pools built once from
 * a fixed seed. The session's own generator picks the offsets, so output still depends only on its seed,
 * and megabytes of "ciphertext" cost a memcpy, not a PRNG call per word.
 */
import { Rng } from './prng.js';

const POOL_SIZE = 1 << 20;
let randomPool: Buffer | null = null;
let textPool: Buffer | null = null;

const WORDS = (
  'the network monitor server client request response packet stream flow session update page news ' +
  'report status service system user data time index item list search result help about contact home'
).split(' ');

function pools(): { random: Buffer; text: Buffer } {
  if (!randomPool || !textPool) {
    const rng = new Rng(0x5eed1e55);
    randomPool = rng.bytes(POOL_SIZE);
    // Text the shape of a web page: tags, words, newlines, all printable ASCII.
    const parts: string[] = [];
    let size = 0;
    while (size < POOL_SIZE) {
      let line = `<p class=${rng.pick(WORDS)}>`;
      const n = rng.between(6, 18);
      for (let i = 0; i < n; i++) line += (i ? ' ' : '') + rng.pick(WORDS);
      line += '</p>\n';
      parts.push(line);
      size += line.length;
    }
    textPool = Buffer.from(parts.join(''), 'latin1').subarray(0, POOL_SIZE);
  }
  return { random: randomPool, text: textPool };
}

function fillFrom(pool: Buffer, rng: Rng, buf: Buffer, start: number, end: number): void {
  let at = start;
  while (at < end) {
    const n = Math.min(end - at, 65536);
    const from = rng.int(POOL_SIZE - n);
    pool.copy(buf, at, from, from + n);
    at += n;
  }
}

/** Bytes that look like ciphertext (TLS records, SSH packets, compressed bodies). */
export function fillRandom(rng: Rng, buf: Buffer, start = 0, end = buf.length): void {
  fillFrom(pools().random, rng, buf, start, end);
}

/** Printable HTML-ish text (plain HTTP bodies). */
export function fillText(rng: Rng, buf: Buffer, start = 0, end = buf.length): void {
  fillFrom(pools().text, rng, buf, start, end);
}

export function randomBytes(rng: Rng, n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  fillRandom(rng, b);
  return b;
}

/** Concatenates byte arrays and numbers (one byte each) — for the hand-laid protocol structures. */
export function bytesOf(...parts: (Uint8Array | number | number[])[]): Buffer {
  const flat: Uint8Array[] = [];
  for (const p of parts) {
    if (typeof p === 'number') flat.push(Uint8Array.of(p));
    else if (Array.isArray(p)) flat.push(Uint8Array.from(p));
    else flat.push(p);
  }
  return Buffer.concat(flat);
}

export function u16(v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(v);
  return b;
}

export function u24(v: number): Buffer {
  return Buffer.from([(v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff]);
}

export function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v >>> 0);
  return b;
}

/** A 16-bit length prefix followed by the bytes. */
export function vec16(body: Uint8Array): Buffer {
  return bytesOf(u16(body.length), body);
}
