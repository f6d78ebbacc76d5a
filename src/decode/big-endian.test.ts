import { test } from 'node:test';
import assert from 'node:assert/strict';
import { uint16At, uint32At } from './big-endian.js';

test('uint16At and uint32At read as Buffer.readUInt16BE / readUInt32BE do, at every offset of random bytes', () => {
  const buf = Buffer.alloc(4096);
  let x = 0x9e3779b9;
  for (let i = 0; i < buf.length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    buf[i] = x >>> 24;
  }
  buf.fill(0xff, 0, 8); // the largest values, where a signed shift would go negative
  for (let at = 0; at + 4 <= buf.length; at++) {
    assert.equal(uint16At(buf, at), buf.readUInt16BE(at), `uint16 at ${at}`);
    assert.equal(uint32At(buf, at), buf.readUInt32BE(at), `uint32 at ${at}`);
  }
});
