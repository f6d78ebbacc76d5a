/**
 * Golden run: the HTTP transactions of the corpus captures in fixtures/tshark-http.tsv (tshark's pairing of
 * requests and responses) must come out as http records with the same request fields and status. The
 * captures run through the real reader and engine with every default analyzer, as `loopy read` runs them.
 * Differences are listed below with their reason; each listed one must still occur, so the lists stay true.
 * The fixtures are read from src/, also when the test runs from dist/.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { corpusPath, corpusSkipReason, projectRoot } from '../../../test-support/corpus.js';
import { runCapture } from '../testing/capture-run.js';
import type { HttpRecord } from './index.js';

/**
 * Responses tshark does not show because the capture ends before their body does: tshark waits for the
 * whole body, Loopy reports the status line it saw. Key: file, client port, start of the URI. Checked with
 * tshark -r F -Y 'tcp.port==P' (the response's last segment is the file's last for the flow).
 */
const RESPONSE_BODY_CUT_SHORT = new Set(['tcp/tcpdump__accecn_handshake.pcap 16433 /1M', 'mixed/pcpp__raw_ip.pcap 35997 /images/space23.jpg']);
/**
 * Responses whose body segments were lost on the network and sent again (tshark: "Previous segment not
 * captured", then "Retransmission", "Out-Of-Order"; for 55282 the last segment, carrying the FIN, is taken
 * for a retransmission): tshark does not put the body back together and shows no response. Loopy does: the
 * body is whole (no missed_bytes) and the connection's next messages stay in step.
 */
const RESPONSE_BODY_RETRANSMITTED = new Set([
  'large/pcpp__example.pcap 44152 /PicServer3/2013/04/25/4588403/4579386',
  'large/pcpp__example.pcap 44153 /PicServer3/2013/04/25/4589233/4587349',
  'large/pcpp__many-protocols.pcap 55282 /bbc/bbc/s?name=SET-COUNTER&pal_route=',
  'large/pcpp__many-protocols.pcap 55297 /nkdata/echoclient/2.0.0/sharedmodul',
]);
/**
 * Responses with holes in their body (tshark: "Previous segment not captured", and the client ACKs past
 * them): tshark cannot reassemble the body and shows no response; Loopy counts the holes into the body, as
 * Zeek does, notes them in missed_bytes and reports the response.
 */
const RESPONSE_BODY_GAP = new Set([
  'tcp/zeek__http-bro.org.pcap 55081 /js/jquery.cycle.all.min.js',
  'mixed/zeek__tunnels-gtp-gtp1_gn_normal_incl_fragmentation.pcap 1923 /videoplayback?',
]);
/**
 * Client-only captures with segments missing: tshark shows only the requests it can reassemble whole; Loopy
 * reports every request whose request line was captured (the head as far as captured, body holes in
 * missed_bytes). Its requests must be exactly those of fixtures/tshark-request-segments.tsv.
 */
const REQUESTS_NOT_REASSEMBLED = new Set(['tcp/pcpp__4KHttpRequests.pcap', 'tcp/pcpp__unidirectional_tcp_stream_with_missing_packet.pcap']);
/** HTTP that tshark sees and Loopy does not look into: no http record for the file. */
const NOT_DECODED: Record<string, string> = {
  'ipv6/libpcap__AH-IPcomp-IPv6.pcap': 'the request and most of the response are IPComp-compressed (IPv6 next header 108); Loopy does not decompress',
  'ipv6/zeek__tunnels-ayiya3.pcap': 'IPv6 inside AYIYA (UDP 5072), a tunnel Loopy does not decode',
  'mixed/libpcap__arcnet-rfc1051-arp-icmp-http.pcap': 'link type 129 (ARCNET) is not supported',
  'tcp/gopacket__pcapng-le-test301.pcapng': 'HTTP inside TLS: tshark decrypts with the keys in the pcapng (Decryption Secrets Block); Loopy reports the tls record',
  'tcp/zeek__socks.pcap': 'HTTP inside a SOCKS connection: its first payload is the SOCKS request, so no analyzer claims the flow',
};
/**
 * tshark dissects these requests (SUBSCRIBE, a UPnP/GENA method) but does not set http.request, so it pairs
 * no response with them: the fixture has the request and its response as two rows. Loopy pairs them.
 */
const TSHARK_UNPAIRED = new Set(['large/pcpp__example.pcap 49682']);
/** tshark takes "OPTIONS" with no URI as a request; Loopy counts bad_HTTP_request (23 such lines in the file). */
const TSHARK_LENIENT_REQUEST_LINE = 'tcp/zeek__http-methods.pcap 46565';

interface Row {
  file: string;
  ports: string;
  clientPort: string;
  method: string;
  host: string;
  uri: string;
  version: string;
  userAgent: string;
  status: string;
  statusMsg: string;
}

function fixtureRows(name: string): string[][] {
  const text = readFileSync(join(projectRoot, 'src/analyze/apps/http/fixtures', name), 'utf8');
  return text
    .split('\n')
    .filter((line) => line.length > 0 && !line.startsWith('#'))
    .map((line) => line.split('\t'));
}

function loadReference(): Row[] {
  return fixtureRows('tshark-http.tsv').map((c) => ({ file: c[0], ports: portPair(c[1], c[2]), clientPort: c[1], method: c[3], host: c[4], uri: c[5], version: c[6], userAgent: c[7], status: c[8], statusMsg: c[9] }));
}

/** Unordered, since which side is "orig" depends on the first packet the capture holds. */
function portPair(a: string | number, b: string | number): string {
  return [String(a), String(b)].sort().join('-');
}

