import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { takeCensus, type Census } from './capture-census.js';
import { generateCapture, type GenerateOptions, type GroundTruth } from './generate.js';
import { TUNNEL_DOMAIN } from './incidents.js';

/** Generates into memory through a Writable, as a caller streaming to a socket would. */
async function generate(options: GenerateOptions): Promise<{ file: Buffer; truth: GroundTruth }> {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk);
      done();
    },
  });
  const truth = await generateCapture(options, sink);
  return { file: Buffer.concat(chunks), truth };
}

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

const ALL_INCIDENTS = ['port_scan', 'host_sweep', 'dns_tunnel', 'nxdomain_burst'] as const;
let shared: Promise<{ file: Buffer; truth: GroundTruth; census: Census }> | undefined;
/** One mixed capture with every incident, shared by the checks below (a few seconds to make). */
function mixed(): Promise<{ file: Buffer; truth: GroundTruth; census: Census }> {
  shared ??= generate({ seed: 11, packets: 30_000, incidents: ALL_INCIDENTS, details: true }).then((r) => ({ ...r, census: takeCensus(r.file) }));
  return shared;
}

test('same seed gives byte-identical output; another seed does not', async () => {
  const a = await generate({ seed: 42, packets: 3000 });
  const b = await generate({ seed: 42, packets: 3000 });
  const c = await generate({ seed: 43, packets: 3000 });
  assert.ok(a.file.length > 100_000);
  assert.equal(sha256(a.file), sha256(b.file));
  assert.deepEqual(a.truth, b.truth);
  assert.notEqual(sha256(a.file), sha256(c.file));
});

