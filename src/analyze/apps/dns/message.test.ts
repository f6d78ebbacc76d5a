import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDnsMessage, zeekZ, type DnsMessage } from './message.js';
import { fromTsharkDump, hex } from './testing/hex.js';
import { ETH_IPV4_UDP, TCPDUMP_QUERY, TCPDUMP_RESPONSE } from './testing/fixtures.js';

function parsed(buf: Buffer): DnsMessage {
  const r = parseDnsMessage(buf, 0, buf.length);
  assert.ok(r.ok, `parse failed: ${r.ok ? '' : r.weird}`);
  return r.msg;
}

test('query: header flags, question, EDNS0 with a cookie option (tcpdump dns_udp.pcap frame 1)', () => {
  const m = parsed(TCPDUMP_QUERY);
  assert.equal(m.id, 0x5934);
  assert.equal(m.flags, 0x0120);
  assert.deepEqual([m.qr, m.opcode, m.aa, m.tc, m.rd, m.ra, m.z, m.ad, m.cd], [false, 0, false, false, true, false, 0, true, false]);
  assert.equal(zeekZ(m), 2, "Zeek's Z covers the AD bit");
  assert.deepEqual([m.qdcount, m.ancount, m.nscount, m.arcount], [1, 0, 0, 1]);
  assert.deepEqual(m.questions, [{ name: 'www.tcpdump.org', qtype: 1, qclass: 1 }]);
  assert.deepEqual(m.edns, { udpPayloadSize: 4096, extendedRcode: 0, version: 0, dnssecOk: false, flags: 0, options: [{ code: 10, length: 8 }] });
  assert.equal(m.rcode, 0);
  assert.equal(m.length, TCPDUMP_QUERY.length);
  assert.deepEqual(m.weirds, []);
  assert.equal(m.error, null);
});

test('response: answers, authority and additional sections, compressed names (frame 2)', () => {
  const m = parsed(TCPDUMP_RESPONSE);
  assert.equal(m.flags, 0x8500);
  assert.deepEqual([m.qr, m.aa, m.tc, m.rd, m.ra, m.rcode], [true, true, false, true, false, 0]);
  assert.deepEqual([m.qdcount, m.ancount, m.nscount, m.arcount], [1, 2, 2, 5]);
  assert.deepEqual(m.answers.map((rr) => [rr.name, rr.type, rr.class, rr.ttl, rr.data]), [
    ['www.tcpdump.org', 1, 1, 60, { kind: 'a', address: '192.139.46.66' }],
    ['www.tcpdump.org', 1, 1, 60, { kind: 'a', address: '198.199.88.104' }],
  ]);
  assert.deepEqual(m.authority.map((rr) => [rr.name, rr.type, rr.ttl, rr.data]), [
    ['tcpdump.org', 2, 86400, { kind: 'name', name: 'sns.cooperix.net' }],
    ['tcpdump.org', 2, 86400, { kind: 'name', name: 'nic.sandelman.ca' }],
  ]);
  assert.deepEqual(m.additional.map((rr) => [rr.name, rr.type, rr.data]), [
    ['nic.sandelman.ca', 1, { kind: 'a', address: '209.87.249.18' }],
    ['nic.sandelman.ca', 28, { kind: 'aaaa', address: '2607:f0b0:f::babe:f00d' }],
    ['sns.cooperix.net', 1, { kind: 'a', address: '97.107.133.15' }],
    ['sns.cooperix.net', 28, { kind: 'aaaa', address: '2600:3c03::f03c:91ff:fe96:e8ef' }],
    ['', 41, { kind: 'opt' }],
  ]);
  assert.equal(m.additional[0].rdataOffset, 0xb3 - ETH_IPV4_UDP);
  assert.equal(m.additional[0].rdlength, 4);
  assert.equal(m.edns?.options.length, 0);
  assert.equal(m.length, 224);
});

