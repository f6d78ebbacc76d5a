import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CaptureFileError, openCaptureFile } from './capture-file.js';
import { closeTo, hexBytes, readAll, trickle, withTempFile } from './capture-test-support.js';

// A hand-built pcapng file (draft-ietf-opsawg-pcapng), byte offsets on the left of each block.
// Section 1 is little-endian with two interfaces of different link types and resolutions; section 2 is
// big-endian, so its interface 0 becomes global interface 2.
const TWO_SECTIONS = hexBytes(`
  # @0 SHB, little-endian
  0a0d0d0a 1c000000   # type, total length 28
  4d3c2b1a            # byte-order magic 0x1a2b3c4d read LE
  0100 0000           # version 1.0
  ffffffff ffffffff   # section length -1 (unknown)
  1c000000
  # @28 IDB -> global 0: Ethernet, snaplen 8, if_name "eth0", if_tsresol 10^-9
  01000000 28000000   # type 1, length 40
  0100 0000           # link type 1, reserved
  08000000            # snaplen 8
  0200 0400 65746830  # if_name, length 4, "eth0"
  0900 0100 09000000  # if_tsresol, length 1, 9 (nanoseconds), 3 bytes padding
  0000 0000           # opt_endofopt
  28000000
  # @68 IDB -> global 1: RAW (101), snaplen 64, if_tsresol 2^-3
  01000000 20000000
  6500 0000 40000000
  0900 0100 83000000  # if_tsresol 0x83: top bit = power of 2, 2^-3 s
  0000 0000
  20000000
  # @100 EPB on interface 0: ts 1600000000123456789 ns = 0x16345785_dffbcd15
  06000000 28000000   # type 6, length 40
  00000000            # interface 0
  85573416 15cdfbdf   # ts high, ts low
  05000000 3c000000   # caplen 5, wire length 60
  0102030405 000000   # data at @128, padded to 4
  28000000
  # @140 custom block 0x00000bad (unknown to us: skipped by length)
  ad0b0000 14000000 7b000000 aabbccdd 14000000
  # @160 EPB on interface 1: ts 8005 units of 1/8 s = 1000.625 s
  06000000 24000000
  01000000
  00000000 451f0000
  03000000 03000000
  450000 00           # data at @188
  24000000
  # @196 ISB (interface statistics): skipped
  05000000 18000000 00000000 00000000 00000000 18000000
  # @220 SPB: wire length 100, 12 bytes of data; interface 0's snaplen 8 cuts it to 8
  03000000 1c000000
  64000000
  101112131415161718191a1b   # data at @232
  1c000000
  # @248 SPB: wire length 6, data padded to 8: caplen 6
  03000000 18000000
  06000000
  202122232425 0000   # data at @260
  18000000
  # @272 SHB, big-endian: a new section, interface ids restart at 0
  0a0d0d0a 0000001c 1a2b3c4d 0001 0000 ffffffff ffffffff 0000001c
  # @300 IDB -> global 2: Linux SLL (113), snaplen 0, if_tsoffset 100 s, if_name "any"
  00000001 0000002c
  0071 0000 00000000
  000e 0008 00000000 00000064   # if_tsoffset, length 8, 100 s
  0002 0003 616e7900            # if_name, length 3, "any", padded
  0000 0000
  0000002c
  # @344 EPB on (section 2) interface 0: 1600000000000001 us (default 10^-6) = 0x0005af31_07a40001, +100 s
  00000006 00000024
  00000000
  0005af31 07a40001
  00000004 00000004
  c0a80001            # data at @372
  00000024
  # @380 obsolete Packet Block (type 2): interface 0 (16 bits), drops 0 (16 bits), ts 1000000 us, +100 s
  00000002 00000024
  0000 0000
  00000000 000f4240
  00000002 00000002
  abcd 0000           # data at @408
  00000024
`);

