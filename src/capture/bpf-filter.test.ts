import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { compilePacketFilter } from './bpf-filter.js';
import { openCaptureFile } from './capture-file.js';
import { META_STRIDE, type PacketBatch } from './batch.js';
import { captureAddonProblem } from './live-addon.js';
import { readClassicPcap, type ClassicPcap } from './classic-pcap.test-util.js';
import { corpusPath, corpusSkipReason, haveCorpus, referencePath } from '../test-support/corpus.js';

/** Skips when the addon is not built; in CI a missing addon is a failure, not a skip. */
function addonSkipReason(): string | false {
  const problem = captureAddonProblem();
  if (!problem) return false;
  if (process.env.CI) throw new Error(`${problem} (required in CI)`);
  return problem;
}

function tcpdumpSkipReason(): string | false {
  const ok = spawnSync('tcpdump', ['--version']).status === 0;
  return ok ? false : 'tcpdump is not installed: it is the oracle of these tests';
}

const addonSkip = addonSkipReason();
const corpusSkip = corpusSkipReason();
const oracleSkip = addonSkip || corpusSkip || tcpdumpSkipReason();

// ---------------------------------------------------------------------------------------------------------
// Hand-made frames, checked with `tcpdump -nn -v` on a one-frame pcap of each:
// A, Ethernet (LINKTYPE 1): 02:00:00:00:00:01 > 02:00:00:00:00:02, IPv4 (tos 0, ttl 64, id 1, len 32,
//    cksum 66ca) 10.0.0.1.5353 > 10.0.0.2.53 UDP length 12, payload "abcd".
const FRAME_A =
  '020000000002' + '020000000001' + '0800' + // dst MAC, src MAC, ethertype IPv4
  '4500002000010000401166ca' + '0a000001' + '0a000002' + // IPv4 header, 10.0.0.1 > 10.0.0.2, proto 17
  '14e90035000c0000' + '61626364'; // UDP 5353 > 53, length 12, checksum 0; "abcd"
// B, raw IPv4 (LINKTYPE 101): 192.168.0.1.40000 > 192.168.0.2.80 TCP Flags [S], seq 1000, win 65535.
const FRAME_B =
  '45000028000240004006b97a' + 'c0a80001' + 'c0a80002' + // IPv4 header, DF, proto 6, len 40
  '9c400050' + '000003e8' + '00000000' + '5002ffff' + '00000000'; // ports, seq, ack, offset 5 + SYN, win; cksum, urg

function handBatch(): PacketBatch {
  const a = Buffer.from(FRAME_A, 'hex');
  const b = Buffer.from(FRAME_B, 'hex');
  const data = Buffer.concat([a, b]);
  // offset, caplen, wirelen, interface: A on interface 0 (Ethernet), B on interface 1 (raw IP)
  const meta = new Uint32Array([0, a.length, a.length, 0, a.length, b.length, b.length, 1]);
  return { data, count: 2, meta, ts: new Float64Array([1, 1]), linkTypes: [1, 101] };
}

test('hand-made frames of two link types in one batch', { skip: addonSkip }, () => {
  const batch = handBatch();
  const cases: Array<[string, number[]]> = [
    ['udp', [1, 0]],
    ['tcp[tcpflags] & tcp-syn != 0', [0, 1]],
    ['port 53', [1, 0]],
    ['host 192.168.0.2', [0, 1]],
    ['ip', [1, 1]],
    ['not src net 10.0.0.0/8', [0, 1]],
    ['udp dst port 53 and src port 5353', [1, 0]],
  ];
  for (const [expression, expected] of cases) {
    const filter = compilePacketFilter(expression, 1);
    assert.deepEqual([...filter.matches(batch)], expected, expression);
    assert.deepEqual(filter.problems, [], expression);
  }
});

test('an expression a link type cannot take leaves those frames unmatched and says why', { skip: addonSkip }, () => {
  // "ether host" exists on Ethernet only: libpcap refuses it for raw IP, as tcpdump would.
  const filter = compilePacketFilter('ether host 02:00:00:00:00:01', 1);
  assert.deepEqual([...filter.matches(handBatch())], [1, 0]);
  assert.equal(filter.problems.length, 1);
  assert.match(filter.problems[0], /^link type 101: /);
});

test('a bad expression throws one line with libpcap\'s message', { skip: addonSkip }, () => {
  assert.throws(
    () => compilePacketFilter('tcp port', 1),
    (err: Error & { code?: string }) =>
      err.code === 'LOOPY_BAD_FILTER' && !err.message.includes('\n') && /syntax error/.test(err.message),
  );
});

