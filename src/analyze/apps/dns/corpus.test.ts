/**
 * The parser and the TCP framing against tshark over every corpus capture with DNS in it: each DNS message
 * on port 53 must agree with corpus-reference/<file>.dns.tsv (id, QR, questions, header rcode, answer count,
 * every A/AAAA/CNAME), frame by frame. The captures run through the real reader and engine (every decoder:
 * tunnels, fragments, all link types Loopy knows), as `loopy read` runs them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import type { DnsRecord } from '../../records.js';
import { corpusPath, corpusSkipReason, haveCorpus, readManifest, referencePath } from '../../../test-support/corpus.js';
import { defaultApps } from '../index.js';
import { CaptureRun } from '../testing/capture-run.js';
import { makeDnsRegistration } from './index.js';
import { diffAgainstTshark, type DnsDifference, type ObservedDnsMessage } from './tshark-diff.js';

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
  'ipv6/zeek__communityid-icmp6.pcap': { why: 'tshark decodes the DNS quoted inside an ICMPv6 error (frame 35)', allows: (d) => tsharkOnly(d) && d.frame === 35 },
  'malformed/tcpdump__rtp-seg-fault-1.pcapng': { why: 'the IPv4 total length leaves 9 bytes of UDP payload; tshark trusts the bogus UDP length', allows: tsharkOnly },
  'malformed/tcpdump__LINKTYPE_IPV6_invalid.pcap': { why: 'an IPv4 packet in a LINKTYPE_IPV6 file: tshark refuses it, Loopy goes by the version nibble', allows: oursOnly },
  'malformed/tcpdump__LINKTYPE_IPV4_invalid.pcap': { why: 'an IPv6 packet under LINKTYPE_IPV4: Loopy counts unknown_ip_version, tshark decodes it', allows: tsharkOnly },
  'dns/pcpp__dns_over_tcp.pcapng': {
    why: 'the capture jumps 50 years between packets: the idle timeout ends the flow, and the retransmission after the jump starts a new one that Loopy reads again',
    allows: (d) => oursOnly(d) && d.frame === 4,
  },
  'mixed/zeek__tunnels-gre-sample.pcap': { why: 'tshark decodes the DNS quoted inside ICMP errors (frames 34, 36)', allows: (d) => tsharkOnly(d) && [34, 36].includes(d.frame) },
  'mixed/zeek__icmp-icmp-destunreach-udp.pcap': { why: 'tshark decodes the DNS quoted inside an ICMP port unreachable', allows: tsharkOnly },
  'mixed/dpkt__nb6-http.pcap': { why: 'tshark decodes the DNS quoted inside an ICMP port unreachable (frame 34)', allows: (d) => tsharkOnly(d) && d.frame === 34 },
  'mixed/zeek__radiotap.pcap': { why: 'link type 127 (802.11 radiotap) is counted as unsupported', allows: tsharkOnly },
  'mixed/zeek__dns-inverse-query.pcap': { why: 'link type 10 (FDDI) is counted as unsupported', allows: tsharkOnly },
  'mixed/pcpp__nflogPacket.pcap': { why: 'link type 239 (NFLOG) is counted as unsupported', allows: tsharkOnly },
  'mixed/libpcap__arcnet-rfc1051-arp-icmp-http.pcap': { why: 'link type 129 (ARCNET) is counted as unsupported', allows: tsharkOnly },
  'malformed/tcpdump__dns_fwdptr.pcap': { why: 'tshark follows forward pointers; Loopy stops at the first (DNS_label_forward_compress_offset)', allows: nameFields },
  'malformed/tcpdump__dns-badlabel.pcap': { why: 'the first name is over 255 bytes: Loopy stops (DNS_NAME_too_long), tshark prints <Name too long> and goes on', allows: nameFields },
  'malformed/zeek__dns-dns-invalid-names.pcap': { why: 'a looping name: tshark prints a placeholder, Loopy stops (dns_name_loop)', allows: (d) => d.frame === 2 && nameFields(d) },
  'malformed/zeek__dns-dns-edns-bad-length.pcap': { why: 'tshark stops at the bad EDNS option; Loopy skips the OPT by its rdlength and reads the A record after it', allows: (d) => d.field === 'a' && d.tshark === '' },
};

function dnsCaptures(): string[] {
  if (!haveCorpus()) return [];
  return readManifest()
    .filter((r) => r.path.startsWith('dns/') || /(^|,)(dns|mdns|llmnr)(,|$)/.test(r.protocols))
    .map((r) => r.path);
}

interface DnsRun {
  capture: CaptureRun;
  /** Every DNS message the analyzer parsed, with the number of the frame it completed in. */
  messages: Array<ObservedDnsMessage & { port53: boolean }>;
  diffs: DnsDifference[];
}