test('MX records (zeek dns-long-connection.pcap frame 2)', () => {
  const m = parsed(fromTsharkDump(`
0000  00 e0 18 b1 0c ad 00 c0 9f 32 41 8c 08 00 45 00   .........2A...E.
0010  01 1c cc bb 00 00 80 11 97 a7 c0 a8 aa 14 c0 a8   ................
0020  aa 08 00 35 80 1b 01 08 d6 f3 f7 6f 81 80 00 01   ...5.......o....
0030  00 06 00 00 00 06 06 67 6f 6f 67 6c 65 03 63 6f   .......google.co
0040  6d 00 00 0f 00 01 c0 0c 00 0f 00 01 00 00 02 28   m..............(
0050  00 0a 00 28 05 73 6d 74 70 34 c0 0c c0 0c 00 0f   ...(.smtp4......
0060  00 01 00 00 02 28 00 0a 00 0a 05 73 6d 74 70 35   .....(.....smtp5
0070  c0 0c c0 0c 00 0f 00 01 00 00 02 28 00 0a 00 0a   ...........(....
0080  05 73 6d 74 70 36 c0 0c c0 0c 00 0f 00 01 00 00   .smtp6..........
0090  02 28 00 0a 00 0a 05 73 6d 74 70 31 c0 0c c0 0c   .(.....smtp1....
00a0  00 0f 00 01 00 00 02 28 00 0a 00 0a 05 73 6d 74   .......(.....smt
00b0  70 32 c0 0c c0 0c 00 0f 00 01 00 00 02 28 00 0a   p2...........(..
00c0  00 28 05 73 6d 74 70 33 c0 0c c0 2a 00 01 00 01   .(.smtp3...*....
00d0  00 00 02 58 00 04 d8 ef 25 1a c0 40 00 01 00 01   ...X....%..@....
00e0  00 00 02 58 00 04 40 e9 a7 19 c0 56 00 01 00 01   ...X..@....V....
00f0  00 00 02 58 00 04 42 66 09 19 c0 6c 00 01 00 01   ...X..Bf...l....
0100  00 00 02 58 00 04 d8 ef 39 19 c0 82 00 01 00 01   ...X....9.......
0110  00 00 02 58 00 04 d8 ef 25 19 c0 98 00 01 00 01   ...X....%.......
0120  00 00 02 58 00 04 d8 ef 39 1a                     ...X....9.
`, ETH_IPV4_UDP));
  assert.deepEqual(m.answers.map((rr) => rr.data), [
    { kind: 'mx', preference: 40, exchange: 'smtp4.google.com' },
    { kind: 'mx', preference: 10, exchange: 'smtp5.google.com' },
    { kind: 'mx', preference: 10, exchange: 'smtp6.google.com' },
    { kind: 'mx', preference: 10, exchange: 'smtp1.google.com' },
    { kind: 'mx', preference: 10, exchange: 'smtp2.google.com' },
    { kind: 'mx', preference: 40, exchange: 'smtp3.google.com' },
  ]);
  assert.deepEqual(m.additional.map((rr) => [rr.name, rr.data.kind === 'a' ? rr.data.address : '']), [
    ['smtp4.google.com', '216.239.37.26'], ['smtp5.google.com', '64.233.167.25'], ['smtp6.google.com', '66.102.9.25'],
    ['smtp1.google.com', '216.239.57.25'], ['smtp2.google.com', '216.239.37.25'], ['smtp3.google.com', '216.239.57.26'],
  ]);
});

test('CAA (zeek dns-caa.pcap frame 2)', () => {
  const m = parsed(fromTsharkDump(`
0000  78 31 c1 c6 3f c2 90 59 af 5b 66 d4 08 00 45 20   x1..?..Y.[f...E
0010  00 57 b4 6e 00 00 35 11 ef 15 08 08 08 08 c0 a8   .W.n..5.........
0020  11 3a 00 35 e5 83 00 43 92 78 35 5e 81 80 00 01   .:.5...C.x5^....
0030  00 01 00 00 00 00 06 67 6f 6f 67 6c 65 03 63 6f   .......google.co
0040  6d 00 01 01 00 01 c0 0c 01 01 00 01 00 00 54 49   m.............TI
0050  00 13 00 05 69 73 73 75 65 73 79 6d 61 6e 74 65   ....issuesymante
0060  63 2e 63 6f 6d                                    c.com
`, ETH_IPV4_UDP));
  assert.deepEqual(m.questions, [{ name: 'google.com', qtype: 257, qclass: 1 }]);
  assert.deepEqual(m.answers[0].data, { kind: 'caa', flags: 0, tag: 'issue', value: 'symantec.com' });
  assert.equal(m.answers[0].ttl, 0x5449);
});