test('a frame whose offset and length run past the buffer never matches', { skip: addonSkip }, () => {
  const batch = handBatch();
  const meta = Uint32Array.from(batch.meta);
  meta[META_STRIDE + 1] = batch.data.length; // frame B now claims more bytes than remain
  assert.deepEqual([...compilePacketFilter('ip', 1).matches({ ...batch, meta })], [1, 0]);
});

// ---------------------------------------------------------------------------------------------------------
// Against tcpdump over corpus files: the same frames kept, in the same order.

const FILES = [
  'large/pcpp__many-protocols.pcap', // Ethernet: VLAN, IPv6, DNS, ARP
  'large/pcpp__example.pcap', // Ethernet: DNS, HTTP, TLS
  'dns/dnscap__vlan11.pcap', // 802.1Q
  'mixed/zeek__http-qinq-0.pcap', // QinQ
  'dns/dpkt__dns_icmp.pcap',
  'tcp/zeek__tcp-timestamp.pcap',
  'mixed/pcpp__sll.pcap', // LINUX_SLL (113)
  'mixed/zeek__linux_dlt_sll2.pcap', // LINUX_SLL2 (276)
  'mixed/pcpp__raw_ip.pcap', // LINKTYPE_RAW (101) = DLT_RAW (12)
  'ipv6/pcpp__four_ipv6_http_streams.pcap', // a file that says 12
  'mixed/dnscap__frags.pcap', // LINKTYPE_IPV4 (228), IPv4 fragments
  'mixed/gopacket__test_loopback.pcap', // NULL (0)
  'mixed/pcpp__nanosecs_big_endian.pcap', // big-endian, nanosecond
  'mixed/tcpdump__pptp.pcap', // big-endian; GRE/PPP inside
];

const COMMON = [
  'tcp', 'udp', 'icmp', 'ip6', 'icmp6', 'arp', 'vlan', 'vlan and udp', 'port 53', 'portrange 1-1024',
  'tcp[tcpflags] & tcp-syn != 0', 'udp or icmp', 'tcp and not port 80', 'ip and not udp', 'greater 1000',
  'less 100', 'vlan and tcp', 'vlan and port 53', 'vlan and tcp[tcpflags] & (tcp-syn|tcp-fin) != 0', 'vlan and vlan',
];

/** The second busiest IPv4 and IPv6 endpoints from tshark's endpoint tables (corpus-reference). */
function endpoints(rel: string): { v4?: string; v6?: string } {
  const path = referencePath(rel, 'iphosts.txt');
  if (!existsSync(path)) return {};
  const out: { v4?: string; v6?: string } = {};
  let table: 'v4' | 'v6' | undefined;
  const seen: string[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line.startsWith('IPv4 Endpoints')) (table = 'v4'), (seen.length = 0);
    else if (line.startsWith('IPv6 Endpoints')) (table = 'v6'), (seen.length = 0);
    const m = /^([0-9a-f.:]+)\s+\d+/.exec(line);
    if (!table || !m || !(table === 'v4' ? m[1].includes('.') : m[1].includes(':'))) continue;
    seen.push(m[1]);
    if (seen.length <= 2) out[table] = m[1];
  }
  return out;
}

function expressionsFor(rel: string): string[] {
  const { v4, v6 } = endpoints(rel);
  const list = [...COMMON];
  if (v4) list.push(`host ${v4}`, `net ${v4.split('.').slice(0, 2).join('.')}.0.0/16`, `src host ${v4} and tcp`);
  if (v6) list.push(`host ${v6}`, `not host ${v6}`);
  return list;
}

/** Frame fingerprint: µs timestamp (tcpdump -w writes µs), lengths and a hash of the bytes. */
function fingerprints(p: ClassicPcap, keep?: Uint8Array): string[] {
  const out: string[] = [];
  for (let i = 0; i < p.frames.length; i++) {
    if (keep && !keep[i]) continue;
    const f = p.frames[i];
    const usec = p.nanosecond ? Math.floor(f.tsFrac / 1000) : f.tsFrac;
    const bytes = p.data.subarray(f.offset, f.offset + f.caplen);
    out.push(`${f.tsSec}.${usec} ${f.caplen}/${f.len} ${createHash('sha1').update(bytes).digest('hex')}`);
  }
  return out;
}

/** tcpdump's kept frames, or its error when it refuses the expression. */
function tcpdumpKeeps(file: string, expression: string): { frames?: string[]; error?: string } {
  const r = spawnSync('tcpdump', ['-r', file, '-w', '-', expression], { maxBuffer: 64 << 20 });
  if (r.status !== 0) return { error: r.stderr.toString().trim() };
  return { frames: fingerprints(readClassicPcap(r.stdout)) };
}

