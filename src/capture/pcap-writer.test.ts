import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { nearestPcapTime, PcapBytes, pcapHoldsTime, PcapWriter, PcapWriterError, encodePcap } from './pcap-writer.js';

// A 60-byte frame: the ARP request tcpdump shows as "Request who-has 192.168.10.1 tell 192.168.10.20".
const ARP = Buffer.from(
  'ffffffffffff0200000a1014080600010800060400010200000a1014c0a80a14000000000000c0a80a01' + '00'.repeat(18),
  'hex',
);

test('encodePcap: the classic header and one record, little-endian, microseconds', () => {
  const file = encodePcap(1, [{ ts: 1718000000.25, data: ARP }]);
  const expected =
    'd4c3b2a1' + '0200' + '0400' + '00000000' + '00000000' + '00000400' + '01000000' + // magic, 2.4, zone, sigfigs, snaplen 262144, Ethernet
    '80996666' + '90d00300' + '3c000000' + '3c000000' + // 1718000000 s, 250000 µs, caplen 60, len 60
    ARP.toString('hex');
  assert.equal(file.toString('hex'), expected);
});

test('encodePcap: nanosecond magic and fractions; wire length kept when the frame was cut', () => {
  const file = encodePcap(228, [{ ts: 1.5, data: ARP.subarray(0, 20), wirelen: 1500 }], { nanoseconds: true, snaplen: 65535 });
  assert.equal(file.readUInt32LE(0), 0xa1b23c4d);
  assert.equal(file.readUInt32LE(16), 65535);
  assert.equal(file.readUInt32LE(20), 228);
  assert.deepEqual([file.readUInt32LE(24), file.readUInt32LE(28), file.readUInt32LE(32), file.readUInt32LE(36)], [1, 500_000_000, 20, 1500]);
});

test('a timestamp that rounds up to a whole second carries into the seconds', () => {
  const file = encodePcap(1, [{ ts: 9.9999999, data: ARP }]);
  assert.deepEqual([file.readUInt32LE(24), file.readUInt32LE(28)], [10, 0]);
});

function collector(): { sink: Writable; bytes: () => Buffer; ended: () => boolean } {
  const chunks: Buffer[] = [];
  let ended = false;
  const sink = new Writable({
    highWaterMark: 1024,
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk);
      setImmediate(done); // a slow consumer: backpressure builds up
    },
    final(done) {
      ended = true;
      done();
    },
  });
  return { sink, bytes: () => Buffer.concat(chunks), ended: () => ended };
}

test('PcapWriter streams the same bytes as encodePcap, in bounded chunks with backpressure', async () => {
  const packets = Array.from({ length: 500 }, (_, i) => ({ ts: 1718000000 + i * 0.001, data: ARP }));
  const out = collector();
  const w = new PcapWriter(out.sink, { chunkSize: 4096 });
  let waits = 0;
  for (const p of packets) {
    if (!w.writePacket(p.ts, p.data)) {
      waits++;
      await w.drain();
    }
  }
  await w.close();
  assert.ok(waits > 0, 'the slow sink pushed back');
  assert.ok(out.ended());
  assert.equal(w.packets, 500);
  assert.equal(w.bytes, 24 + 500 * (16 + 60));
  assert.equal(out.bytes().toString('hex'), encodePcap(1, packets).toString('hex'));
});

test('writeFrame takes exact nanoseconds and a slice of a larger buffer; snaplen cuts long frames', async () => {
  const out = collector();
  const w = new PcapWriter(out.sink, { nanoseconds: true, snaplen: 32, linkType: 1 });
  const big = Buffer.concat([Buffer.alloc(7, 0xaa), ARP]);
  w.writeFrame(1718000000, 123_456_789, big, 7, 60, 60);
  await w.close();
  const f = out.bytes();
  assert.deepEqual([f.readUInt32LE(24), f.readUInt32LE(28), f.readUInt32LE(32), f.readUInt32LE(36)], [1718000000, 123_456_789, 32, 60]);
  assert.equal(f.subarray(40).toString('hex'), ARP.subarray(0, 32).toString('hex'));
});

