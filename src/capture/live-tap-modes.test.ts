/**
 * The addon's tap-mode options (immediate, packetsPerCall), on real traffic between two network namespaces
 * (root only): each mode must still deliver exactly the frames sent, in order, and packetsPerCall must bound
 * the packets per onBatch call. The capturing child runs in the capturing namespace and sends the datagrams
 * itself, to a closed port on the other side, so every datagram is one frame out and one ICMP port
 * unreachable in: 2 × N frames, nothing else (no IPv6, static neighbours, a kernel filter).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { type LiveOpenOptions, captureAddonProblem } from './live-addon.js';
import { IF_CAP, NS_CAP, setUpNamespaces, tearDownNamespaces } from './live-netns.test-util.js';

const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const underTsx = import.meta.url.endsWith('.ts');
const addonModule = new URL(`./live-addon.${underTsx ? 'ts' : 'js'}`, import.meta.url).href;

const N = 100; // datagrams; 2N frames stay far below the smallest ring (immediate mode: 1023 frames)
const PORT = 40003;
const TPACKET_V2 = 1; // linux/if_packet.h: enum tpacket_versions { TPACKET_V1, TPACKET_V2, TPACKET_V3 }
const TPACKET_V3 = 2; // closed on the sending side's peer: each datagram draws one ICMP port unreachable

function skipReason(): string | false {
  const reason = captureAddonProblem()
    ?? (process.getuid?.() !== 0 ? 'live tap-mode tests need root (they create network namespaces)' : undefined)
    ?? (spawnSync('ip', ['-V']).status !== 0 ? 'the ip command (iproute2) is not installed' : undefined);
  if (reason && process.env.CI) throw new Error(`${reason} (required in CI)`);
  return reason ?? false;
}

interface ChildReport {
  /** [count, meta.length] of each onBatch call, in order. */
  calls: Array<[number, number]>;
  /** UDP payloads, in capture order. */
  udp: string[];
  icmp: number;
  other: number;
  /** PACKET_VERSION of the capture socket as the kernel reports it: 1 = TPACKET_V2, 2 = TPACKET_V3. */
  packetVersion: number;
  stats: { received: number; dropped: number; ifDropped: number; addonDropped: number };
  error?: string;
}

// Runs in the capturing namespace: opens the capture with the options under test, sends N datagrams to
// the peer (paced), waits (bounded) for 2N frames, then 300 ms more so that any extra frame would show, and reports.
const CHILD = `
const { loadCaptureAddon } = await import(${JSON.stringify(addonModule)});
const { createSocket } = await import('node:dgram');
const { spawnSync } = await import('node:child_process');
const cfg = JSON.parse(process.argv[1]);
const addon = loadCaptureAddon();
const report = { calls: [], udp: [], icmp: 0, other: 0 };
let all;
const complete = new Promise((r) => (all = r));
const h = addon.openLive(cfg.device, { filter: cfg.filter, timeoutMs: 50, ...cfg.options }, (data, meta, count) => {
  report.calls.push([count, meta.length]);
  for (let i = 0; i < count; i++) {
    const off = meta[i * 5], caplen = meta[i * 5 + 1];
    // Ethernet (14 bytes), then IPv4 (20, no options): protocol at 14 + 9, UDP payload from 14 + 20 + 8.
    if (data.readUInt16BE(off + 12) !== 0x0800) report.other++;
    else if (data[off + 23] === 17) report.udp.push(data.toString('latin1', off + 42, off + caplen));
    else if (data[off + 23] === 1) report.icmp++;
    else report.other++;
  }
  if (report.udp.length + report.icmp + report.other >= 2 * cfg.n) all();
}, (message) => { console.log(JSON.stringify({ error: message })); process.exit(1); });
// The kernel's view of our packet socket (ss -0 -e): "ver:N" is the PACKET_VERSION libpcap chose.
const ss = spawnSync('ss', ['-0', '-e', '-p', '-n'], { encoding: 'utf8' }).stdout;
const ours = ss.split(/\\n(?=\\S)/).find((entry) => entry.includes('pid=' + process.pid + ','));
report.packetVersion = Number(/\\bver:(\\d+)/.exec(ours ?? '')?.[1] ?? -1);
const s = createSocket('udp4');
// Bursts of 10 every 20 ms (500/s): under the kernel's ICMP rate limit (icmp_msgs_per_sec 1000, burst 50).
for (let i = 0; i < cfg.n; i++) {
  s.send('tap ' + i, cfg.port, cfg.peer);
  if (i % 10 === 9) await new Promise((r) => setTimeout(r, 20));
}
let timer;
await Promise.race([complete, new Promise((r) => (timer = setTimeout(r, 10000)))]);
clearTimeout(timer);
await new Promise((r) => setTimeout(r, 300));
report.stats = addon.stats(h);
addon.close(h);
s.close();
console.log(JSON.stringify(report));
`;