function asBatch(p: ClassicPcap): PacketBatch {
  const meta = new Uint32Array(p.frames.length * META_STRIDE);
  p.frames.forEach((f, i) => meta.set([f.offset, f.caplen, f.len, 0], i * META_STRIDE));
  return { data: p.data, count: p.frames.length, meta, ts: new Float64Array(p.frames.length), linkTypes: [p.linkType] };
}

for (const rel of haveCorpus() ? FILES : []) {
  test(`filters keep what tcpdump keeps: ${rel}`, { skip: oracleSkip }, () => {
    const file = corpusPath(rel);
    const pcap = readClassicPcap(readFileSync(file));
    const batch = asBatch(pcap);
    let compared = 0;
    let selective = 0; // expressions that keep some frames but not all: the comparison has teeth
    for (const expression of expressionsFor(rel)) {
      const oracle = tcpdumpKeeps(file, expression);
      if (oracle.error) {
        assert.throws(() => compilePacketFilter(expression, pcap.linkType, pcap.snaplen, { bigEndian: pcap.bigEndian }),
          /bad filter/,
          `tcpdump refused "${expression}" (${oracle.error}) but loopy compiled it`);
        continue;
      }
      const filter = compilePacketFilter(expression, pcap.linkType, pcap.snaplen, { bigEndian: pcap.bigEndian });
      assert.deepEqual(fingerprints(pcap, filter.matches(batch)), oracle.frames, `"${expression}" on ${rel}`);
      compared++;
      if (oracle.frames!.length > 0 && oracle.frames!.length < pcap.frames.length) selective++;
    }
    assert.ok(compared >= 8, `only ${compared} expressions compiled for ${rel}`);
    assert.ok(selective >= 2, `only ${selective} expressions kept part of ${rel}`);
  });
}

/**
 * The same loopback capture as if written on a big-endian machine: header and record fields swapped, and
 * the NULL header's address family too (it is in the capturing host's order). Built by hand from
 * mixed/gopacket__test_loopback.pcap, whose frames all start with AF 30 (Darwin's AF_INET6).
 */
function bigEndianLoopback(p: ClassicPcap): Buffer {
  const out = Buffer.alloc(p.data.length);
  const h = p.data;
  out.writeUInt32BE(0xa1b2c3d4, 0);
  out.writeUInt16BE(2, 4);
  out.writeUInt16BE(4, 6);
  out.writeUInt32BE(p.snaplen, 16);
  out.writeUInt32BE(p.linkType, 20);
  for (const f of p.frames) {
    const rec = f.offset - 16;
    [f.tsSec, f.tsFrac, f.caplen, f.len].forEach((v, i) => out.writeUInt32BE(v, rec + 4 * i));
    h.copy(out, f.offset, f.offset, f.offset + f.caplen);
    if (f.caplen >= 4) out.writeUInt32BE(h.readUInt32LE(f.offset), f.offset);
  }
  return out;
}

