/**
 * Every corpus file read end to end and checked against tshark/capinfos (corpus-reference/*.frames.txt and
 * the manifest), with tcpdump -r as the second opinion on damaged files. Differences are listed below with
 * the reason; each listed case is still checked, against what tcpdump (libpcap 1.10) reports.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { CaptureFileError, openCaptureFile, type CaptureFileErrorCode } from './capture-file.js';
import { readAll } from './capture-test-support.js';
import { corpusPath, corpusSkipReason, haveCorpus, readManifest, referencePath } from '../test-support/corpus.js';

/**
 * Files tshark cannot read (or stops reading) where Loopy stops with an error, like tcpdump. `packets` is
 * how many packets come before the error; tcpdump's message is quoted from `tcpdump -r` here.
 */
const REFUSED: Record<string, { code: CaptureFileErrorCode; packets: number; tcpdump: string }> = {
  'malformed/libpcap__pcap-invalid-version-1.pcap': { code: 'LOOPY_BAD_VERSION', packets: 0, tcpdump: 'archaic pcap savefile format' },
  'malformed/libpcap__pcapng-invalid-vers-1.pcapng': { code: 'LOOPY_BAD_VERSION', packets: 0, tcpdump: 'unsupported pcapng savefile version 0.1' },
  'malformed/libpcap__pcapng-invalid-vers-2.pcapng': { code: 'LOOPY_BAD_VERSION', packets: 0, tcpdump: 'unsupported pcapng savefile version 1.1' },
  'malformed/libpcap__shb-option-too-long.pcapng': {
    // The SHB's option overruns the block, so its trailer is option bytes ("0000" = 0x30303030).
    code: 'LOOPY_BAD_MAGIC',
    packets: 0,
    tcpdump: "block total length in header and trailer don't match",
  },
  'malformed/libpcap__linktype-reserved-field-not-zero.pcap': {
    // libpcap 1.10.3 keeps the reserved bits in the link type and fails on it; newer libpcap and tshark say
    // "reserved field not zero".
    code: 'LOOPY_BAD_LINKTYPE',
    packets: 0,
    tcpdump: 'unknown data link type 3145728',
  },
  // tshark refuses the whole file; tcpdump (and Loopy) print section 1's packet, then stop at section 2.
  'malformed/gopacket__pcapng-le-test901.pcapng': { code: 'LOOPY_BAD_VERSION', packets: 1, tcpdump: 'pcap_loop: unknown pcapng savefile major version number 2' },
  // tshark reads the packet and then reports the cut, as tcpdump and Loopy do.
  'malformed/dpkt__truncated_dns_2.pcap': { code: 'LOOPY_TRUNCATED', packets: 1, tcpdump: 'pcap_loop: truncated dump file; tried to read 16 header bytes, only got 7' },
};

/**
 * Files Loopy reads like tshark where tcpdump stops (listed so the difference is a decision, not an accident):
 * - malformed/libpcap__pcap-invalid-version-2.pcap: version 2.5; tcpdump says "unsupported pcap savefile
 *   version 2.5"; tshark and Loopy accept any 2.x (the record format did not change).
 * - mixed/gopacket__pcapng-le-test202.pcapng, mixed/pcpp__pcapng-example.pcapng: interfaces of different link
 *   types; libpcap stops ("an interface has a type ... different from the type of the first interface").
 * - Records whose caplen exceeds the header's snaplen (e.g. malformed/zeek__trunc-trunc-hdr.pcap, snaplen 1):
 *   libpcap cuts them to the snaplen, tshark and Loopy keep the bytes that are in the file.
 */
const READ_LIKE_TSHARK = [
  'malformed/libpcap__pcap-invalid-version-2.pcap',
  'mixed/gopacket__pcapng-le-test202.pcapng',
  'mixed/pcpp__pcapng-example.pcapng',
];

/**
 * Earliest/latest timestamps where capinfos differs, and what Loopy reads instead (with where that comes from).
 * capinfos' first/last are the earliest/latest times (not the first/last packets').
 */
