import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { weirdName } from '../../../decode/weirds.js';
import { GREASE_CLIENT_HELLO, SSLV2_CLIENT_HELLO, SSLV2_SERVER_HELLO, TLS13_SERVER_HELLO } from './fixtures/hellos.js';
import { alpnList, escapedText, HELLO_OK, HelloFields, parseClientHello, parseServerHello, parseSslv2ClientHello, parseSslv2ServerHello } from './hello.js';
import { DigestMemo, Ja3Writer } from './ja3.js';
import { isGrease, tlsCipherName, tlsVersionName } from './names.js';
import { FirstHandshake, readFirstHandshake } from './record-layer.js';
import { hex } from '../testing/fake-context.js';

const clientRecord = hex(GREASE_CLIENT_HELLO);
const serverRecord = hex(TLS13_SERVER_HELLO);
const f = new HelloFields();
const ja3 = new Ja3Writer();
const values = (list: Uint8Array | Uint16Array | Uint32Array, count: number): number[] => Array.from(list.subarray(0, count));

test('GREASE ClientHello: fields as tshark -V shows them', () => {
  assert.equal(parseClientHello(clientRecord, 9, 0x1fc, f), HELLO_OK);
  assert.equal(f.legacyVersion, 0x0303);
  assert.equal(escapedText(clientRecord, f.serverNameAt, f.serverNameLength), 'secure.adnxs.com');
  // supported_versions offers 0xfafa, 0x0304, 0x0303, 0x0302, 0x0301.
  assert.equal(f.version, 0x0304, 'GREASE 0xfafa is not the highest offer');
  assert.deepEqual(alpnList(f, clientRecord), ['h2', 'http/1.1']);
  assert.equal(f.suiteCount, 16);
  assert.equal(f.suites[0], 0x7a7a);
  assert.deepEqual(values(f.groups, f.groupCount), [0x2a2a, 0x001d, 0x0017, 0x0018]);
  assert.deepEqual(values(f.pointFormats, f.pointFormatCount), [0]);
  assert.deepEqual(values(f.extensions, f.extensionCount), [23130, 0, 23, 65281, 10, 11, 35, 16, 5, 13, 18, 51, 45, 43, 27, 64250, 21]);
});

test('JA3 drops GREASE and matches tshark (tls.handshake.ja3_full / ja3)', () => {
  assert.equal(parseClientHello(clientRecord, 9, 0x1fc, f), HELLO_OK);
  const text = ja3.ja3Text(f);
  assert.equal(text, '771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53,0-23-65281-10-11-35-16-5-13-18-51-45-43-27-21,29-23-24,0');
  assert.equal(ja3.ja3(f), 'b32309a26951912be7dba376398abc3b');
});

test('the digest memo gives every text its own md5: texts sharing a slot, evicted, met again, too long to keep', () => {
  const memo = new DigestMemo();
  // 2,000 texts over 256 slots: most slots are shared, so a memo answering by slot alone would be caught.
  const texts = Array.from({ length: 2000 }, (_, i) => Buffer.from(`771,${i}-${(i * 7919) % 65536},0-23-65281,29-23,0`));
  texts.push(Buffer.from('771,' + '4865-'.repeat(120) + '0'), Buffer.from('771,0'));
  const trailing = Buffer.from(',0-23 bytes the writer left after the text');
  for (let round = 0; round < 3; round++) {
    for (const text of texts) {
      assert.equal(memo.digest(Buffer.concat([text, trailing]), text.length), createHash('md5').update(text).digest('hex'), `${text.toString().slice(0, 40)} (round ${round})`);
    }
  }
});

test('TLS 1.3 ServerHello: supported_versions decides the version; JA3S as tshark', () => {
  assert.equal(parseServerHello(serverRecord, 9, 0x76, f), HELLO_OK);
  assert.equal(f.legacyVersion, 0x0303);
  assert.equal(f.version, 0x0304);
  assert.equal(f.cipher, 0x1301);
  assert.equal(f.alpnCount, 0);
  assert.equal(ja3.ja3sText(f), '771,4865,51-43');
  assert.equal(ja3.ja3s(f), 'eb1d94daa7e0344597e756a1fb6e7054');
});