test('HTTPS with alpn, ipv4hint and ipv6hint (zeek dns-https.pcap frame 2)', () => {
  const m = parsed(fromTsharkDump(`
0000  a4 83 e7 16 79 02 94 91 7f 51 71 7f 08 00 45 00   ....y....Qq...E.
0010  00 a2 1e ac 40 00 40 11 97 ea c0 a8 01 01 c0 a8   ....@.@.........
0020  01 63 00 35 f6 02 00 8e 49 18 f2 9f 81 80 00 01   .c.5....I.......
0030  00 01 00 00 00 01 0a 63 6c 6f 75 64 66 6c 61 72   .......cloudflar
0040  65 03 63 6f 6d 00 00 41 00 01 c0 0c 00 41 00 01   e.com..A.....A..
0050  00 00 00 81 00 4f 00 01 00 00 01 00 18 02 68 33   .....O........h3
0060  05 68 33 2d 32 39 05 68 33 2d 32 38 05 68 33 2d   .h3-29.h3-28.h3-
0070  32 37 02 68 32 00 04 00 08 68 10 84 e5 68 10 85   27.h2....h...h..
0080  e5 00 06 00 20 26 06 47 00 00 00 00 00 00 00 00   .... &.G........
0090  00 68 10 84 e5 26 06 47 00 00 00 00 00 00 00 00   .h...&.G........
00a0  00 68 10 85 e5 00 00 29 10 00 00 00 00 00 00 00   .h.....)........
`, ETH_IPV4_UDP));
  assert.deepEqual(m.answers[0].data, {
    kind: 'svcb', priority: 1, target: '',
    params: ['alpn=h3,h3-29,h3-28,h3-27,h2', 'ipv4hint=104.16.132.229,104.16.133.229', 'ipv6hint=2606:4700::6810:84e5,2606:4700::6810:85e5'],
  });
});

test('NAPTR over IPv6 (zeek dns-naptr.pcap frame 2)', () => {
  const m = parsed(fromTsharkDump(`
0000  60 7e c9 bd fd 68 38 43 7d c8 78 8e 86 dd 60 00   \`~...h8C}.x...\`.
0010  00 00 00 95 11 40 9e 9f b3 37 a6 9c f9 2f ae dd   .....@...7.../..
0020  9f 9f e6 cc 99 be 9e 9f b3 37 a6 9c f9 2f d5 7e   .........7.../.~
0030  ba f8 ce dd be d2 00 35 c3 b5 00 95 e4 93 51 ea   .......5......Q.
0040  81 80 00 01 00 01 00 00 00 00 16 66 70 2d 64 65   ...........fp-de
0050  2d 63 61 72 72 69 65 72 2d 76 6f 64 61 66 6f 6e   -carrier-vodafon
0060  65 03 72 63 73 09 74 65 6c 65 70 68 6f 6e 79 04   e.rcs.telephony.
0070  67 6f 6f 67 00 00 23 00 01 c0 0c 00 23 00 01 00   goog..#.....#...
0080  00 00 a8 00 46 00 64 00 64 01 73 08 53 49 50 53   ....F.d.d.s.SIPS
0090  2b 44 32 54 00 05 5f 73 69 70 73 04 5f 74 63 70   +D2T.._sips._tcp
00a0  16 66 70 2d 64 65 2d 63 61 72 72 69 65 72 2d 76   .fp-de-carrier-v
00b0  6f 64 61 66 6f 6e 65 03 72 63 73 09 74 65 6c 65   odafone.rcs.tele
00c0  70 68 6f 6e 79 04 67 6f 6f 67 00                  phony.goog.
`, 14 + 40 + 8));
  assert.deepEqual(m.answers[0].data, {
    kind: 'naptr', order: 100, preference: 100, flags: 's', service: 'SIPS+D2T', regexp: '',
    replacement: '_sips._tcp.fp-de-carrier-vodafone.rcs.telephony.goog',
  });
});