async function run(path: string): Promise<DnsRun> {
  const messages: DnsRun['messages'] = [];
  const dns = makeDnsRegistration({
    onMessage: (msg, flowId) => {
      const conn = capture.connOf(flowId);
      messages.push({ frame: capture.engine.packets, msg, port53: conn['id.orig_p'] === 53 || conn['id.resp_p'] === 53 });
    },
  });
  const capture: CaptureRun = new CaptureRun(defaultApps.map((a) => (a.name === 'dns' ? dns : a)));
  await capture.read(corpusPath(path));
  const tsvPath = referencePath(path, 'dns.tsv');
  const tsv = existsSync(tsvPath) ? readFileSync(tsvPath, 'utf8') : '';
  // tshark's -Y dns leaves out mDNS and LLMNR: compare port-53 flows only.
  return { capture, messages, diffs: diffAgainstTshark(messages.filter((m) => m.port53), tsv) };
}

test('every DNS message in the corpus agrees with tshark, bar the listed differences', { skip: corpusSkipReason() }, async () => {
  const files = dnsCaptures();
  assert.ok(files.length > 60, `expected the corpus DNS captures, found ${files.length}`);
  const failures: string[] = [];
  const stale: string[] = [];
  let compared = 0;
  for (const path of files) {
    const { messages, diffs } = await run(path);
    compared += messages.length;
    const known = KNOWN[path];
    for (const d of diffs) {
      if (!known?.allows(d)) failures.push(`${path} frame ${d.frame} ${d.field}: ours=${d.ours.slice(0, 120)} tshark=${d.tshark.slice(0, 120)}`);
    }
    if (known && diffs.length === 0) stale.push(`${path} now agrees with tshark: remove it from KNOWN`);
  }
  assert.deepEqual([...failures, ...stale], []);
  assert.ok(compared > 1500, `only ${compared} messages compared`);
});

test('the malformed names tshark also flags are the weirds Loopy counts', { skip: corpusSkipReason() }, async () => {
  const weirds = async (path: string) => (await run(path)).capture.weirds;
  // tshark: "<Name contains a pointer that loops>" in frame 2.
  assert.equal((await weirds('malformed/zeek__dns-dns-invalid-names.pcap')).get('dns_name_loop'), 1);
  // The question name starts fb 03: a pointer to offset 0x303, past itself.
  assert.equal((await weirds('malformed/tcpdump__dns_fwdptr.pcap')).get('DNS_label_forward_compress_offset'), 1);
  // tshark: "[Packet size limited during capture: DNS truncated]" in the answer section.
  assert.equal((await weirds('dns/tcpdump__dns_udp_2.pcap')).get('DNS_truncated_ans_too_short'), 1);
  // tshark: "Malformed Packet" after the OPT option whose length runs past its rdata.
  assert.equal((await weirds('malformed/zeek__dns-dns-edns-bad-length.pcap')).get('EDNS_truncated_option'), 1);
});

test('DNS over TCP: every message of the clean TCP captures is framed, none lost', { skip: corpusSkipReason() }, async () => {
  for (const path of ['dns/dnscap__dnso1tcp.pcap', 'dns/dnscap__dnsotcp-many1pkt.pcap', 'dns/dnscap__dnsotcp-manyopkts.pcap', 'dns/tcpdump__dns_tcp.pcap', 'dns/zeek__dns-tkey.pcap']) {
    const { capture, diffs } = await run(path);
    assert.deepEqual(diffs, [], path);
    assert.deepEqual(capture.weirds.list(), [], path);
  }
  // In these every query has its response (many1pkt/manyopkts hold queries whose answers were not captured).
  for (const path of ['dns/dnscap__dnso1tcp.pcap', 'dns/tcpdump__dns_tcp.pcap', 'dns/zeek__dns-tkey.pcap']) {
    const dns = (await run(path)).capture.recordsOf<DnsRecord>('dns');
    assert.ok(dns.length > 0, path);
    assert.ok(dns.every((r) => typeof r.rtt === 'number' && r.rtt > 0 && r.rcode !== undefined), `${path}: unmatched records`);
  }
});
