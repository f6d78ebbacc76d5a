/**
 * The parser and the TCP framing against tshark over every corpus capture with DNS in it: each DNS message
 * on port 53 must agree with corpus-reference/<file>.dns.tsv (id, QR, questions, header rcode, answer count,
 * every A/AAAA/CNAME), frame by frame. Frames come from the small test reader in testing/, not the engine
 * (the lead's full-pipeline test does that), so tunnels and IP fragments are out of reach here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import type { DnsRecord } from '../../records.js';
import { corpusPath, corpusSkipReason, haveCorpus, readManifest, referencePath } from '../../../test-support/corpus.js';
import { readTransportFrames } from './testing/capture-frames.js';
import { driveFrames, type FakeEngine } from './testing/drive.js';
import { diffAgainstTshark, type DnsDifference } from './tshark-diff.js';

type Known = { why: string; allows: (d: DnsDifference) => boolean };

const tsharkOnly = (d: DnsDifference) => d.field === 'frame' && d.ours === '';
const oursOnly = (d: DnsDifference) => d.field === 'frame' && d.tshark === '';
const nameFields = (d: DnsDifference) => d.field === 'qname' || d.field === 'qtype';

/** Differences understood and accepted, with the reason. Everything else fails the test. */
const KNOWN: Record<string, Known> = {
  'dns/tcpdump__dns_udp_8053.pcap': { why: 'tshark guesses DNS on port 8053; Loopy claims only the DNS ports', allows: tsharkOnly },
  'malformed/tcpdump__someip1.pcap': { why: 'tshark guesses DNS on SOME/IP ports 30490/31490', allows: tsharkOnly },
  'dns/dnscap__dnso1tcp-bighole.pcap': { why: 'after the hole Loopy resynchronises the client side; tshark loses it', allows: oursOnly },
  'dns/dnscap__do1t-nosyn-1nolen.pcap': { why: 'Loopy reads the query whose length prefix was lost, and the ones after it; tshark waits for 0xe7af bytes', allows: oursOnly },
  'dns/dnscap__dnso1tcp-midmiss.pcap': {
    why: 'the response after the missing segment is handed over one packet later (frame 15), when the ACK proves the loss',
    allows: (d) => d.field === 'frame' && ((d.frame === 14 && d.ours === '') || (d.frame === 15 && d.tshark === '')),
  },
  'dns/zeek__dns-edns-ecs.pcap': { why: 'four responses arrive in IPv4 fragments, which the test reader does not reassemble', allows: (d) => tsharkOnly(d) && [54, 59, 63, 85].includes(d.frame) },
  'mixed/dnscap__frags.pcap': { why: 'DNS in IPv4 fragments: the test reader does not reassemble', allows: tsharkOnly },
  'ipv6/zeek__ipv6-fragmented-dns.pcap': { why: 'DNS in IPv6 fragments: the test reader does not reassemble', allows: tsharkOnly },
  'ipv6/zeek__communityid-icmp6.pcap': { why: 'tshark decodes the DNS quoted inside an ICMPv6 error (frame 35)', allows: (d) => tsharkOnly(d) && d.frame === 35 },
  'malformed/zeek__tunnels-geneve-vxlan-dns-truncated.pcap': { why: 'DNS inside Geneve/VXLAN: the test reader does not decode tunnels', allows: tsharkOnly },
  'malformed/tcpdump__rtp-seg-fault-1.pcapng': { why: 'the IPv4 total length leaves 9 bytes of UDP payload; tshark trusts the bogus UDP length', allows: tsharkOnly },
  'malformed/tcpdump__LINKTYPE_IPV6_invalid.pcap': { why: 'an IPv4 packet in a LINKTYPE_IPV6 file: tshark refuses it, the test reader goes by the version nibble', allows: oursOnly },
  'malformed/tcpdump__dns_fwdptr.pcap': { why: 'tshark follows forward pointers; Loopy stops at the first (dns_bad_pointer)', allows: nameFields },
  'malformed/tcpdump__dns-badlabel.pcap': { why: 'the first name is over 255 bytes: Loopy stops (dns_name_too_long), tshark prints <Name too long> and goes on', allows: nameFields },
  'malformed/zeek__dns-dns-invalid-names.pcap': { why: 'a looping name: tshark prints a placeholder, Loopy stops (dns_name_loop)', allows: (d) => d.frame === 2 && nameFields(d) },
  'malformed/zeek__dns-dns-edns-bad-length.pcap': { why: 'tshark stops at the bad EDNS option; Loopy skips the OPT by its rdlength and reads the A record after it', allows: (d) => d.field === 'a' && d.tshark === '' },
};

