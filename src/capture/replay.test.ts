import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { META_CAPLEN, META_OFFSET, META_STRIDE, META_WIRELEN, type PacketBatch } from './batch.js';
import { openCaptureFile } from './capture-file.js';
import { hexBytes, withTempFile } from './capture-test-support.js';
import { encodePcap, LINKTYPE_ETHERNET, type PcapPacket } from './pcap-writer.js';
import { replayCapture, ReplayError, type ReplayClock } from './replay.js';
import { generatedCapture } from '../test-support/sample-frames.js';

// Ethernet + IPv4 + UDP 192.168.10.5:40000 → 198.51.100.7:53 with 12 zero bytes of payload, as `tshark -x`
// shows it (checksum 0x45dd [correct]). The last payload byte is overwritten with the packet's number so
// that each packet can be recognised after the replay.
const UDP_FRAME = hexBytes(`
  02 00 00 00 00 02 02 00 00 00 00 01 08 00 45 00
  00 28 00 00 40 00 40 11 45 dd c0 a8 0a 05 c6 33
  64 07 9c 40 00 35 00 14 00 00 00 00 00 00 00 00
  00 00 00 00 00 00`);

function tagged(n: number): Buffer {
  const frame = Buffer.from(UDP_FRAME);
  frame[frame.length - 1] = n;
  return frame;
}

/** Original capture times: two packets 50 ms apart, one 120 ms after the start, one at 300 ms, one at 1.5 s. */
const TIMES = [100.0, 100.05, 100.12, 100.3, 101.5];
const PACKETS: PcapPacket[] = TIMES.map((ts, n) => ({ ts, data: tagged(n) }));

/** A clock whose sleeps return at once and move its time on by exactly the amount asked. */
class FakeClock implements ReplayClock {
  readonly sleeps: number[] = [];
  constructor(public ms = 1_700_000_000_000) {}
  now(): number {
    return this.ms;
  }
  async sleep(ms: number): Promise<void> {
    this.sleeps.push(Math.round(ms));
    this.ms += ms;
  }
}

interface Seen {
  /** Packet numbers (the tag byte) per batch. */
  tags: number[][];
  /** Replayed timestamps minus the clock's start, in ms, per batch. */
  at: number[][];
  /** Clock time (ms after start) when each batch was handed over. */
  handedAt: number[];
}

async function replay(packets: PcapPacket[], options: Parameters<typeof replayCapture>[1], clock: FakeClock, stopAfter = Infinity): Promise<Seen> {
  const start = clock.ms;
  const seen: Seen = { tags: [], at: [], handedAt: [] };
  await withTempFile('replay.pcap', encodePcap(LINKTYPE_ETHERNET, packets), async (path) => {
    for await (const batch of replayCapture(path, { ...options, clock })) {
      const tags: number[] = [];
      const at: number[] = [];
      for (let i = 0; i < batch.count; i++) {
        const m = i * META_STRIDE;
        assert.equal(batch.meta[m + META_CAPLEN], UDP_FRAME.length);
        assert.equal(batch.meta[m + META_WIRELEN], UDP_FRAME.length);
        tags.push(batch.data[batch.meta[m + META_OFFSET] + UDP_FRAME.length - 1]);
        at.push(Math.round(batch.ts[i] * 1000 - start));
      }
      seen.tags.push(tags);
      seen.at.push(at);
      seen.handedAt.push(Math.round(clock.ms - start));
      if (seen.tags.length >= stopAfter) break;
    }
  });
  return seen;
}

test('real time: first packet at now, batches of at most 100 ms, each handed over when its last packet is due', async () => {
  const clock = new FakeClock();
  const seen = await replay(PACKETS, {}, clock);
  assert.deepEqual(seen.tags, [[0, 1], [2], [3], [4]]);
  assert.deepEqual(seen.at, [[0, 50], [120], [300], [1500]]);
  assert.deepEqual(seen.handedAt, [50, 120, 300, 1500]);
  assert.deepEqual(clock.sleeps, [50, 70, 180, 1200]);
});

test('speed 2 halves every distance; a batch still spans at most 100 ms of replayed time', async () => {
  const clock = new FakeClock();
  const seen = await replay(PACKETS, { speed: 2 }, clock);
  // Replayed: 0, 25, 60, 150, 750 ms.
  assert.deepEqual(seen.tags, [[0, 1, 2], [3], [4]]);
  assert.deepEqual(seen.at, [[0, 25, 60], [150], [750]]);
  assert.deepEqual(clock.sleeps, [60, 90, 600]);
});