/** The other end's address: the permanent neighbour the namespace helper set on the capturing side. */
function peerAddress(): string {
  const r = spawnSync('ip', ['-n', NS_CAP, '-j', 'neigh', 'show', 'dev', IF_CAP], { encoding: 'utf8', timeout: 10_000 });
  const neighbours = JSON.parse(r.stdout) as Array<{ dst: string }>;
  assert.equal(neighbours.length, 1, `one static neighbour on ${IF_CAP}: ${r.stdout}`);
  return neighbours[0].dst;
}

function captureInNamespace(options: LiveOpenOptions): ChildReport {
  const cfg = { device: IF_CAP, filter: `udp port ${PORT} or icmp`, options, n: N, port: PORT, peer: peerAddress() };
  const r = spawnSync(
    'ip',
    ['netns', 'exec', NS_CAP, process.execPath, ...(underTsx ? ['--import', 'tsx'] : []), '--input-type=module', '-e', CHILD, JSON.stringify(cfg)],
    { cwd: projectRoot, encoding: 'utf8', timeout: 30_000 },
  );
  assert.equal(r.status, 0, `capture child failed: ${r.stderr}${r.stdout}`);
  const report = JSON.parse(r.stdout.trim().split('\n').pop()!) as ChildReport;
  assert.equal(report.error, undefined);
  return report;
}

const sent = Array.from({ length: N }, (_, i) => `tap ${i}`);

/** Exactly the frames sent: every datagram once and in order, one ICMP reply each, nothing else, no drops. */
function assertExactlyWhatWasSent(r: ChildReport): void {
  assert.deepEqual(r.udp, sent);
  assert.equal(r.icmp, N, 'one ICMP port unreachable per datagram');
  assert.equal(r.other, 0);
  assert.equal(r.calls.reduce((n, [count]) => n + count, 0), 2 * N);
  for (const [count, words] of r.calls) assert.equal(words, 5 * count, 'meta holds 5 words per packet');
  assert.equal(r.stats.dropped, 0);
  assert.equal(r.stats.addonDropped, 0);
}

describe('tap modes on real traffic between two network namespaces', { skip: skipReason() }, () => {
  before(setUpNamespaces);
  after(tearDownNamespaces);

  test('the default (ring blocks, a batch per call) delivers exactly what was sent', () => {
    const r = captureInNamespace({});
    assertExactlyWhatWasSent(r);
    assert.equal(r.packetVersion, TPACKET_V3, 'ring blocks');
  });

  test('immediate mode switches the socket to TPACKET_V2 and delivers exactly what was sent', () => {
    const r = captureInNamespace({ immediate: true });
    assertExactlyWhatWasSent(r);
    assert.equal(r.packetVersion, TPACKET_V2, 'immediate mode: a frame per packet, no blocks');
  });

  test('packetsPerCall 1 makes one onBatch call per packet', () => {
    const r = captureInNamespace({ packetsPerCall: 1 });
    assertExactlyWhatWasSent(r);
    assert.equal(r.calls.length, 2 * N);
    assert.ok(r.calls.every(([count]) => count === 1), `counts per call: ${r.calls.map(([c]) => c).join(',')}`);
  });

  test('immediate mode with packetsPerCall 1: one call per packet', () => {
    const r = captureInNamespace({ immediate: true, packetsPerCall: 1 });
    assertExactlyWhatWasSent(r);
    assert.equal(r.packetVersion, TPACKET_V2);
    assert.equal(r.calls.length, 2 * N);
    assert.ok(r.calls.every(([count]) => count === 1));
  });

  test('packetsPerCall 3 caps every call at 3 packets and still fills calls to 3', () => {
    const r = captureInNamespace({ packetsPerCall: 3 });
    assertExactlyWhatWasSent(r);
    const counts = r.calls.map(([c]) => c);
    assert.ok(counts.every((c) => c >= 1 && c <= 3), `counts per call: ${counts.join(',')}`);
    // The frames arrive in bursts of 20 and ring blocks hold many of them: only the last call of a block can
    // be short, so most calls are full (a limit that degenerated to 1 would give none).
    assert.ok(counts.filter((c) => c === 3).length >= N / 3, `counts per call: ${counts.join(',')}`);
  });
});