const EXPECTED = [
  { offset: 128, caplen: 5, wirelen: 60, iface: 0, ts: 1600000000.123456789, hex: '0102030405' },
  { offset: 188, caplen: 3, wirelen: 3, iface: 1, ts: 1000.625, hex: '450000' },
  // SPBs have no timestamp: they take the previous packet's.
  { offset: 232, caplen: 8, wirelen: 100, iface: 0, ts: 1000.625, hex: '1011121314151617' },
  { offset: 260, caplen: 6, wirelen: 6, iface: 0, ts: 1000.625, hex: '202122232425' },
  { offset: 372, caplen: 4, wirelen: 4, iface: 2, ts: 1600000100.000001, hex: 'c0a80001' },
  { offset: 408, caplen: 2, wirelen: 2, iface: 2, ts: 101, hex: 'abcd' },
];

test('pcapng: two sections of different byte order, interfaces mapped to global indexes', async () => {
  assert.equal(TWO_SECTIONS.length, 416);
  const r = await withTempFile('two.pcapng', TWO_SECTIONS, (path) => readAll(openCaptureFile(path)));
  assert.equal(r.error, undefined);
  assert.deepEqual(r.info, { format: 'pcapng', detail: 'pcapng MIXED', bigEndian: false });
  assert.deepEqual(r.linkTypes, [1, 101, 113]);
  assert.deepEqual(r.interfaceNames, ['eth0', '', 'any']);
  assert.deepEqual(r.batchSizes, [6]);
  assert.equal(r.packets.length, EXPECTED.length);
  r.packets.forEach((p, i) => {
    const e = EXPECTED[i];
    assert.deepEqual([p.offset, p.caplen, p.wirelen, p.iface, p.hex], [e.offset, e.caplen, e.wirelen, e.iface, e.hex], `packet ${i + 1}`);
    assert.ok(closeTo(p.ts, e.ts), `packet ${i + 1} ts ${p.ts} != ${e.ts}`);
  });
});

test('pcapng: a stream in 5-byte pieces with 7-byte chunks reads the same packets', async () => {
  const r = await readAll(openCaptureFile('-', { input: trickle(TWO_SECTIONS, 5), chunkBytes: 7 }));
  assert.equal(r.error, undefined);
  assert.deepEqual(r.linkTypes, [1, 101, 113]);
  assert.deepEqual(
    r.packets.map((p) => [p.caplen, p.wirelen, p.iface, p.hex]),
    EXPECTED.map((e) => [e.caplen, e.wirelen, e.iface, e.hex]),
  );
  r.packets.forEach((p, i) => assert.ok(closeTo(p.ts, EXPECTED[i].ts)));
  assert.equal(r.bytesRead, TWO_SECTIONS.length);
});

test('pcapng: a huge 64-bit timestamp is kept, not thrown (as mixed/pcpp__pcapng-example.pcapng)', async () => {
  const bytes = hexBytes(`
    0a0d0d0a 1c000000 4d3c2b1a 0100 0000 ffffffff ffffffff 1c000000  # SHB, LE
    01000000 14000000 0100 0000 00000000 14000000                      # IDB: Ethernet, no options (10^-6)
    06000000 20000000 00000000 ffffffff ffffffff 00000000 00000000 20000000  # EPB: ts 2^64-1 us, no data
  `);
  const r = await withTempFile('huge.pcapng', bytes, (path) => readAll(openCaptureFile(path)));
  assert.equal(r.error, undefined);
  assert.equal(r.packets.length, 1);
  // (2^64 - 1) us = 18446744073709.551615 s, unsigned; float64 keeps it to 2^-8 s at this size.
  assert.ok(closeTo(r.packets[0].ts, 18446744073709.551615, 2 ** -7), `ts ${r.packets[0].ts}`);
});

test('pcapng: a block cut off yields what came before, then LOOPY_TRUNCATED at the block', async () => {
  const cut = TWO_SECTIONS.subarray(0, 160 + 20); // into the EPB at @160
  const r = await withTempFile('cut.pcapng', cut, (path) => readAll(openCaptureFile(path)));
  assert.equal(r.packets.length, 1);
  assert.ok(r.error instanceof CaptureFileError);
  assert.equal(r.error.code, 'LOOPY_TRUNCATED');
  assert.equal(r.error.offset, 160);
});