const TIMESTAMP_DIFFERENCES: Record<string, { earliest: number; latest: number; why: string }> = {
  'mixed/pcpp__pcapng-example.pcapng': {
    // tshark -T fields -e frame.time_epoch: frame 1 = 1422527998.578402281; frame 159 = 18446744073204.277451.
    earliest: 1422527998.578402,
    latest: 18446744073204.277451,
    why: 'capinfos takes the 64-bit timestamps of interface 1 as signed (-505 s) and so calls them the earliest',
  },
  'malformed/tcpdump__timestamp_invalid_micro.pcap': {
    // tcpdump -tt: 1418145369.999999, 1418145370.1000000, 1418145370.2147483648 (microseconds, unnormalised).
    earliest: 1418145369.999999,
    latest: 1418145370 + 2147483648 / 1e6,
    why: 'ts_usec 2147483648 is out of range; tshark reads it as signed, Loopy as unsigned like libpcap',
  },
  'malformed/tcpdump__timestamp_invalid_nano.pcap': {
    // tcpdump --nano -tt: 1418145369.999999999, 1418145370.1000000000, 1418145370.2147483648.
    earliest: 1418145369.999999999,
    latest: 1418145370 + 2147483648 / 1e9,
    why: 'ts_nsec 2147483648 is out of range; tshark reads it as signed, Loopy as unsigned like libpcap',
  },
};

/** capinfos' packet count, or undefined when it could not read the file. */
function tsharkPacketCount(path: string): number | undefined {
  const file = referencePath(path, 'frames.txt');
  if (!existsSync(file)) return undefined;
  const m = /^Number of packets:\s+(\d+)/m.exec(readFileSync(file, 'utf8'));
  return m ? Number(m[1]) : undefined;
}

/** Manifest epoch text to seconds, with the tolerance its printed precision allows (capinfos truncates). */
function manifestTime(text: string): { seconds: number; tolerance: number } | undefined {
  const m = /^(\d+)\.(\d+)$/.exec(text);
  if (!m) return undefined;
  const seconds = Number(text);
  const printed = 10 ** -m[2].length;
  // A float64 holds ~16 digits: at 1.8e13 s its step is 2^-8 s, coarser than 1 µs.
  const floatStep = seconds * 2 ** -52;
  return { seconds, tolerance: Math.max(1e-6, printed, 2 * floatStep) };
}

/** Link-type numbers named in the manifest, e.g. 'EN10MB(1)+NULL(0)' -> [0, 1]. */
function manifestLinkTypes(text: string): number[] {
  return [...new Set([...text.matchAll(/\((\d+)\)/g)].map((m) => Number(m[1])))].sort((a, b) => a - b);
}

