import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DNS_A, DNS_CNAME, DNS_SOA, DNS_TXT, RCODE_NXDOMAIN, dnsQuery, dnsResponse } from './dns.js';
import { parseIpv4 } from './hosts.js';

test('CNAME chain response: every repeated suffix becomes a pointer to its first occurrence', () => {
  // Checked with tshark -V: "video.example.org: type CNAME ... cname video.g.cdn.example.org",
  // "video.g.cdn.example.org: type CNAME ... cname edge-7.cdn.example.org", "edge-7.cdn.example.org: type A ... 198.51.100.27".
  const msg = dnsResponse(0x1234, 'video.example.org', DNS_A, {
    answers: [
      { name: 'video.example.org', type: DNS_CNAME, ttl: 3600, rdata: { kind: 'name', name: 'video.g.cdn.example.org' } },
      { name: 'video.g.cdn.example.org', type: DNS_CNAME, ttl: 3600, rdata: { kind: 'name', name: 'edge-7.cdn.example.org' } },
      { name: 'edge-7.cdn.example.org', type: DNS_A, ttl: 60, rdata: { kind: 'address', bytes: parseIpv4('198.51.100.27') } },
    ],
  });
  const expected = [
    '1234 8180 0001 0003 0000 0000', // id; QR RD RA NOERROR; 1 question, 3 answers
    '05766964656f 076578616d706c65 036f7267 00 0001 0001', // @12 video @18 example @26 org; A IN
    'c00c 0005 0001 00000e10 000e', // @35 name -> 12; CNAME IN ttl 3600 rdlength 14
    '05766964656f 0167 0363646e c012', // @47 video @53 g @55 cdn -> 18 (example.org)
    'c02f 0005 0001 00000e10 0009', // @61 name -> 47 (video.g.cdn.example.org)
    '06656467652d37 c037', // @73 edge-7 -> 55 (cdn.example.org)
    'c049 0001 0001 0000003c 0004 c633641b', // @82 name -> 73; A IN ttl 60; 198.51.100.27
  ].join('').replace(/ /g, '');
  assert.equal(msg.toString('hex'), expected);
});

test('NXDOMAIN with the zone SOA in authority and an EDNS OPT record', () => {
  // tshark -V: "Reply code: No such name (3)", "example.com: type SOA ... mname ns1.example.com",
  // "Responsible authority's mailbox: hostmaster.example.com", then "<Root>: type OPT".
  const msg = dnsResponse(0x0bad, 'wwww.example.com', DNS_A, {
    rcode: RCODE_NXDOMAIN,
    edns: true,
    authority: [{
      name: 'example.com', type: DNS_SOA, ttl: 900,
      rdata: { kind: 'soa', mname: 'ns1.example.com', rname: 'hostmaster.example.com', serial: 2024061001, refresh: 7200, retry: 3600, expire: 1209600, minimum: 900 },
    }],
  });
  const expected = [
    '0bad 8183 0001 0000 0001 0001', // rcode 3; 1 authority, 1 additional
    '0477777777 076578616d706c65 03636f6d 00 0001 0001', // @12 wwww @17 example.com
    'c011 0006 0001 00000384 0027', // SOA owner -> 17; ttl 900; rdlength 39
    '036e7331 c011', // ns1 + -> example.com
    '0a686f73746d6173746572 c011', // hostmaster + -> example.com
    '78a4b849 00001c20 00000e10 00127500 00000384', // serial 2024061001, refresh, retry, expire, minimum
    '00 0029 04d0 00000000 0000', // OPT: root, type 41, 1232-byte payload, no flags, no options
  ].join('').replace(/ /g, '');
  assert.equal(msg.toString('hex'), expected);
});

/** Reads a (possibly compressed) name, checking every pointer goes back to an earlier label. */
function readName(b: Buffer, at: number): { name: string; next: number } {
  const labels: string[] = [];
  let next = -1;
  for (let o = at, hops = 0; ; ) {
    const len = b[o];
    if (len === 0) {
      if (next < 0) next = o + 1;
      break;
    }
    if ((len & 0xc0) === 0xc0) {
      const target = b.readUInt16BE(o) & 0x3fff;
      assert.ok(target < o, `pointer at ${o} goes forward to ${target}`);
      assert.ok(++hops < 32);
      if (next < 0) next = o + 2;
      o = target;
      continue;
    }
    labels.push(b.toString('latin1', o + 1, o + 1 + len));
    o += 1 + len;
  }
  return { name: labels.join('.'), next };
}

test('a tunnel-style TXT answer reads back: 60-byte labels, pointer to the question, TXT strings', () => {
  const name = `${'a'.repeat(60)}.${'b2'.repeat(20)}.xfil.example.net`;
  const data = 'QUJD'.repeat(50);
  const msg = dnsResponse(7, name, DNS_TXT, { answers: [{ name, type: DNS_TXT, ttl: 0, rdata: { kind: 'txt', strings: [data] } }] });
  const q = readName(msg, 12);
  assert.equal(q.name, name);
  const answer = readName(msg, q.next + 4);
  assert.equal(answer.name, name);
  assert.equal(answer.next - (q.next + 4), 2, 'the answer owner is one pointer');
  const rdlength = msg.readUInt16BE(answer.next + 8);
  const rdata = answer.next + 10;
  assert.equal(rdlength, 1 + data.length);
  assert.equal(msg[rdata], data.length);
  assert.equal(msg.toString('latin1', rdata + 1, rdata + 1 + data.length), data);
  assert.equal(rdata + rdlength, msg.length);
});

test('a query sets RD and only EDNS adds an additional record', () => {
  const plain = dnsQuery(1, 'example.com', DNS_A);
  assert.equal(plain.readUInt16BE(2), 0x0100);
  assert.equal(plain.readUInt16BE(10), 0);
  const edns = dnsQuery(1, 'example.com', DNS_A, { edns: true });
  assert.equal(edns.readUInt16BE(10), 1);
  assert.equal(edns.length, plain.length + 11);
});
