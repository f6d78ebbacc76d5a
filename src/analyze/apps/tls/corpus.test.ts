/**
 * Golden run: every TLS flow of the corpus captures listed in fixtures/tshark-hellos.tsv (tshark's view of
 * each stream's first ClientHello and ServerHello) must come out as one tls record with the same facts.
 * The captures run through the real reader and engine with every default analyzer, as `loopy read` runs them.
 * The fixture is read from src/, also when the test runs from dist/.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { corpusPath, corpusSkipReason, projectRoot } from '../../../test-support/corpus.js';
import { runCapture } from '../testing/capture-run.js';
import { tlsRegistration, type TlsFlowRecord } from './index.js';
import { isGrease, tlsCipherName, tlsVersionName, versionRank } from './names.js';

interface Expected {
  file: string;
  clientPort: number;
  serverPort: number;
  sni: string;
  clientVersion: string;
  clientSupported: string;
  clientCiphers: string;
  clientAlpn: string;
  ja3: string;
  serverVersion: string;
  serverSupported: string;
  serverCipher: string;
  serverAlpn: string;
  ja3s: string;
}

function loadReference(): Expected[] {
  const text = readFileSync(join(projectRoot, 'src/analyze/apps/tls/fixtures/tshark-hellos.tsv'), 'utf8');
  return text
    .split('\n')
    .filter((line) => line.length > 0 && !line.startsWith('#'))
    .map((line) => {
      const c = line.split('\t');
      return {
        file: c[0], clientPort: Number(c[1]), serverPort: Number(c[2]), sni: c[3], clientVersion: c[4], clientSupported: c[5],
        clientCiphers: c[6], clientAlpn: c[7], ja3: c[8], serverVersion: c[9], serverSupported: c[10], serverCipher: c[11], serverAlpn: c[12], ja3s: c[13],
      };
    });
}

/** The version a tls record should carry, from tshark's numbers (the server's choice, else the client's best). */
function expectedVersion(e: Expected): string {
  if (e.serverVersion !== '') return tlsVersionName(Number(e.serverSupported || e.serverVersion));
  const offers = (e.clientSupported || e.clientVersion).split(',').map(Number).filter((v) => !isGrease(v));
  return tlsVersionName(offers.reduce((a, b) => (versionRank(b) > versionRank(a) ? b : a)));
}

test('tls records match tshark for every TLS flow of the corpus', { skip: corpusSkipReason() }, async () => {
  const reference = loadReference();
  const files = [...new Set(reference.map((e) => e.file))];
  assert.ok(files.length >= 15);
  for (const file of files) {
    const run = await runCapture(corpusPath(file));
    const rows = reference.filter((e) => e.file === file);
    const records = run.recordsOf<TlsFlowRecord>('tls');
    assert.equal(records.length, rows.length, `${file}: one record per TLS flow`);
    for (const e of rows) {
      const r = records.find((x) => x['id.orig_p'] === e.clientPort && x['id.resp_p'] === e.serverPort);
      assert.ok(r, `${file}: record for ${e.clientPort} -> ${e.serverPort}`);
      const where = `${file} ${e.clientPort}`;
      assert.equal(r.server_name, e.sni || undefined, `${where} server_name`);
      assert.equal(r.version, expectedVersion(e), `${where} version`);
      assert.equal(r.cipher, e.serverCipher ? tlsCipherName(Number(e.serverCipher)) : undefined, `${where} cipher`);
      assert.equal(r.client_cipher_count, Number(e.clientCiphers), `${where} cipher count`);
      assert.deepEqual(r.client_alpn, e.clientAlpn ? e.clientAlpn.split(',') : undefined, `${where} client_alpn`);
      assert.equal(r.next_protocol, e.serverAlpn || undefined, `${where} next_protocol`);
      assert.equal(r.ja3, e.ja3, `${where} ja3`);
      assert.equal(r.ja3s, e.ja3s || undefined, `${where} ja3s`);
    }
    const ssl = run.services.filter(([, s]) => s === 'ssl').map(([id]) => id);
    assert.equal(ssl.length, rows.length, `${file}: confirmService once per TLS flow`);
    assert.equal(new Set(ssl).size, rows.length, `${file}: confirmService once per TLS flow`);
  }
});

test('non-443 TLS flows are claimed by the probe; SSLv2 flows are reported', { skip: corpusSkipReason() }, async () => {
  // tshark -r tcp/zeek__tls-tls-fragmented-handshake.pcap: ClientHello to port 4433 (not a TLS port).
  const fragmented = await runCapture(corpusPath('tcp/zeek__tls-tls-fragmented-handshake.pcap'));
  assert.equal(fragmented.probeClaims.get('ssl'), 1);
  assert.equal(tlsRegistration.tcpPorts?.includes(4433), false);
  const [record] = fragmented.recordsOf<TlsFlowRecord>('tls');
  assert.equal(record?.['id.resp_p'], 4433);
  // tshark -V of tcp/zeek__tls-ssl-v2.pcap frames 4 and 6: SSLv2 CLIENT-HELLO/SERVER-HELLO, version 0x0002, 7 specs.
  const run = await runCapture(corpusPath('tcp/zeek__tls-ssl-v2.pcap'));
  const tls = run.recordsOf<TlsFlowRecord>('tls');
  assert.equal(tls.length, 1);
  const r = tls[0];
  assert.equal(r.version, 'SSLv2');
  assert.equal(r.client_cipher_count, 7);
  assert.equal(r.ja3, undefined);
  assert.deepEqual(run.weirds.list(), []);
});