test('the loopback address family is read in the file\'s byte order, as tcpdump does', { skip: oracleSkip }, () => {
  const little = readClassicPcap(readFileSync(corpusPath('mixed/gopacket__test_loopback.pcap')));
  assert.equal(little.data.readUInt32LE(little.frames[0].offset), 30); // AF_INET6 on Darwin, little-endian
  const dir = mkdtempSync(join(tmpdir(), 'loopy-bpf-'));
  try {
    const file = join(dir, 'loopback-be.pcap');
    writeFileSync(file, bigEndianLoopback(little));
    const big = readClassicPcap(readFileSync(file));
    assert.equal(big.bigEndian, true);
    for (const expression of ['ip6', 'tcp', 'tcp port 8080']) {
      const oracle = tcpdumpKeeps(file, expression).frames;
      assert.ok(oracle && oracle.length > 0, `tcpdump keeps frames of the big-endian file for ${expression}`);
      const right = compilePacketFilter(expression, big.linkType, big.snaplen, { bigEndian: true });
      assert.deepEqual(fingerprints(big, right.matches(asBatch(big))), oracle, expression);
      // Compiled for the wrong byte order, the family never matches: the option is what makes it right.
      const wrong = compilePacketFilter(expression, big.linkType, big.snaplen, { bigEndian: false });
      assert.deepEqual(fingerprints(big, wrong.matches(asBatch(big))), [], expression);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('one batch mixing three link types keeps, per source, what tcpdump keeps', { skip: oracleSkip }, () => {
  const rels = ['large/pcpp__many-protocols.pcap', 'mixed/pcpp__raw_ip.pcap', 'mixed/pcpp__sll.pcap'];
  const sources = rels.map((rel) => readClassicPcap(readFileSync(corpusPath(rel))));
  // Interleave the frames round-robin into one batch whose interface i is source i.
  const data = Buffer.concat(sources.map((s) => s.data));
  const bases = sources.map((_, i) => sources.slice(0, i).reduce((n, s) => n + s.data.length, 0));
  const order: Array<[number, number]> = [];
  for (let k = 0; order.length < sources.reduce((n, s) => n + s.frames.length, 0); k++) {
    sources.forEach((s, i) => k < s.frames.length && order.push([i, k]));
  }
  const meta = new Uint32Array(order.length * META_STRIDE);
  order.forEach(([i, k], j) => {
    const f = sources[i].frames[k];
    meta.set([bases[i] + f.offset, f.caplen, f.len, i], j * META_STRIDE);
  });
  const batch: PacketBatch = {
    data, count: order.length, meta, ts: new Float64Array(order.length), linkTypes: sources.map((s) => s.linkType),
  };
  assert.deepEqual(batch.linkTypes, [1, 101, 113]);
  for (const expression of ['tcp', 'udp and port 53', 'ip6', 'host 10.0.0.1']) {
    const keep = compilePacketFilter(expression, 1).matches(batch);
    sources.forEach((s, i) => {
      const mine = new Uint8Array(s.frames.length);
      order.forEach(([src, k], j) => src === i && (mine[k] = keep[j]));
      assert.deepEqual(fingerprints(s, mine), tcpdumpKeeps(corpusPath(rels[i]), expression).frames, `${expression} on ${rels[i]}`);
    });
  }
});

test('a reused, growing linkTypes array (pcapng interfaces appearing) is read afresh each batch', { skip: addonSkip }, () => {
  const filter = compilePacketFilter('ip', 1);
  const batch = handBatch();
  const linkTypes = [1, 101];
  assert.deepEqual([...filter.matches({ ...batch, linkTypes })], [1, 1]);
  // The reader's array changes in place: interface 1 is now Ethernet and a third interface appears.
  // Frame B's bytes (raw IPv4) read as Ethernet have no IPv4 ethertype at offset 12, so it no longer matches.
  linkTypes[1] = 1;
  linkTypes.push(113);
  assert.deepEqual([...filter.matches({ ...batch, linkTypes })], [1, 0]);
});

// Files tcpdump reads to the end (libpcap 1.10 stops at an interface whose snaplen or link type differs
// from the first one's, e.g. dns/pcpp__dns_over_tcp.pcapng).
const PCAPNG_FILES = [
  'tcp/gopacket__pcapng-le-test301.pcapng',
  'tcp/gopacket__pcapng-le-test300.pcapng', // 3 interfaces
  'mixed/pcpp__IcmpPackets.pcap', // pcapng despite its name
  'mixed/zeek__pcapng-multi-interface.pcapng',
  'mixed/zeek__vlan-pcp-dei.pcapng',
  'tcp/zeek__tcp-http-on-irc-port-missing-syn.pcapng',
];

/** Fingerprints without timestamps: pcapng time resolutions differ from what tcpdump -w writes. */
function untimed(list: string[]): string[] {
  return list.map((f) => f.slice(f.indexOf(' ') + 1));
}

for (const rel of haveCorpus() ? PCAPNG_FILES : []) {
  test(`pcapng through the file reader keeps what tcpdump keeps: ${rel}`, { skip: oracleSkip }, async () => {
    const file = corpusPath(rel);
    let nonEmpty = 0;
    for (const expression of COMMON) {
      const oracle = tcpdumpKeeps(file, expression);
      if (oracle.error) continue; // refused expressions are covered on the pcap files
      if (oracle.frames!.length > 0) nonEmpty++;
      const filter = compilePacketFilter(expression, 1);
      const kept: string[] = [];
      for await (const batch of openCaptureFile(file)) {
        const keep = filter.matches(batch); // batches are reused by the reader: use them at once
        for (let i = 0; i < batch.count; i++) {
          if (!keep[i]) continue;
          const [off, caplen, len] = batch.meta.subarray(i * META_STRIDE, i * META_STRIDE + 3);
          kept.push(`${caplen}/${len} ${createHash('sha1').update(batch.data.subarray(off, off + caplen)).digest('hex')}`);
        }
      }
      assert.deepEqual(kept, untimed(oracle.frames!), `"${expression}" on ${rel}`);
    }
    assert.ok(nonEmpty >= 2, `only ${nonEmpty} expressions kept anything in ${rel}`);
  });
}
