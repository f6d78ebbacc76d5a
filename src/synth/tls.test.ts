import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from './prng.js';
import { tls12ServerFlight, tls13ServerFlight, tlsApplicationData, tlsClientHello } from './tls.js';

/** Walks a ClientHello record field by field (RFC 8446 4.1.2) and returns its extensions by type. */
function parseClientHello(b: Buffer): Map<number, Buffer> {
  assert.equal(b[0], 22, 'handshake record');
  assert.equal(b.readUInt16BE(3), b.length - 5, 'record length covers the rest');
  assert.equal(b[5], 1, 'ClientHello');
  assert.equal(b.readUIntBE(6, 3), b.length - 9, 'handshake length');
  let o = 9 + 2 + 32; // legacy_version, random
  o += 1 + b[o]; // session id
  const suites = b.readUInt16BE(o);
  assert.equal(suites % 2, 0);
  o += 2 + suites;
  o += 1 + b[o]; // compression methods
  const extEnd = o + 2 + b.readUInt16BE(o);
  assert.equal(extEnd, b.length, 'extensions end where the message ends');
  const exts = new Map<number, Buffer>();
  for (o += 2; o < extEnd; ) {
    const len = b.readUInt16BE(o + 2);
    exts.set(b.readUInt16BE(o), b.subarray(o + 4, o + 4 + len));
    o += 4 + len;
  }
  assert.equal(o, extEnd, 'extension lengths add up');
  return exts;
}

test('ClientHello carries the SNI host name and offers TLS 1.3 and 1.2', () => {
  const exts = parseClientHello(tlsClientHello('video.example.org', new Rng(3)));
  const sni = exts.get(0x0000)!;
  assert.equal(sni.readUInt16BE(0), sni.length - 2, 'server_name_list length');
  assert.equal(sni[2], 0, 'host_name');
  assert.equal(sni.toString('ascii', 5, 5 + sni.readUInt16BE(3)), 'video.example.org');
  assert.equal(exts.get(0x002b)!.toString('hex'), '0403040303');
  assert.equal(exts.get(0x0010)!.toString('latin1').includes('http/1.1'), true);
  assert.equal(exts.get(0x0033)!.length, 2 + 2 + 2 + 32, 'one x25519 key share');
});

test('a ClientHello without a name has no server_name extension', () => {
  assert.equal(parseClientHello(tlsClientHello(undefined, new Rng(3))).has(0x0000), false);
});

/** Splits a byte stream into TLS records, checking each header. */
function records(b: Buffer): { type: number; length: number; first: number }[] {
  const out: { type: number; length: number; first: number }[] = [];
  let o = 0;
  while (o < b.length) {
    const length = b.readUInt16BE(o + 3);
    assert.ok(length <= 16384 + 256, 'record within the size limit');
    out.push({ type: b[o], length, first: b[o + 5] });
    o += 5 + length;
  }
  assert.equal(o, b.length, 'records tile the stream exactly');
  return out;
}

test('application data is cut into records of at most 2^14 + 17 bytes that add up to the size asked', () => {
  const recs = records(tlsApplicationData(new Rng(1), 40_000));
  assert.deepEqual(recs.map((r) => r.length), [16401, 16401, 40_000 - 2 * 16401]);
  assert.ok(recs.every((r) => r.type === 23));
});

test('server flights: TLS 1.3 is ServerHello, CCS, encrypted data; TLS 1.2 is one handshake record', () => {
  const v13 = records(tls13ServerFlight(new Rng(2), 3000));
  assert.deepEqual(v13.map((r) => r.type), [22, 20, 23]);
  assert.equal(v13[0].first, 2, 'ServerHello');
  const v12 = records(tls12ServerFlight(new Rng(2)));
  assert.deepEqual(v12.map((r) => r.type), [22]);
});
