import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CaptureFileError, openCaptureFile } from './capture-file.js';
import { closeTo, hexBytes, readAll, withTempFile } from './capture-test-support.js';

// Hand-built pcap files (pcap-savefile(5)): a 24-byte header then records of 16-byte header + data.
// The same two records in every variant: 4 bytes (wire 60) at 100000000.123456 s, 2 bytes at 100000001 s.

const USEC_LE = hexBytes(`
  d4c3b2a1        # magic a1b2c3d4 stored little-endian: microseconds, LE
  0200 0400       # version 2.4
  00000000        # thiszone
  00000000        # sigfigs
  ffff0000        # snaplen 65535
  01000000        # link type 1 (Ethernet)
  # record 1 at byte 24
  00e1f505        # ts_sec 0x05f5e100 = 100000000
  40e20100        # ts_usec 0x0001e240 = 123456
  04000000        # caplen 4
  3c000000        # wire length 60
  deadbeef
  # record 2 at byte 44
  01e1f505        # ts_sec 100000001
  00000000        # ts_usec 0
  02000000        # caplen 2
  02000000        # wire length 2
  cafe
`);

const USEC_BE = hexBytes(`
  a1b2c3d4  0002 0004  00000000  00000000  0000ffff  00000001   # same header, big-endian
  05f5e100  0001e240  00000004  0000003c  deadbeef              # record 1
  05f5e101  00000000  00000002  00000002  cafe                  # record 2
`);

// Nanosecond files: magic a1b23c4d; the fraction 123456789 ns = 0x075bcd15.
const NSEC_LE = hexBytes(`
  4d3cb2a1  0200 0400  00000000  00000000  ffff0000  01000000
  00e1f505  15cd5b07  04000000  3c000000  deadbeef
  01e1f505  00000000  02000000  02000000  cafe
`);

const NSEC_BE = hexBytes(`
  a1b23c4d  0002 0004  00000000  00000000  0000ffff  00000001
  05f5e100  075bcd15  00000004  0000003c  deadbeef
  05f5e101  00000000  00000002  00000002  cafe
`);

for (const [name, bytes, detail, frac] of [
  ['usec LE', USEC_LE, 'pcap usec LE', 0.123456],
  ['usec BE', USEC_BE, 'pcap usec BE', 0.123456],
  ['nsec LE', NSEC_LE, 'pcap nsec LE', 0.123456789],
  ['nsec BE', NSEC_BE, 'pcap nsec BE', 0.123456789],
] as const) {
  test(`pcap ${name}: offsets, lengths, timestamps and link type`, async () => {
    const r = await withTempFile('x.pcap', bytes, (path) => readAll(openCaptureFile(path)));
    assert.equal(r.error, undefined);
    assert.deepEqual(r.info, { format: 'pcap', detail, bigEndian: detail.endsWith(' BE') });
    assert.deepEqual(r.linkTypes, [1]);
    assert.equal(r.interfaceNames, undefined);
    assert.deepEqual(r.batchSizes, [2], 'both records in one batch');
    const [a, b] = r.packets;
    assert.deepEqual([a.offset, a.caplen, a.wirelen, a.iface, a.hex], [40, 4, 60, 0, 'deadbeef']);
    assert.deepEqual([b.offset, b.caplen, b.wirelen, b.iface, b.hex], [60, 2, 2, 0, 'cafe']);
    assert.ok(closeTo(a.ts, 100000000 + frac, 1e-7), `ts ${a.ts}`);
    assert.equal(b.ts, 100000001);
    assert.equal(r.bytesRead, bytes.length);
  });
}

test('pcap: FCS bits above the link type are masked off (header as in tcpdump__bad-ipv4-version-pgm-heapoverflow.pcap)', async () => {
  // That corpus file's link-type field is 0x30000001: FCS length 3 in bits 28-31, link type 1.
  const bytes = Buffer.from(USEC_LE);
  bytes.writeUInt32LE(0x30000001, 20);
  const r = await withTempFile('fcs.pcap', bytes, (path) => readAll(openCaptureFile(path)));
  assert.equal(r.error, undefined);
  assert.deepEqual(r.linkTypes, [1]);
  assert.equal(r.packets.length, 2);
});

test('pcap: reserved link-type bits refuse the file (as libpcap__linktype-reserved-field-not-zero.pcap)', async () => {
  const bytes = Buffer.from(USEC_LE);
  bytes.writeUInt32LE(0x00300000, 20); // the corpus file's exact field: link type 0, reserved bits 0x0030
  const r = await withTempFile('reserved.pcap', bytes, (path) => readAll(openCaptureFile(path)));
  assert.ok(r.error instanceof CaptureFileError);
  assert.equal(r.error.code, 'LOOPY_BAD_LINKTYPE');
  assert.equal(r.error.offset, 20);
  assert.equal(r.packets.length, 0);
});

test('pcap: seconds are unsigned (a 2038+ date stays in the future)', async () => {
  const bytes = Buffer.from(USEC_LE);
  bytes.writeUInt32LE(0x80000000, 24); // record 1 ts_sec = 2^31 (2038-01-19T03:14:08Z)
  const r = await withTempFile('y2038.pcap', bytes, (path) => readAll(openCaptureFile(path)));
  assert.ok(closeTo(r.packets[0].ts, 2147483648.123456));
});