test('mDNS response: SRV, cache-flush class bit, NSEC (zeek wikipedia-filtered-plus-udp.pcap frame 2)', () => {
  const m = parsed(fromTsharkDump(`
0000  33 33 00 00 00 fb 00 17 f2 d7 cf 65 86 dd 60 00   33.........e..\`.
0010  00 00 00 9f 11 ff fe 80 00 00 00 00 00 00 02 17   ................
0020  f2 ff fe d7 cf 65 ff 02 00 00 00 00 00 00 00 00   .....e..........
0030  00 00 00 00 00 fb 14 e9 14 e9 00 9f 44 e9 00 00   ............D...
0040  84 00 00 00 00 01 00 00 00 04 06 67 65 6d 69 6e   ...........gemin
0050  69 09 5f 73 66 74 70 2d 73 73 68 04 5f 74 63 70   i._sftp-ssh._tcp
0060  05 6c 6f 63 61 6c 00 00 21 80 01 00 00 00 78 00   .local..!.....x.
0070  0f 00 00 00 00 00 16 06 67 65 6d 69 6e 69 c0 22   ........gemini."
0080  c0 39 00 1c 80 01 00 00 00 78 00 10 fe 80 00 00   .9.......x......
0090  00 00 00 00 02 17 f2 ff fe d7 cf 65 c0 39 00 01   ...........e.9..
00a0  80 01 00 00 00 78 00 04 8d 8e dc 32 c0 0c 00 2f   .....x.....2.../
00b0  80 01 00 00 00 78 00 09 c0 0c 00 05 00 00 80 00   .....x..........
00c0  40 c0 39 00 2f 80 01 00 00 00 78 00 08 c0 39 00   @.9./.....x...9.
00d0  04 40 00 00 08                                    .@...
`, 14 + 40 + 8));
  assert.deepEqual([m.id, m.qr, m.aa, m.qdcount, m.ancount, m.arcount], [0, true, true, 0, 1, 4]);
  assert.deepEqual(m.answers[0].data, { kind: 'srv', priority: 0, weight: 0, port: 22, target: 'gemini.local' });
  assert.equal(m.answers[0].class, 0x8001);
  assert.deepEqual(m.additional.map((rr) => rr.data), [
    { kind: 'aaaa', address: 'fe80::217:f2ff:fed7:cf65' },
    { kind: 'a', address: '141.142.220.50' },
    { kind: 'nsec', next: 'gemini._sftp-ssh._tcp.local' },
    { kind: 'nsec', next: 'gemini.local' },
  ]);
});

test('extended rcode: BADVERS and BADCOOKIE need the OPT bits (tcpdump dns-badvers / dns-badcookie frame 2)', () => {
  const badvers = parsed(fromTsharkDump(`
0000  8c 85 90 8d 92 57 a0 21 b7 ac 48 7c 08 00 45 00   .....W.!..H|..E.
0010  00 38 a5 a0 40 00 38 11 00 bd c0 05 05 f1 ac 1e   .8..@.8.........
0020  2a 43 00 35 fd 78 00 24 40 c1 8f b3 81 00 00 01   *C.5.x.$@.......
0030  00 00 00 00 00 01 00 00 10 00 01 00 00 29 02 00   .............)..
0040  01 00 00 00 00 00                                 ......
`, ETH_IPV4_UDP));
  assert.deepEqual([badvers.headerRcode, badvers.edns?.extendedRcode, badvers.rcode], [0, 1, 16]);
  assert.deepEqual(badvers.questions, [{ name: '', qtype: 16, qclass: 1 }]);
  assert.equal(badvers.edns?.udpPayloadSize, 512);
  // NULL link type (4 bytes) + IPv4 + UDP
  const badcookie = parsed(fromTsharkDump(`
0000  02 00 00 00 45 00 00 54 fe aa 00 00 40 11 00 00   ....E..T....@...
0010  7f 00 00 01 7f 00 00 01 00 35 d6 aa 00 40 fe 53   .........5...@.S
0020  f6 ab 81 87 00 01 00 00 00 00 00 01 00 00 06 00   ................
0030  01 00 00 29 10 00 01 00 00 00 00 1c 00 0a 00 18   ...)............
0040  36 bf 11 1f ef 2e 01 09 7d 8f fe 06 5c 63 6f fb   6.......}...\\co.
0050  14 2d 76 74 94 40 7a 73                           .-vt.@zs
`, 4 + 20 + 8));
  assert.deepEqual([badcookie.headerRcode, badcookie.rcode], [7, 23]);
  assert.deepEqual(badcookie.edns?.options, [{ code: 10, length: 24 }]);
});