test('writing to a file path gives the same bytes as writing to a stream', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'loopy-synth-'));
  try {
    const path = join(dir, 'x.pcap');
    await generateCapture({ seed: 5, packets: 2000 }, path);
    const viaStream = await generate({ seed: 5, packets: 2000 });
    assert.equal(sha256(readFileSync(path)), sha256(viaStream.file));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('every IPv4 header and TCP/UDP/ICMP/ICMPv6 checksum verifies, and time never goes back', async () => {
  const { census } = await mixed();
  assert.ok(census.packets > 30_000);
  assert.equal(census.badChecksums, 0);
  assert.equal(census.outOfOrder, 0);
});

test('the checksum check notices a flipped byte (so the test above can fail)', async () => {
  const { file } = await generate({ seed: 4, packets: 500 });
  const damaged = Buffer.from(file);
  // Byte 42 of the first frame: in the transport header of an IPv4 packet, or in the destination address
  // of an IPv6 one (part of the pseudo-header): either way exactly one checksum covers it.
  damaged[24 + 16 + 42] ^= 0x5a;
  assert.equal(takeCensus(file).badChecksums, 0);
  assert.equal(takeCensus(damaged).badChecksums, 1);
});

test('the ground truth counts what is in the file', async () => {
  const { truth, census } = await mixed();
  assert.equal(truth.packets, census.packets);
  assert.equal(truth.bytes, census.bytes);
  assert.equal(truth.ipv4Packets, census.ipv4Packets);
  assert.equal(truth.ipv6Packets, census.ipv6Packets);
  assert.equal(truth.tcpPackets, census.tcpPackets);
  assert.equal(truth.udpPackets, census.udpPackets);
  assert.equal(truth.icmpPackets, census.icmpPackets);
  assert.equal(truth.tcp.connections, census.tcpConnections.size);
  assert.deepEqual(truth.tcp.states, { SF: 0, S0: 0, REJ: 0, RSTO: 0, RSTR: 0, ...census.tcpStates });
  assert.equal(truth.tcp.origRetransmits + truth.tcp.respRetransmits + truth.tcp.synRetransmits, census.retransmissions);
  assert.equal(truth.dns.queries, census.dnsQueries);
  assert.equal(truth.dns.responses, census.dnsResponses);
  assert.equal(truth.dns.nxdomain, census.dnsNxdomain);
  assert.equal(truth.tls.clientHellos, census.clientHellos);
  assert.deepEqual(truth.tls.serverNames, census.serverNames);
  assert.deepEqual(truth.http.methods, census.httpMethods);
  assert.deepEqual(truth.http.statuses, census.httpStatuses);
  assert.equal(truth.icmp.echoRequests, census.echoRequests);
  assert.equal(truth.icmp.echoReplies, census.echoReplies);
});

test('the mix is believable: every kind of traffic and every TCP ending shows up', async () => {
  const { truth } = await mixed();
  for (const [state, n] of Object.entries(truth.tcp.states)) assert.ok(n > 0, `no ${state} connections`);
  assert.ok(truth.tcp.origRetransmits + truth.tcp.respRetransmits > 0, 'some data retransmissions');
  assert.ok(truth.dns.cnameResponses > 0 && truth.dns.nxdomain > 0 && truth.dns.unanswered > 0);
  assert.ok(truth.tls.versions.TLSv13 > 0 && truth.tls.versions.TLSv12 > 0 && truth.tls.withoutSni > 0);
  assert.ok(truth.http.requests > 0 && truth.ssh.sessions > 0 && truth.udp.ntpFlows > 0 && truth.icmp.sessions > 0);
  const v6Share = truth.ipv6Packets / truth.packets;
  assert.ok(v6Share > 0.04 && v6Share < 0.2, `IPv6 share ${v6Share}`);
});

test('details list each connection with the packet counts seen in the file', async () => {
  const { truth, census } = await mixed();
  const conns = truth.connections!;
  assert.equal(conns.length, truth.tcp.connections + truth.udp.flows + truth.icmp.sessions);
  const tcp = conns.filter((c) => c.proto === 'tcp');
  assert.equal(tcp.length, census.tcpConnections.size);
  for (const c of tcp) {
    const seen = census.tcpConnections.get(`${c['id.orig_h']}:${c['id.orig_p']}>${c['id.resp_h']}:${c['id.resp_p']}`);
    assert.ok(seen, `connection ${c['id.orig_h']}:${c['id.orig_p']} not in the file`);
    assert.deepEqual([seen.state, seen.origPkts, seen.respPkts], [c.conn_state, c.orig_pkts, c.resp_pkts]);
  }
  const ipBytes = conns.reduce((n, c) => n + c.orig_ip_bytes + c.resp_ip_bytes, 0);
  assert.equal(ipBytes, truth.ipBytes);
});

test('incidents: a 1024-port SYN scan, a /24 sweep, a TXT tunnel and an NXDOMAIN burst, each from its own host', async () => {
  const { truth, census } = await mixed();
  const byKind = new Map(truth.incidents.map((i) => [i.kind, i]));
  const scan = byKind.get('port_scan')!;
  const scanned = [...census.synsBySource.get(scan.source)!].filter((t) => t.startsWith(`${scan.target}:`));
  assert.equal(scanned.length, 1024);
  assert.equal(scan.probes, 1024);
  const sweep = byKind.get('host_sweep')!;
  const swept = [...census.synsBySource.get(sweep.source)!].filter((t) => t.endsWith(':22') && t.startsWith('192.168.20.'));
  assert.equal(new Set(swept).size, 254);
  const tunnel = byKind.get('dns_tunnel')!;
  const tunnelNames = census.dnsNamesBySource.get(tunnel.source)!;
  assert.equal(tunnelNames.length, tunnel.probes);
  assert.ok(tunnelNames.every((n) => n.endsWith(`.${TUNNEL_DOMAIN}`) && n.length > 80));
  const burst = byKind.get('nxdomain_burst')!;
  assert.equal(census.dnsNamesBySource.get(burst.source)!.length, burst.probes);
  for (const i of truth.incidents) assert.ok(i.start >= truth.firstTs && i.end <= truth.lastTs && i.end > i.start);
});

test('options: VLAN tag on every frame, no IPv6 at share 0, start time honoured', async () => {
  const { file, truth } = await generate({ seed: 3, packets: 2000, vlan: 42, ipv6Share: 0, startTime: 1_600_000_000 });
  const census = takeCensus(file);
  assert.equal(census.vlanPackets, census.packets);
  assert.deepEqual([...census.vlans], [42]);
  assert.equal(truth.vlanPackets, truth.packets);
  assert.equal(census.ipv6Packets, 0);
  assert.equal(census.badChecksums, 0);
  assert.equal(truth.firstTs, 1_600_000_000);
  assert.equal(file.readUInt32LE(24), 1_600_000_000);
});

test('a duration bounds when sessions start', async () => {
  const { truth } = await generate({ seed: 9, durationSeconds: 5 });
  assert.ok(truth.packets > 1000);
  // Sessions started in the first 5 s; the longest (SSH, S0 back-off) end within a few minutes.
  assert.ok(truth.lastTs - truth.firstTs < 300);
});

const haveTcpdump = spawnSync('tcpdump', ['--version']).status === 0;
test('tcpdump -vv finds no bad checksum', { skip: haveTcpdump ? false : 'tcpdump is not on PATH' }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'loopy-synth-'));
  try {
    const path = join(dir, 'x.pcap');
    await generateCapture({ seed: 21, packets: 5000, incidents: ['port_scan'] }, path);
    const out = spawnSync('tcpdump', ['-r', path, '-vv', '-n'], { encoding: 'utf8', maxBuffer: 256 << 20 });
    assert.equal(out.status, 0, out.stderr);
    const bad = out.stdout.split('\n').filter((l) => /incorrect|bad (udp |icmp6? )?cksum|wrong .*cksum/i.test(l));
    assert.deepEqual(bad.slice(0, 3), []);
    assert.ok((out.stdout.match(/\(correct\)/g) ?? []).length > 1000, 'tcpdump checked TCP checksums');
    assert.ok(out.stdout.includes('[udp sum ok]'), 'tcpdump checked UDP checksums');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