test('to a file path; writing after close is a coded error; keepOpen leaves a stream open', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'loopy-pcapw-'));
  try {
    const path = join(dir, 'a.pcap');
    const w = new PcapWriter(path);
    w.writePacket(1718000000.25, ARP);
    await w.close();
    assert.equal(readFileSync(path).toString('hex'), encodePcap(1, [{ ts: 1718000000.25, data: ARP }]).toString('hex'));
    assert.throws(() => w.writePacket(1, ARP), (e: unknown) => e instanceof PcapWriterError && e.code === 'PCAP_WRITER_CLOSED');
    assert.throws(() => new PcapWriter(collector().sink).writePacket(-1, ARP), (e: unknown) => e instanceof PcapWriterError && e.code === 'PCAP_WRITER_BAD_TIMESTAMP');

    const out = collector();
    const kept = new PcapWriter(out.sink, { keepOpen: true });
    kept.writePacket(1, ARP);
    await kept.close();
    assert.equal(out.ended(), false);
    assert.equal(out.bytes().length, 24 + 16 + 60);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an unwritable path surfaces as a rejected close(), not a crash', async () => {
  const w = new PcapWriter('/nonexistent-dir-for-loopy/x.pcap');
  w.writePacket(1, ARP);
  await assert.rejects(w.close(), /ENOENT/);
});

test('PcapBytes: frames taken from inside larger buffers, growing past its first size, give encodePcap\'s bytes', () => {
  const chunk = Buffer.alloc(4096);
  for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 7) & 0xff;
  const file = new PcapBytes(100, false, 64); // room for the header and not one record: it grows
  const copies = [];
  for (let i = 0; i < 50; i++) {
    const offset = i * 60;
    const length = 40 + (i % 90); // some past the 100-byte snap length
    file.add(1000 + i / 8, chunk, offset, length, length + 4);
    copies.push({ ts: 1000 + i / 8, data: Buffer.from(chunk.subarray(offset, offset + length)), wirelen: length + 4 });
  }
  assert.equal(file.count, 50);
  assert.equal(file.bytes(1).toString('hex'), encodePcap(1, copies, { snaplen: 100 }).toString('hex'));
  assert.equal(file.bytes(1).readUInt32LE(24 + 8), 40, 'the first record holds 40 bytes');
});

test('times a record header holds: 1970 to the last µs of 2106 that does not round into 2^32 s', () => {
  assert.equal(pcapHoldsTime(0), true);
  assert.equal(pcapHoldsTime(4294967295.5), true);
  assert.equal(pcapHoldsTime(4294967295.999999), true);
  assert.equal(pcapHoldsTime(4294967295.9999996), false, 'rounds up to 2^32 s at µs');
  assert.equal(pcapHoldsTime(4294967295.9999996, true), true, 'but not at ns');
  assert.equal(pcapHoldsTime(-0.000001), false);
  assert.equal(pcapHoldsTime(Number.NaN), false);
  assert.equal(nearestPcapTime(-5), 0);
  assert.equal(nearestPcapTime(Number.NaN), 0);
  assert.equal(nearestPcapTime(5e9), 4294967295);
  assert.equal(nearestPcapTime(1718000000.25), 1718000000.25);
});

test('a time moved to the nearest a pcap holds is written there, never wrapped to 1970', () => {
  const file = new PcapBytes();
  file.add(5e9, Buffer.alloc(14), 0, 14);
  file.add(-1, Buffer.alloc(14), 0, 14);
  const bytes = file.bytes(1);
  assert.deepEqual([bytes.readUInt32LE(24), bytes.readUInt32LE(28)], [4294967295, 0]);
  assert.deepEqual([bytes.readUInt32LE(24 + 16 + 14), bytes.readUInt32LE(28 + 16 + 14)], [0, 0]);
});