test('every corpus file reads like tshark, or fails like tcpdump with a CaptureFileError', { skip: corpusSkipReason() }, async () => {
  const rows = haveCorpus() ? readManifest() : [];
  assert.ok(rows.length > 400, `manifest has ${rows.length} rows`);
  const problems: string[] = [];
  const fail = (path: string, what: string) => problems.push(`${path}: ${what}`);
  let packetsRead = 0;

  for (const row of rows) {
    const r = await readAll(openCaptureFile(corpusPath(row.path)));
    packetsRead += r.packets.length;
    if (r.error !== undefined && !(r.error instanceof CaptureFileError)) {
      fail(row.path, `threw something other than CaptureFileError: ${String(r.error)}`);
      continue;
    }
    const refused = REFUSED[row.path];
    const expectedCount = tsharkPacketCount(row.path);
    if (refused) {
      if (!(r.error instanceof CaptureFileError)) fail(row.path, `read without error; tcpdump says "${refused.tcpdump}"`);
      else if (r.error.code !== refused.code) fail(row.path, `${r.error.code} (${r.error.message}), expected ${refused.code}`);
      if (r.packets.length !== refused.packets) fail(row.path, `${r.packets.length} packets before the error, expected ${refused.packets}`);
      continue;
    }
    if (r.error) {
      fail(row.path, `unexpected error: ${r.error instanceof Error ? r.error.message : String(r.error)}`);
      continue;
    }
    if (expectedCount === undefined) fail(row.path, 'tshark could not count this file but Loopy read it: list it in REFUSED or explain');
    else if (r.packets.length !== expectedCount) fail(row.path, `${r.packets.length} packets, tshark counts ${expectedCount}`);

    if (r.info?.format !== row.format) fail(row.path, `format ${r.info?.format}, manifest ${row.format}`);
    if (r.packets.length > 0) {
      const want = manifestLinkTypes(row.linkType);
      const got = [...new Set(r.linkTypes)].sort((a, b) => a - b);
      if (want.join() !== got.join()) fail(row.path, `link types ${got.join()}, manifest ${row.linkType}`);
    }

    if (r.packets.length === 0) continue;
    let earliest = Infinity;
    let latest = -Infinity;
    for (const p of r.packets) {
      if (p.ts < earliest) earliest = p.ts;
      if (p.ts > latest) latest = p.ts;
    }
    const differs = TIMESTAMP_DIFFERENCES[row.path];
    if (differs) {
      if (Math.abs(earliest - differs.earliest) > 1e-6) fail(row.path, `earliest ${earliest}, expected ${differs.earliest} (${differs.why})`);
      if (Math.abs(latest - differs.latest) > Math.max(1e-6, differs.latest * 2 ** -51)) fail(row.path, `latest ${latest}, expected ${differs.latest} (${differs.why})`);
      continue;
    }
    for (const [label, ours, text] of [
      ['earliest', earliest, String(row.first_ts_epoch)],
      ['latest', latest, String(row.last_ts_epoch)],
    ] as const) {
      const want = manifestTime(text);
      if (!want) continue; // n/a: no timestamps (SPB-only files)
      if (Math.abs(ours - want.seconds) > want.tolerance) fail(row.path, `${label} ${ours}, capinfos ${text}`);
    }
  }
  assert.deepEqual(problems, []);
  assert.ok(packetsRead > 100000, `read ${packetsRead} packets`);
  for (const path of [...Object.keys(REFUSED), ...READ_LIKE_TSHARK, ...Object.keys(TIMESTAMP_DIFFERENCES)]) {
    assert.ok(rows.some((row) => row.path === path), `${path} is listed here but not in the manifest`);
  }
});

test('corpus files read the same from a stream in small chunks as from the path', { skip: corpusSkipReason() }, async () => {
  // A few files of each kind: pcapng with several sections and byte orders, nanosecond BE pcap, a big pcap.
  const rows = haveCorpus() ? readManifest() : [];
  const picks = rows.filter((r) => /MIXED|nsec BE|usec BE|\(95 IDBs\)/.test(r.formatDetail) || r.path === 'large/pcpp__example.pcap');
  assert.ok(picks.length >= 5);
  const { createReadStream } = await import('node:fs');
  for (const row of picks) {
    const whole = await readAll(openCaptureFile(corpusPath(row.path)));
    const streamed = await readAll(openCaptureFile('-', { input: createReadStream(corpusPath(row.path), { highWaterMark: 1000 }), chunkBytes: 1500 }));
    assert.equal(codeOf(streamed.error), codeOf(whole.error), row.path);
    assert.equal(streamed.packets.length, whole.packets.length, row.path);
    assert.ok(
      streamed.packets.every((p, i) => p.hex === whole.packets[i].hex && p.ts === whole.packets[i].ts && p.iface === whole.packets[i].iface),
      row.path,
    );
    assert.ok(streamed.batchSizes.length > whole.batchSizes.length || whole.packets.length < 10, `${row.path}: small chunks make more batches`);
  }
});

function codeOf(err: unknown): string | undefined {
  return err instanceof CaptureFileError ? err.code : err === undefined ? undefined : String(err);
}