test('pcapng: trailer length differing from header length is a damaged block', async () => {
  const bytes = Buffer.from(TWO_SECTIONS);
  bytes.writeUInt32LE(0x30303030, 160 + 36 - 4); // the EPB at @160, its trailer
  const r = await withTempFile('bad.pcapng', bytes, (path) => readAll(openCaptureFile(path)));
  assert.equal(r.packets.length, 1);
  assert.ok(r.error instanceof CaptureFileError);
  assert.equal(r.error.code, 'LOOPY_BAD_BLOCK');
  assert.equal(r.error.offset, 160);
  assert.match(r.error.message, /bad\.pcapng: byte 160: block total length in header \(36\) and trailer \(808464432\) differ: the file is damaged; packets before this point were read$/);
});

test('pcapng: a giant block length is damage, not an allocation', async () => {
  const bytes = Buffer.from(TWO_SECTIONS);
  bytes.writeUInt32LE(0xfffffff0, 160 + 4);
  const r = await withTempFile('giant.pcapng', bytes, (path) => readAll(openCaptureFile(path)));
  assert.equal(r.packets.length, 1);
  assert.ok(r.error instanceof CaptureFileError);
  assert.equal(r.error.code, 'LOOPY_BAD_BLOCK');
  assert.match(r.error.reason, /block length 4294967280 is past any sane bound \(16777216\)/);
});

test('pcapng: section version other than 1.0 is refused (as libpcap__pcapng-invalid-vers-2.pcapng, 1.1)', async () => {
  const bytes = Buffer.from(TWO_SECTIONS);
  bytes.writeUInt16LE(1, 14);
  const r = await withTempFile('v11.pcapng', bytes, (path) => readAll(openCaptureFile(path)));
  assert.equal(r.packets.length, 0);
  assert.ok(r.error instanceof CaptureFileError);
  assert.equal(r.error.code, 'LOOPY_BAD_VERSION');
  assert.match(r.error.reason, /version 1\.1/);
});

test('pcapng: a later section with a bad version stops there (as gopacket__pcapng-le-test901.pcapng)', async () => {
  const bytes = Buffer.from(TWO_SECTIONS);
  bytes.writeUInt16BE(2, 272 + 12); // section 2 (big-endian) claims version 2.0
  const r = await withTempFile('v2.pcapng', bytes, (path) => readAll(openCaptureFile(path)));
  assert.equal(r.packets.length, 4);
  assert.ok(r.error instanceof CaptureFileError);
  assert.equal(r.error.code, 'LOOPY_BAD_VERSION');
  assert.equal(r.error.offset, 272 + 12);
});

test('pcapng: a packet on an interface its section did not describe is damage', async () => {
  const bytes = Buffer.from(TWO_SECTIONS);
  bytes.writeUInt32BE(1, 344 + 8); // section 2 has only interface 0
  const r = await withTempFile('noif.pcapng', bytes, (path) => readAll(openCaptureFile(path)));
  assert.equal(r.packets.length, 4);
  assert.ok(r.error instanceof CaptureFileError);
  assert.equal(r.error.code, 'LOOPY_BAD_BLOCK');
  assert.match(r.error.reason, /interface 1 but the section describes only 1/);
});

test('pcapng: a section with no interfaces and no packets is fine (as gopacket__pcapng-le-test002.pcapng)', async () => {
  const r = await withTempFile('shb.pcapng', TWO_SECTIONS.subarray(0, 28), (path) => readAll(openCaptureFile(path)));
  assert.equal(r.error, undefined);
  assert.equal(r.packets.length, 0);
  assert.deepEqual(r.info, { format: 'pcapng', detail: 'pcapng LE', bigEndian: false });
});

test('pcapng: an SHB with a bad byte-order magic at the start is not a capture file', async () => {
  const bytes = Buffer.from(TWO_SECTIONS);
  bytes.writeUInt32LE(0x12345678, 8);
  const r = await withTempFile('text.pcapng', bytes, (path) => readAll(openCaptureFile(path)));
  assert.ok(r.error instanceof CaptureFileError);
  assert.equal(r.error.code, 'LOOPY_BAD_MAGIC');
});