/** mixed/ captures the test reader can take apart (the rest need tunnels or link types only the engine decodes). */
const MIXED_READABLE = ['mixed/dnscap__sll2.pcap', 'mixed/pcpp__null_loopback.pcap', 'mixed/pcpp__NullLoopback.pcap', 'mixed/dnscap__frags.pcap'];

function dnsCaptures(): string[] {
  if (!haveCorpus()) return [];
  return readManifest()
    .filter((r) => r.path.startsWith('dns/') || /(^|,)(dns|mdns|llmnr)(,|$)/.test(r.protocols))
    .filter((r) => !r.path.startsWith('mixed/') || MIXED_READABLE.includes(r.path))
    .map((r) => r.path);
}

function run(path: string): { engine: FakeEngine; diffs: DnsDifference[] } {
  const engine = driveFrames(readTransportFrames(corpusPath(path)));
  // tshark's -Y dns leaves out mDNS and LLMNR: compare port-53 flows only.
  const port53 = engine.messages.filter((m) => {
    const c = engine.conn(m.flowId);
    return c['id.orig_p'] === 53 || c['id.resp_p'] === 53;
  });
  const tsvPath = referencePath(path, 'dns.tsv');
  const tsv = existsSync(tsvPath) ? readFileSync(tsvPath, 'utf8') : '';
  return { engine, diffs: diffAgainstTshark(port53, tsv) };
}

test('every DNS message in the corpus agrees with tshark, bar the listed differences', { skip: corpusSkipReason() }, () => {
  const files = dnsCaptures();
  assert.ok(files.length > 60, `expected the corpus DNS captures, found ${files.length}`);
  const failures: string[] = [];
  let compared = 0;
  for (const path of files) {
    const { engine, diffs } = run(path);
    compared += engine.messages.length;
    const known = KNOWN[path];
    for (const d of diffs) {
      if (!known?.allows(d)) failures.push(`${path} frame ${d.frame} ${d.field}: ours=${d.ours.slice(0, 120)} tshark=${d.tshark.slice(0, 120)}`);
    }
  }
  assert.deepEqual(failures, []);
  assert.ok(compared > 1500, `only ${compared} messages compared`);
});

test('the malformed names tshark also flags are the weirds Loopy counts', { skip: corpusSkipReason() }, () => {
  const weirds = (path: string) => run(path).engine.weirds;
  // tshark: "<Name contains a pointer that loops>" in frame 2.
  assert.equal(weirds('malformed/zeek__dns-dns-invalid-names.pcap').get('dns_name_loop'), 1);
  // The question name starts fb 03: a pointer to offset 0x303, past itself.
  assert.equal(weirds('malformed/tcpdump__dns_fwdptr.pcap').get('dns_bad_pointer'), 1);
  // tshark: "[Packet size limited during capture: DNS truncated]" in the answer section.
  assert.equal(weirds('dns/tcpdump__dns_udp_2.pcap').get('dns_truncated_rr'), 1);
  // tshark: "Malformed Packet" after the OPT option whose length runs past its rdata.
  assert.equal(weirds('malformed/zeek__dns-dns-edns-bad-length.pcap').get('dns_edns_bad_option'), 1);
});

test('DNS over TCP: every message of the clean TCP captures is framed, none lost', { skip: corpusSkipReason() }, () => {
  for (const path of ['dns/dnscap__dnso1tcp.pcap', 'dns/dnscap__dnsotcp-many1pkt.pcap', 'dns/dnscap__dnsotcp-manyopkts.pcap', 'dns/tcpdump__dns_tcp.pcap', 'dns/zeek__dns-tkey.pcap']) {
    const { engine, diffs } = run(path);
    assert.deepEqual(diffs, [], path);
    assert.equal(engine.weirds.total(), 0, `${path}: ${JSON.stringify(engine.weirds.list())}`);
  }
  // In these every query has its response (many1pkt/manyopkts hold queries whose answers were not captured).
  for (const path of ['dns/dnscap__dnso1tcp.pcap', 'dns/tcpdump__dns_tcp.pcap', 'dns/zeek__dns-tkey.pcap']) {
    const dns = run(path).engine.records.filter((r): r is DnsRecord => r.type === 'dns');
    assert.ok(dns.length > 0, path);
    assert.ok(dns.every((r) => typeof r.rtt === 'number' && r.rtt > 0 && r.rcode !== undefined), `${path}: unmatched records`);
  }
});