test('a message cut short keeps what came before the cut, with the weird', () => {
  // The tcpdump response cut 3 bytes into its second answer's rdata (the answer starts at 0x5b, its rdata at 0x67).
  const cut = TCPDUMP_RESPONSE.subarray(0, 0x6a - ETH_IPV4_UDP);
  const r = parseDnsMessage(cut, 0, cut.length);
  assert.equal(r.ok, false);
  assert.equal(r.ok ? '' : r.weird, 'DNS_truncated_ans_too_short');
  assert.equal(r.msg?.error, 'DNS_truncated_ans_too_short');
  assert.equal(r.msg?.questions.length, 1);
  assert.deepEqual(r.msg?.answers.map((rr) => rr.data), [{ kind: 'a', address: '192.139.46.66' }]);
  assert.equal(r.msg?.length, 0x5b - ETH_IPV4_UDP, 'length counts up to the RR that failed');
});

test('an rdlength running past the message is DNS_truncated_ans_too_short', () => {
  const msg = hex(`
    1234 8180 0001 0001 0000 0000          # response, 1 question, 1 answer
    01 61 00 0001 0001                     # a. A IN
    c00c 0001 0001 0000003c 0050 01020304  # answer: rdlength 0x50 but only 4 bytes follow
  `);
  const r = parseDnsMessage(msg, 0, msg.length);
  assert.equal(r.ok ? '' : r.weird, 'DNS_truncated_ans_too_short');
  assert.deepEqual(r.msg?.questions, [{ name: 'a', qtype: 1, qclass: 1 }]);
  assert.equal(r.msg?.answers.length, 0);
});

test('rdata that does not fit its type is a non-fatal weird; parsing goes on', () => {
  const msg = hex(`
    1234 8180 0001 0002 0000 0000
    01 61 00 0001 0001
    c00c 0001 0001 0000003c 0005 0102030405   # an A record with 5 bytes of rdata
    c00c 0001 0001 0000003c 0004 0a000001     # a good one after it
  `);
  const m = parsed(msg);
  assert.deepEqual(m.weirds, ['DNS_RR_length_mismatch']);
  assert.equal(m.answers[0].malformed, true);
  assert.deepEqual(m.answers[0].data, { kind: 'unknown' });
  assert.deepEqual(m.answers[1].data, { kind: 'a', address: '10.0.0.1' });
});

test('a bad name inside rdata counts the name weird and keeps the RR as malformed', () => {
  const msg = hex(`
    1234 8180 0001 0001 0000 0000
    01 61 00 0005 0001
    c00c 0005 0001 0000003c 0002 c040       # CNAME rdata (at 31) pointing forward to 64, past the end
  `);
  const m = parsed(msg);
  assert.deepEqual(m.weirds, ['DNS_label_forward_compress_offset']);
  assert.equal(m.answers[0].malformed, true);
});

test('short header, short question', () => {
  const short = hex('1234 0100 0001 0000 0000 00');
  const r = parseDnsMessage(short, 0, short.length);
  assert.deepEqual(r, { ok: false, weird: 'DNS_truncated_len_lt_hdr_len', msg: null });
  const q = hex('1234 0100 0001 0000 0000 0000 01 61 00 0001');
  const rq = parseDnsMessage(q, 0, q.length);
  assert.equal(rq.ok ? '' : rq.weird, 'DNS_truncated_quest_too_short');
});

test('an EDNS option running past the OPT rdata is a non-fatal weird', () => {
  const msg = hex(`
    1234 0100 0000 0000 0000 0001
    00 0029 1000 00008000 0006 000a 0010 0102   # OPT, DO set; option 10 claims 16 bytes, 2 present
  `);
  const m = parsed(msg);
  assert.deepEqual(m.weirds, ['EDNS_truncated_option']);
  assert.equal(m.edns?.dnssecOk, true);
  assert.deepEqual(m.edns?.options, []);
});

test('parses at an offset inside a larger buffer and ignores bytes past the length', () => {
  const padded = Buffer.concat([Buffer.alloc(5, 0xaa), TCPDUMP_QUERY, Buffer.alloc(7, 0xbb)]);
  const r = parseDnsMessage(padded, 5, TCPDUMP_QUERY.length);
  assert.ok(r.ok);
  assert.equal(r.msg.questions[0].name, 'www.tcpdump.org');
  assert.equal(r.msg.length, TCPDUMP_QUERY.length);
});
