/**
 * The decoders over the whole capture corpus, checked against tshark's view (corpus-reference/):
 * every TCP/UDP layer the sink receives is counted per conversation (an endpoint pair, either direction),
 * and the counts must equal tshark's `-z conv,tcp` / `-z conv,udp` frame totals. tshark counts each TCP/UDP
 * layer too (a VXLAN frame counts in the outer UDP and the inner conversation), so the two are comparable.
 * Files that differ for a known reason are listed with it; a listed file that starts to match fails, so the
 * list stays true.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { corpusPath, corpusSkipReason, haveCorpus, readManifest, referencePath } from '../../test-support/corpus.js';
import { readConversations, splitEndpoint } from '../../test-support/tshark-reference.js';
import type { Packet } from '../packet.js';
import { dissectCaptureFile, ipv4, ipv6 } from './test-helpers.js';

const rows = haveCorpus() ? readManifest() : [];

/** Why these files' conversations differ from tshark's. */
const KNOWN_DIFFERENCES: Record<string, string> = {
  'ipv6/zeek__tunnels-ayiya3.pcap': 'AYIYA (UDP 5072) tunnels are not decoded',
  'ipv6/libpcap__AH-IPcomp-IPv6.pcap': 'IPComp payloads are compressed; tshark inflates them, we stop at IPComp',
  'mixed/zeek__tunnels-gtp-gtp1_gn_normal_incl_fragmentation.pcap': 'no IP reassembly: we count each first fragment, tshark the reassembled datagrams it completed',
  'mixed/pcpp__ip4_fragments.pcap': 'no IP reassembly: first fragments of datagrams tshark cannot complete are counted',
  'mixed/zeek__ipv4-fragmented-1.pcap': 'no IP reassembly: two overlapping first fragments',
  'mixed/zeek__ipv4-fragmented-3.pcap': 'no IP reassembly: a first fragment of a datagram that never completes',
  'mixed/zeek__ipv4-fragmented-syn.pcap': 'no IP reassembly: the TCP header is split across fragments',
  'mixed/zeek__radiotap.pcap': 'link type 127 (802.11 radiotap) is not decoded',
  'mixed/zeek__dns-inverse-query.pcap': 'link type 10 (FDDI) is not decoded',
  'mixed/pcpp__nflogPacket.pcap': 'link type 239 (NFLOG) is not decoded',
  'mixed/libpcap__arcnet-rfc1051-arp-icmp-http.pcap': 'link type 129 (ARCNET) is not decoded',
  'malformed/tcpdump__LINKTYPE_IPV4_invalid.pcap': 'IPv6 under LINKTYPE_IPV4: we count unknown_ip_version, tshark decodes it as IPv6',
  'malformed/tcpdump__mptcp-dss-oobr.pcap': 'tshark gives up on the malformed MPTCP option and leaves the segment out of conv,tcp',
  'malformed/zeek__pbb-recursive-frames.pcapng': 'the frame nests 802.1ah past our layer limit (max_packet_analyzer_depth_exceeded); tshark goes deeper',
};

/** Weirds in files that are not in malformed/, with the reason they are right. */
const EXPECTED_WEIRDS: Record<string, string> = {
  'tcp/zeek__tcp-reassembly.pcap': 'truncated_IP_len: frames shorter than their IP total length (tshark flags them too)',
  'ipv6/zeek__ipv6-reassembly-state-leak.pcap': 'UDP_datagram_length_mismatch: a first fragment whose UDP header is zeroed',
};

/** "host:port" as tshark writes it → the same numbers the decoders store. */
function endpointKey(text: string): string {
  const { host, port } = splitEndpoint(text);
  const words = host.includes(':') ? ipv6(host) : [ipv4(host), 0, 0, 0];
  return `${words.join('.')}/${port}`;
}

function pairKey(a: string, b: string): string {
  return a < b ? `${a} ${b}` : `${b} ${a}`;
}

