import { test } from 'node:test';
import assert from 'node:assert/strict';
import { weirdName } from '../../../decode/weirds.js';
import { GREASE_CLIENT_HELLO, SSLV2_CLIENT_HELLO, SSLV2_SERVER_HELLO, TLS13_SERVER_HELLO } from './fixtures/hellos.js';
import { parseClientHello, parseServerHello, parseSslv2ClientHello, parseSslv2ServerHello } from './hello.js';
import { ja3sString, ja3String, md5Hex } from './ja3.js';
import { isGrease, tlsCipherName, tlsVersionName } from './names.js';
import { readFirstHandshake } from './record-layer.js';
import { hex } from '../testing/fake-context.js';

const clientRecord = hex(GREASE_CLIENT_HELLO);
const serverRecord = hex(TLS13_SERVER_HELLO);

test('GREASE ClientHello: fields as tshark -V shows them', () => {
  const r = parseClientHello(clientRecord, 9, 0x1fc);
  assert.equal(r.status, 'ok');
  if (r.status !== 'ok') return;
  const h = r.hello;
  assert.equal(h.legacyVersion, 0x0303);
  assert.equal(h.serverName, 'secure.adnxs.com');
  assert.deepEqual(h.supportedVersions, [0xfafa, 0x0304, 0x0303, 0x0302, 0x0301]);
  assert.equal(h.maxVersion, 0x0304, 'GREASE 0xfafa is not the highest offer');
  assert.deepEqual(h.alpn, ['h2', 'http/1.1']);
  assert.equal(h.cipherSuites.length, 16);
  assert.equal(h.cipherSuites[0], 0x7a7a);
  assert.deepEqual(h.groups, [0x2a2a, 0x001d, 0x0017, 0x0018]);
  assert.deepEqual(h.pointFormats, [0]);
  assert.deepEqual(h.extensions, [23130, 0, 23, 65281, 10, 11, 35, 16, 5, 13, 18, 51, 45, 43, 27, 64250, 21]);
});

test('JA3 drops GREASE and matches tshark (tls.handshake.ja3_full / ja3)', () => {
  const r = parseClientHello(clientRecord, 9, 0x1fc);
  assert.equal(r.status, 'ok');
  if (r.status !== 'ok') return;
  const text = ja3String(r.hello);
  assert.equal(text, '771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53,0-23-65281-10-11-35-16-5-13-18-51-45-43-27-21,29-23-24,0');
  assert.equal(md5Hex(text), 'b32309a26951912be7dba376398abc3b');
});

test('TLS 1.3 ServerHello: supported_versions decides the version; JA3S as tshark', () => {
  const r = parseServerHello(serverRecord, 9, 0x76);
  assert.equal(r.status, 'ok');
  if (r.status !== 'ok') return;
  assert.equal(r.hello.legacyVersion, 0x0303);
  assert.equal(r.hello.version, 0x0304);
  assert.equal(r.hello.cipher, 0x1301);
  assert.equal(r.hello.alpn, undefined);
  assert.equal(ja3sString(r.hello), '771,4865,51-43');
  assert.equal(md5Hex(ja3sString(r.hello)), 'eb1d94daa7e0344597e756a1fb6e7054');
});

test('a ClientHello cut short is ssl_bad_client_hello, except right after the compression methods', () => {
  // Body layout: version 2, random 32, session id 1+32, suites 2+32, compression 1+1 = 103 bytes, then extensions.
  const noExtensions = 103;
  for (let cut = 0; cut < 0x1fc; cut++) {
    const r = parseClientHello(clientRecord, 9, cut);
    if (cut === noExtensions) {
      assert.equal(r.status, 'ok');
      if (r.status === 'ok') assert.deepEqual(r.hello.extensions, []);
    } else {
      assert.equal(r.status === 'error' && weirdName(r.weird), 'ssl_bad_client_hello', `cut at ${cut}`);
    }
  }
});

test('an SNI entry whose length runs past its extension is ssl_bad_client_hello', () => {
  const broken = Buffer.from(clientRecord);
  // The server_name extension starts at record offset 0xb0-0x0e: 00 00 | 00 15 | 00 13 | 00 | 00 10 "secure.adnxs.com".
  const sniLengthAt = clientRecord.indexOf(hex('00 00 10 73 65 63 75 72 65')) + 1;
  broken.writeUInt16BE(0x40, sniLengthAt);
  const r = parseClientHello(broken, 9, 0x1fc);
  assert.equal(r.status === 'error' && weirdName(r.weird), 'ssl_bad_client_hello');
});

test('garbage never throws: random bytes through the record layer and both hello parsers', () => {
  let seed = 12345;
  const next = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 16;
  let errors = 0;
  for (let i = 0; i < 2000; i++) {
    const bytes = Buffer.alloc(next() % 300);
    for (let j = 0; j < bytes.length; j++) bytes[j] = next() & 0xff;
    if (i % 2 === 0 && bytes.length > 9) bytes.set([0x16, 0x03, 0x01], 0); // half look like handshake records
    readFirstHandshake(bytes, 0, bytes.length);
    const c = parseClientHello(bytes, 0, bytes.length);
    const s = parseServerHello(bytes, 0, bytes.length);
    if (c.status === 'error') errors++;
    assert.ok(s.status === 'ok' || s.status === 'error');
  }
  assert.ok(errors > 1500, `random bytes should rarely parse as a ClientHello (${errors} errors)`);
});

test('SSLv2 hellos from tcp/zeek__tls-ssl-v2.pcap', () => {
  const c = hex(SSLV2_CLIENT_HELLO);
  const ch = parseSslv2ClientHello(c, 3, c.length - 3);
  assert.equal(ch.status, 'ok');
  if (ch.status === 'ok') {
    assert.equal(ch.hello.legacyVersion, 0x0002);
    assert.equal(ch.hello.cipherSuites.length, 7);
    assert.equal(ch.hello.cipherSuites[0], 0x0700c0); // SSL2_DES_192_EDE3_CBC_WITH_MD5
  }
  const s = hex(SSLV2_SERVER_HELLO);
  const sh = parseSslv2ServerHello(s, 3, s.length - 3);
  assert.equal(sh.status, 'ok');
  if (sh.status === 'ok') assert.equal(sh.hello.version, 0x0002);
  const short = parseSslv2ServerHello(s, 3, 40);
  assert.equal(short.status === 'error' && weirdName(short.weird), 'ssl_bad_server_hello');
});

test('version and cipher names as Zeek writes them', () => {
  assert.equal(tlsVersionName(0x0300), 'SSLv3');
  assert.equal(tlsVersionName(0x0301), 'TLSv10');
  assert.equal(tlsVersionName(0x0302), 'TLSv11');
  assert.equal(tlsVersionName(0x0303), 'TLSv12');
  assert.equal(tlsVersionName(0x0304), 'TLSv13');
  assert.equal(tlsVersionName(0x7f1c), 'TLSv13-draft28');
  assert.equal(tlsVersionName(0x1234), 'unknown-4660');
  assert.equal(tlsCipherName(0x1301), 'TLS_AES_128_GCM_SHA256');
  assert.equal(tlsCipherName(0xffee), 'unknown-65518');
  assert.ok(isGrease(0x0a0a) && isGrease(0xfafa) && isGrease(0x7a7a));
  assert.ok(!isGrease(0x0a1a) && !isGrease(0x0304) && !isGrease(0x1a0a));
});
