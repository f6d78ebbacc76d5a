/**
 * Golden test, whole pipeline: every DNS message on port 53 that the engine decodes, in every corpus file
 * tshark reads cleanly, agrees with corpus-reference/<file>.dns.tsv frame by frame (id, QR, question name and
 * type, header rcode, answer count, every A/AAAA/CNAME). Accepted differences are listed with their reason;
 * a listed file that starts to agree fails the test, so the list stays true.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { Engine } from '../analyze/engine.js';
import { defaultApps } from '../analyze/apps/index.js';
import { makeDnsRegistration } from '../analyze/apps/dns/index.js';
import { diffAgainstTshark, type DnsDifference, type ObservedDnsMessage } from '../analyze/apps/dns/tshark-diff.js';
import { flowEndpoints } from '../analyze/flows/conn-record.js';
import { CaptureFileError, openCaptureFile } from '../capture/capture-file.js';
import { defaultProtocols } from '../decode/protocols/index.js';
import { corpusPath, corpusSkipReason, haveCorpus, readManifest, referencePath } from '../test-support/corpus.js';

type Allow = (d: DnsDifference) => boolean;
const tsharkOnly: Allow = (d) => d.field === 'frame' && d.ours === '';
const oursOnly: Allow = (d) => d.field === 'frame' && d.tshark === '';
const nameFields: Allow = (d) => d.field === 'qname' || d.field === 'qtype';

export const KNOWN_DNS_DIFFERENCES: Record<string, { why: string; allows: Allow }> = {
  'dns/tcpdump__dns_udp_8053.pcap': { why: 'tshark guesses DNS on port 8053; Loopy claims only the DNS ports', allows: tsharkOnly },
  'malformed/tcpdump__someip1.pcap': { why: 'tshark guesses DNS on SOME/IP ports 30490/31490', allows: tsharkOnly },
  'dns/dnscap__dnso1tcp-bighole.pcap': { why: 'after the hole Loopy resynchronises the client side; tshark loses it', allows: oursOnly },
  'dns/dnscap__do1t-nosyn-1nolen.pcap': { why: 'Loopy reads the query whose length prefix was lost, and the ones after it', allows: oursOnly },
  'dns/dnscap__dnso1tcp-midmiss.pcap': {
    why: 'the response after the missing segment is handed over one packet later (frame 15), when the ACK proves the loss',
    allows: (d) => d.field === 'frame' && ((d.frame === 14 && d.ours === '') || (d.frame === 15 && d.tshark === '')),
  },
  'mixed/zeek__tunnels-gre-sample.pcap': { why: 'tshark decodes the DNS quoted inside ICMP errors (frames 34, 36)', allows: (d) => tsharkOnly(d) && [34, 36].includes(d.frame) },
  'mixed/zeek__icmp-icmp-destunreach-udp.pcap': { why: 'tshark decodes the DNS quoted inside an ICMP port unreachable', allows: tsharkOnly },
  'mixed/dpkt__nb6-http.pcap': { why: 'tshark decodes the DNS quoted inside an ICMP port unreachable (frame 34)', allows: (d) => tsharkOnly(d) && d.frame === 34 },
  'dns/pcpp__dns_over_tcp.pcapng': {
    why: 'the capture jumps 50 years between packets: the idle timeout ends the flow, and the retransmission after the jump starts a new one that Loopy reads again',
    allows: (d) => oursOnly(d) && d.frame === 4,
  },
  'mixed/zeek__radiotap.pcap': { why: 'link type 127 (802.11 radiotap) is counted as unsupported', allows: tsharkOnly },
  'mixed/zeek__dns-inverse-query.pcap': { why: 'link type 10 (FDDI) is counted as unsupported', allows: tsharkOnly },
  'mixed/pcpp__nflogPacket.pcap': { why: 'link type 239 (NFLOG) is counted as unsupported', allows: tsharkOnly },
  'mixed/libpcap__arcnet-rfc1051-arp-icmp-http.pcap': { why: 'link type 129 (ARCNET) is counted as unsupported', allows: tsharkOnly },
  'malformed/tcpdump__LINKTYPE_IPV4_invalid.pcap': { why: 'an IPv6 packet under LINKTYPE_IPV4: Loopy counts unknown_ip_version, tshark decodes it', allows: tsharkOnly },
  'ipv6/zeek__communityid-icmp6.pcap': { why: 'tshark decodes the DNS quoted inside an ICMPv6 error (frame 35)', allows: (d) => tsharkOnly(d) && d.frame === 35 },
  'malformed/tcpdump__rtp-seg-fault-1.pcapng': { why: 'the IPv4 total length leaves 9 bytes of UDP payload; tshark trusts the bogus UDP length', allows: tsharkOnly },
  'malformed/tcpdump__dns_fwdptr.pcap': { why: 'tshark follows forward pointers; Loopy stops at the first (DNS_label_forward_compress_offset)', allows: nameFields },
  'malformed/tcpdump__dns-badlabel.pcap': { why: 'the first name is over 255 bytes: Loopy stops (DNS_NAME_too_long), tshark prints <Name too long>', allows: nameFields },
  'malformed/zeek__dns-dns-invalid-names.pcap': { why: 'a looping name: tshark prints a placeholder, Loopy stops (dns_name_loop)', allows: (d) => d.frame === 2 && nameFields(d) },
  'malformed/zeek__dns-dns-edns-bad-length.pcap': { why: 'tshark stops at the bad EDNS option; Loopy skips the OPT by its rdlength and reads the A record after it', allows: (d) => d.field === 'a' && d.tshark === '' },
};

async function observe(path: string): Promise<ObservedDnsMessage[]> {
  const observed: ObservedDnsMessage[] = [];
  const dns = makeDnsRegistration({
    onMessage: (msg, flowId) => {
      const flow = engine.connections.table.flowOf(flowId);
      const ep = flowEndpoints(engine.connections, flow);
      // tshark's -Y dns leaves out mDNS and LLMNR: port 53 only.
      if (ep.origPort === 53 || ep.respPort === 53) observed.push({ frame: engine.packets, msg });
    },
  });
  const engine: Engine = new Engine({ protocols: defaultProtocols, apps: defaultApps.map((a) => (a.name === 'dns' ? dns : a)) });
  try {
    for await (const batch of openCaptureFile(corpusPath(path))) engine.processBatch(batch);
  } catch (err) {
    if (!(err instanceof CaptureFileError)) throw err;
  }
  engine.finish();
  return observed;
}

test('corpus: every DNS message through the whole engine agrees with tshark', { skip: corpusSkipReason() }, async () => {
  const rows = haveCorpus() ? readManifest().filter((r) => r.tsharkStatus === 'ok') : [];
  const failures: string[] = [];
  const stale: string[] = [];
  let compared = 0;
  for (const row of rows) {
    const tsvPath = referencePath(row.path, 'dns.tsv');
    const tsv = existsSync(tsvPath) ? readFileSync(tsvPath, 'utf8') : '';
    const observed = await observe(row.path);
    if (tsv === '' && observed.length === 0) continue;
    compared += observed.length;
    const known = KNOWN_DNS_DIFFERENCES[row.path];
    const diffs = diffAgainstTshark(observed, tsv);
    for (const d of diffs) if (!known?.allows(d)) failures.push(`${row.path} frame ${d.frame} ${d.field}: ours=${d.ours.slice(0, 100)} tshark=${d.tshark.slice(0, 100)}`);
    if (known && diffs.length === 0) stale.push(`${row.path} now agrees with tshark: remove it from KNOWN_DNS_DIFFERENCES`);
  }
  assert.deepEqual([...failures.slice(0, 40), ...stale], []);
  assert.ok(compared > 1300, `only ${compared} messages compared`);
});