test('a ClientHello cut short is ssl_bad_client_hello, except right after the compression methods', () => {
  // Body layout: version 2, random 32, session id 1+32, suites 2+32, compression 1+1 = 103 bytes, then extensions.
  const noExtensions = 103;
  for (let cut = 0; cut < 0x1fc; cut++) {
    const r = parseClientHello(clientRecord, 9, cut, f);
    if (cut === noExtensions) {
      assert.equal(r, HELLO_OK);
      assert.equal(f.extensionCount, 0);
    } else {
      assert.equal(r !== HELLO_OK && weirdName(r), 'ssl_bad_client_hello', `cut at ${cut}`);
    }
  }
});

test('an SNI entry whose length runs past its extension is ssl_bad_client_hello', () => {
  const broken = Buffer.from(clientRecord);
  // The server_name extension starts at record offset 0xb0-0x0e: 00 00 | 00 15 | 00 13 | 00 | 00 10 "secure.adnxs.com".
  const sniLengthAt = clientRecord.indexOf(hex('00 00 10 73 65 63 75 72 65')) + 1;
  broken.writeUInt16BE(0x40, sniLengthAt);
  const r = parseClientHello(broken, 9, 0x1fc, f);
  assert.equal(r !== HELLO_OK && weirdName(r), 'ssl_bad_client_hello');
});

test('garbage never throws: random bytes through the record layer and both hello parsers', () => {
  let seed = 12345;
  const next = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 16;
  let errors = 0;
  for (let i = 0; i < 2000; i++) {
    const bytes = Buffer.alloc(next() % 300);
    for (let j = 0; j < bytes.length; j++) bytes[j] = next() & 0xff;
    if (i % 2 === 0 && bytes.length > 9) bytes.set([0x16, 0x03, 0x01], 0); // half look like handshake records
    readFirstHandshake(bytes, 0, bytes.length, new FirstHandshake());
    if (parseClientHello(bytes, 0, bytes.length, f) !== HELLO_OK) errors++;
    parseServerHello(bytes, 0, bytes.length, f);
  }
  assert.ok(errors > 1500, `random bytes should rarely parse as a ClientHello (${errors} errors)`);
});

test('SSLv2 hellos from tcp/zeek__tls-ssl-v2.pcap', () => {
  const c = hex(SSLV2_CLIENT_HELLO);
  assert.equal(parseSslv2ClientHello(c, 3, c.length - 3, f), HELLO_OK);
  assert.equal(f.sslv2, true);
  assert.equal(f.legacyVersion, 0x0002);
  assert.equal(f.suiteCount, 7);
  assert.equal(f.suites[0], 0x0700c0); // SSL2_DES_192_EDE3_CBC_WITH_MD5
  const s = hex(SSLV2_SERVER_HELLO);
  assert.equal(parseSslv2ServerHello(s, 3, s.length - 3, f), HELLO_OK);
  assert.equal(f.version, 0x0002);
  assert.equal(f.cipher, -1);
  const short = parseSslv2ServerHello(s, 3, 40, f);
  assert.equal(short !== HELLO_OK && weirdName(short), 'ssl_bad_server_hello');
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

test('names: printable ASCII as-is, anything else (and the backslash) as \\xNN, as Zeek writes them', () => {
  const bytes = Buffer.from([0x78, 0x61, 0x2e, 0x63, 0x6f, 0x6d, 0x5c, 0x01, 0xff, 0x20, 0x7e]);
  assert.equal(escapedText(bytes, 0, 6), 'xa.com');
  assert.equal(escapedText(bytes, 1, 10), 'a.com\\x5c\\x01\\xff ~');
  assert.equal(escapedText(bytes, 3, 0), '');
});