test('max never waits, and keeps the capture spacing in the timestamps', async () => {
  const clock = new FakeClock();
  const seen = await replay(PACKETS, { max: true }, clock);
  assert.deepEqual(clock.sleeps, []);
  assert.deepEqual(seen.handedAt, [0, 0, 0, 0]);
  assert.deepEqual(seen.at, [[0, 50], [120], [300], [1500]]);
});

test('loop: each round starts where the last one ended, time moving only forward', async () => {
  const clock = new FakeClock();
  const seen = await replay(PACKETS, { loop: true }, clock, 4 * 3);
  assert.deepEqual(seen.tags, [[0, 1], [2], [3], [4], [0, 1], [2], [3], [4], [0, 1], [2], [3], [4]]);
  assert.deepEqual(seen.at.flat(), [0, 50, 120, 300, 1500, 1500, 1550, 1620, 1800, 3000, 3000, 3050, 3120, 3300, 4500]);
  assert.deepEqual(seen.handedAt.slice(4, 8), [1550, 1620, 1800, 3000]);
});

test('an empty capture ends even with loop', async () => {
  const clock = new FakeClock();
  const seen = await replay([], { loop: true }, clock);
  assert.deepEqual(seen.tags, []);
});

test('abort ends a replay in the middle of a wait', async () => {
  const controller = new AbortController();
  // A clock whose sleeps never end: only the abort can free the replay.
  const stuck: ReplayClock = { now: () => 1_700_000_000_000, sleep: () => new Promise<void>(() => {}) };
  await withTempFile('replay.pcap', encodePcap(LINKTYPE_ETHERNET, PACKETS), async (path) => {
    const batches: PacketBatch[] = [];
    const done = (async () => {
      for await (const b of replayCapture(path, { clock: stuck, signal: controller.signal })) batches.push(b);
    })();
    setImmediate(() => controller.abort());
    await done;
    assert.equal(batches.length, 0, 'the first batch was due 50 ms later, so nothing came out');
  });
});

test('bad speeds are refused with a code', () => {
  for (const speed of [0, -1, Number.NaN, Infinity]) {
    assert.throws(() => replayCapture('x.pcap', { speed }), (e: unknown) => e instanceof ReplayError && e.code === 'LOOPY_BAD_REPLAY_OPTION');
  }
});

test('batches are the consumer\'s: kept across the reader\'s buffer reuse, they hold every packet intact and in order', async () => {
  // About 6 MB: more than one 4 MiB read chunk, so the reader reuses its buffer while we hold older batches.
  const { bytes, truth } = await generatedCapture({ seed: 5, packets: 12000 });
  assert.ok(bytes.length > 4.5 * 1024 * 1024, `capture of ${bytes.length} bytes is too small for this test`);
  const expected: string[] = [];
  const input = new PassThrough();
  input.end(bytes);
  for await (const b of openCaptureFile('-', { input })) {
    for (let i = 0; i < b.count; i++) {
      const o = b.meta[i * META_STRIDE + META_OFFSET];
      expected.push(b.data.toString('hex', o, o + b.meta[i * META_STRIDE + META_CAPLEN]));
    }
  }
  const clock = new FakeClock();
  const kept: PacketBatch[] = [];
  await withTempFile('big.pcap', bytes, async (path) => {
    for await (const b of replayCapture(path, { max: true, clock })) kept.push(b);
  });
  const got: string[] = [];
  let previous = -Infinity;
  for (const b of kept) {
    assert.ok(b.ts[b.count - 1] - b.ts[0] < 0.1 + 1e-9, 'a batch spans less than 100 ms');
    for (let i = 0; i < b.count; i++) {
      const o = b.meta[i * META_STRIDE + META_OFFSET];
      got.push(b.data.toString('hex', o, o + b.meta[i * META_STRIDE + META_CAPLEN]));
      assert.ok(b.ts[i] >= previous, 'timestamps never go back');
      previous = b.ts[i];
    }
  }
  assert.equal(got.length, truth.packets);
  assert.ok(got.every((hex, i) => hex === expected[i]), 'every packet has its original bytes');
  // The whole replay spans the capture's own length, starting at the clock.
  assert.ok(Math.abs(kept[0].ts[0] - clock.ms / 1000) < 1e-6);
  assert.ok(Math.abs(previous - kept[0].ts[0] - (truth.lastTs - truth.firstTs)) < 1e-5);
});