async function conversationDiffs(rel: string): Promise<string[]> {
  const ours = { 6: new Map<string, number>(), 17: new Map<string, number>() } as Record<number, Map<string, number>>;
  const count = (p: Packet) => {
    const table = ours[p.transport];
    if (!table) return;
    const words = p.ipVersion === 4 ? [p.src[0], 0, 0, 0] : Array.from(p.src);
    const dwords = p.ipVersion === 4 ? [p.dst[0], 0, 0, 0] : Array.from(p.dst);
    const key = pairKey(`${words.join('.')}/${p.srcPort}`, `${dwords.join('.')}/${p.dstPort}`);
    table.set(key, (table.get(key) ?? 0) + 1);
  };
  await dissectCaptureFile(corpusPath(rel), count);
  const diffs: string[] = [];
  for (const [proto, name] of [[6, 'tcp'], [17, 'udp']] as const) {
    const theirs = new Map<string, number>();
    for (const c of readConversations(referencePath(rel, `conv_${name}.txt`))) {
      const key = pairKey(endpointKey(c.a), endpointKey(c.b));
      theirs.set(key, (theirs.get(key) ?? 0) + c.framesAB + c.framesBA);
    }
    for (const [key, n] of theirs) if (ours[proto].get(key) !== n) diffs.push(`${name} ${key}: tshark ${n}, ours ${ours[proto].get(key) ?? 0}`);
    for (const [key, n] of ours[proto]) if (!theirs.has(key)) diffs.push(`${name} ${key}: tshark 0, ours ${n}`);
  }
  return diffs;
}

test('corpus: TCP/UDP layers per conversation match tshark', { skip: corpusSkipReason() }, async () => {
  const failures: string[] = [];
  let compared = 0;
  for (const row of rows) {
    const diffs = await conversationDiffs(row.path);
    compared++;
    const known = KNOWN_DIFFERENCES[row.path];
    if (diffs.length > 0 && !known) failures.push(`${row.path}: ${diffs.slice(0, 4).join('; ')}`);
    if (diffs.length === 0 && known) failures.push(`${row.path} now matches tshark: remove it from KNOWN_DIFFERENCES`);
  }
  assert.ok(compared >= 400, `only ${compared} corpus files compared`);
  assert.deepEqual(failures, []);
});

test('corpus: weirds only where the traffic is malformed, and no decoder throws', { skip: corpusSkipReason() }, async () => {
  const unexpected: string[] = [];
  let frames = 0;
  for (const row of rows) {
    const run = await dissectCaptureFile(corpusPath(row.path), () => {});
    frames += run.frames;
    if (row.path.startsWith('malformed/')) continue;
    const weirds = run.weirds.list();
    if ((weirds.length > 0) !== (row.path in EXPECTED_WEIRDS)) unexpected.push(`${row.path}: ${JSON.stringify(weirds)}`);
    if (run.readError) unexpected.push(`${row.path}: ${run.readError.message}`);
  }
  assert.ok(frames > 100_000, `only ${frames} frames decoded`);
  assert.deepEqual(unexpected, []);
});

test('corpus: the malformed files produce the weirds their names promise', { skip: corpusSkipReason() }, async () => {
  // File → the weird it must count (hand-checked against tshark's expert info for each file).
  const expected: Record<string, string> = {
    'malformed/tcpdump__ipv4_invalid_hdr_length.pcap': 'IPv4_min_header_size',
    'malformed/tcpdump__ipv4_invalid_total_length.pcap': 'truncated_IP_len',
    'malformed/tcpdump__ipv4_invalid_total_length_2.pcap': 'invalid_IP_header_size',
    'malformed/tcpdump__ipv6-bad-version.pcap': 'unknown_ip_version',
    'malformed/tcpdump__ipv6_39_byte_header.pcap': 'truncated_IP',
    'malformed/tcpdump__ipv6_missing_jumbo_payload_option.pcap': 'ipv6_missing_jumbo_option',
    'malformed/tcpdump__ipv6_jumbogram_invalid_length.pcap': 'truncated_IP_len',
    'malformed/tcpdump__udp-length-heapoverflow.pcap': 'truncated_header',
    'malformed/zeek__tcp-truncated-header.pcap': 'truncated_header',
    // A data offset of 28 bytes in 20 left (tcpdump: "bad hdr length 28 - too long"): Zeek's truncated_header;
    // bad_TCP_header_len is Zeek's name for an offset under 20 (src/tests/zeek-logs.test.ts crafts one).
    'malformed/pcpp__tcp-malformed.pcap': 'truncated_header',
    'malformed/zeek__trunc-icmp-header-trunc.pcap': 'truncated_header',
    'malformed/zeek__trunc-trunc-hdr.pcap': 'truncated_ethernet_frame',
    'malformed/zeek__pbb-recursive-frames.pcapng': 'max_packet_analyzer_depth_exceeded',
    'malformed/tcpdump__heap-overflow-1.pcap': 'unknown_ip_version',
  };
  const missing: string[] = [];
  for (const [rel, weird] of Object.entries(expected)) {
    const run = await dissectCaptureFile(corpusPath(rel), () => {});
    if (run.weirds.get(weird) === 0) missing.push(`${rel}: no ${weird} in ${JSON.stringify(run.weirds.list())}`);
  }
  assert.deepEqual(missing, []);
});