test('pcap: a header-only file has no packets and no error', async () => {
  const r = await withTempFile('empty.pcap', USEC_LE.subarray(0, 24), (path) => readAll(openCaptureFile(path)));
  assert.equal(r.error, undefined);
  assert.deepEqual(r.batchSizes, []);
  assert.deepEqual(r.info, { format: 'pcap', detail: 'pcap usec LE', bigEndian: false });
});

test('pcap: bad magic', async () => {
  const bytes = hexBytes('7f454c46 02010100 00000000 00000000 0300 3e00 01000000'); // an ELF header
  const r = await withTempFile('elf.pcap', bytes, (path) => readAll(openCaptureFile(path)));
  assert.ok(r.error instanceof CaptureFileError);
  assert.equal(r.error.code, 'LOOPY_BAD_MAGIC');
  assert.match(r.error.message, /^\S*elf\.pcap: byte 0: magic number 0x7f454c46 is neither pcap nor pcapng: /);
});

test('pcap: major version other than 2 is refused (as libpcap__pcap-invalid-version-1.pcap, version 1.4)', async () => {
  const bytes = Buffer.from(USEC_LE);
  bytes.writeUInt16LE(1, 4);
  const r = await withTempFile('v1.pcap', bytes, (path) => readAll(openCaptureFile(path)));
  assert.ok(r.error instanceof CaptureFileError);
  assert.equal(r.error.code, 'LOOPY_BAD_VERSION');
  assert.equal(r.error.offset, 4);
  assert.match(r.error.reason, /version 1\.4/);
  assert.equal(r.packets.length, 0);
});

test('pcap: a giant record length yields the packets before it, then a one-line error', async () => {
  const bytes = Buffer.from(USEC_LE);
  bytes.writeUInt32LE(0xffffffff, 44 + 8); // record 2 caplen
  const r = await withTempFile('dns.pcap', bytes, (path) => readAll(openCaptureFile(path)));
  assert.equal(r.packets.length, 1);
  assert.equal(r.packets[0].hex, 'deadbeef');
  assert.ok(r.error instanceof CaptureFileError);
  assert.equal(r.error.code, 'LOOPY_BAD_RECORD_LENGTH');
  assert.equal(r.error.offset, 44);
  assert.ok(r.error.message.endsWith(
    'dns.pcap: byte 44: record length 4294967295 is past any sane bound (262144): the file is damaged; packets before this point were read',
  ));
  assert.ok(!r.error.message.includes('\n'));
});

test('pcap: a record up to 262144 bytes is fine even past a small chunk', async () => {
  const big = 200000;
  const bytes = Buffer.alloc(24 + 16 + big, 0xab);
  USEC_LE.copy(bytes, 0, 0, 24);
  bytes.writeUInt32LE(7, 24); // ts_sec 7
  bytes.writeUInt32LE(0, 28);
  bytes.writeUInt32LE(big, 32);
  bytes.writeUInt32LE(big, 36);
  const r = await withTempFile('big.pcap', bytes, (path) => readAll(openCaptureFile(path, { chunkBytes: 4096 })));
  assert.equal(r.error, undefined);
  assert.equal(r.packets.length, 1);
  assert.equal(r.packets[0].caplen, big);
  assert.equal(r.packets[0].hex, 'ab'.repeat(big));
});

test('pcap: a file cut off mid-record yields what came before, then LOOPY_TRUNCATED', async () => {
  const cut = USEC_LE.subarray(0, 44 + 16 + 1); // record 2's header and 1 of its 2 data bytes
  const r = await withTempFile('cut.pcap', cut, (path) => readAll(openCaptureFile(path)));
  assert.equal(r.packets.length, 1);
  assert.ok(r.error instanceof CaptureFileError);
  assert.equal(r.error.code, 'LOOPY_TRUNCATED');
  assert.equal(r.error.offset, 44);
  assert.match(r.error.reason, /17 of the 18 bytes of a record/);
});

test('pcap: a file cut inside a record header (as dpkt__truncated_dns_2.pcap: 7 of 16 bytes)', async () => {
  const cut = USEC_LE.subarray(0, 44 + 7);
  const r = await withTempFile('cut.pcap', cut, (path) => readAll(openCaptureFile(path)));
  assert.equal(r.packets.length, 1);
  assert.ok(r.error instanceof CaptureFileError);
  assert.equal(r.error.code, 'LOOPY_TRUNCATED');
  assert.match(r.error.reason, /7 of the 16 bytes of a record header/);
});

test('pcap: many records come in few batches, not one per packet', async () => {
  const n = 5000;
  const bytes = Buffer.alloc(24 + n * 20);
  USEC_LE.copy(bytes, 0, 0, 24);
  for (let i = 0; i < n; i++) {
    const at = 24 + i * 20;
    bytes.writeUInt32LE(i, at);
    bytes.writeUInt32LE(4, at + 8);
    bytes.writeUInt32LE(4, at + 12);
    bytes.writeUInt32LE(i, at + 16);
  }
  const r = await withTempFile('many.pcap', bytes, (path) => readAll(openCaptureFile(path, { chunkBytes: 40000 })));
  assert.equal(r.error, undefined);
  assert.equal(r.packets.length, n);
  assert.ok(r.batchSizes.length <= 4, `batches: ${r.batchSizes.join(',')}`);
  assert.ok(r.packets.every((p, i) => p.ts === i && p.hex === Buffer.from(Uint32Array.of(i).buffer).toString('hex')));
});