function requestFields(x: { method?: string; host?: string; uri?: string; version?: string; user_agent?: string }): string {
  return [x.method ?? '', x.host ?? '', x.uri ?? '', x.version ?? '', x.user_agent ?? ''].join('|');
}

/** Folds each TSHARK_UNPAIRED response row into the request row before it. */
function pairUnpaired(rows: Row[]): Row[] {
  const out: Row[] = [];
  for (const row of rows) {
    const request = out.find((r) => TSHARK_UNPAIRED.has(`${r.file} ${r.clientPort}`) && r.file === row.file && r.ports === row.ports && r.method !== '' && r.status === '');
    if (row.method === '' && request) {
      request.status = row.status;
      request.statusMsg = row.statusMsg;
    } else out.push({ ...row });
  }
  return out;
}

/** The listed key (file, client port, URI start) that a row falls under, if any. */
function listedIn(list: Set<string>, row: Row): string | undefined {
  const key = `${row.file} ${row.clientPort} `;
  return [...list].find((k) => k.startsWith(key) && row.uri.startsWith(k.slice(key.length)));
}

const sortedLines = (lines: string[]) => lines.sort();

test('http records match tshark for the HTTP transactions of the corpus', { skip: corpusSkipReason() }, async () => {
  const reference = pairUnpaired(loadReference());
  const requestSegments = fixtureRows('tshark-request-segments.tsv');
  const files = [...new Set(reference.map((r) => r.file))];
  assert.ok(files.length >= 45);
  const met = new Set<string>();
  for (const file of files) {
    const run = await runCapture(corpusPath(file));
    const records = run.recordsOf<HttpRecord>('http');
    if (NOT_DECODED[file] !== undefined) {
      assert.deepEqual(records, [], `${file}: ${NOT_DECODED[file]}`);
      met.add(file);
      continue;
    }
    const unmatched = records.slice();
    for (const row of reference.filter((r) => r.file === file)) {
      const cutShort = listedIn(RESPONSE_BODY_CUT_SHORT, row) ?? listedIn(RESPONSE_BODY_RETRANSMITTED, row);
      const bodyGap = listedIn(RESPONSE_BODY_GAP, row);
      const wanted = `${file} ${row.clientPort}` === TSHARK_LENIENT_REQUEST_LINE ? '||||' : requestFields({ method: row.method, host: row.host, uri: row.uri, version: row.version, user_agent: row.userAgent });
      const at = unmatched.findIndex(
        (r) =>
          portPair(r['id.orig_p'], r['id.resp_p']) === row.ports &&
          requestFields(r) === wanted &&
          (cutShort ? r.status_code !== undefined && r.missed_bytes === undefined
            : bodyGap ? r.status_code !== undefined && (r.missed_bytes ?? 0) > 0
            : String(r.status_code ?? '') === row.status && (r.status_msg ?? '') === row.statusMsg),
      );
      assert.ok(at >= 0, `${file}: no record for ${row.clientPort} ${row.method} ${row.uri.slice(0, 80)} -> ${row.status}`);
      unmatched.splice(at, 1);
      for (const key of [cutShort, bodyGap]) if (key) met.add(key);
    }
    if (REQUESTS_NOT_REASSEMBLED.has(file)) {
      // Beyond tshark's rows: every request whose request line opens a captured segment, and nothing else.
      const ours = records.map((r) => `${r['id.orig_p']} ${r.method} ${r.uri}`);
      const captured = requestSegments.filter((c) => c[0] === file).map((c) => `${c[1]} ${c[3]} ${c[4]}`);
      assert.deepEqual(sortedLines(ours), sortedLines(captured), `${file}: requests`);
      assert.ok(unmatched.length > 0, `${file}: tshark lacks some requests`);
      assert.ok(records.some((r) => (r.missed_bytes ?? 0) > 0), `${file}: some bodies have holes`);
      assert.ok(run.weirds.get('http_content_gap') > 0);
      met.add(file);
      continue;
    }
    assert.deepEqual(unmatched.map((r) => `${r['id.orig_p']} ${r.method} ${r.uri}`), [], `${file}: records tshark does not have`);
    assert.ok(run.services.filter(([, s]) => s === 'http').length === new Set(records.map((r) => r.uid)).size, `${file}: confirmService once per HTTP flow`);
  }
  const listed = [...RESPONSE_BODY_CUT_SHORT, ...RESPONSE_BODY_RETRANSMITTED, ...RESPONSE_BODY_GAP, ...REQUESTS_NOT_REASSEMBLED, ...Object.keys(NOT_DECODED)];
  assert.deepEqual(listed.filter((k) => !met.has(k)), [], 'every listed difference still occurs');
});

test('zeek__http-methods.pcap: 23 malformed request lines are weirds, their 400 answers still reported', { skip: corpusSkipReason() }, async () => {
  // tshark -r tcp/zeek__http-methods.pcap -Y http.response shows 49 responses on 49 connections; 26 have a
  // request tshark and Loopy both parse, 1 has the bare "OPTIONS" line, 22 a line neither takes as a request.
  const run = await runCapture(corpusPath('tcp/zeek__http-methods.pcap'));
  const records = run.recordsOf<HttpRecord>('http');
  assert.equal(records.length, 49);
  assert.equal(records.filter((r) => r.method === undefined).length, 23);
  assert.deepEqual(run.weirds.list(), [{ name: 'bad_HTTP_request', count: 23 }]);
  // HEAD answered with a chunked 200: no body is read, so the connection's framing holds.
  assert.ok(records.some((r) => r.method === 'HEAD' && r.status_code === 200 && r.response_body_len === 0));
});
