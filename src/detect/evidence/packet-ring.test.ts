/** The packet ring against a model: it always holds the most recent frames that fit, byte for byte. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { META_STRIDE } from '../../capture/batch.js';
import { PacketRing } from './packet-ring.js';
import { xorshift32 } from '../../test-support/random.js';

/** Deterministic pseudo-random sizes. */
function sizes(n: number, max: number, seed = 7): number[] {
  const next = xorshift32(seed);
  return Array.from({ length: n }, () => 20 + (next() % (max - 20)));
}

function frameBytes(i: number, len: number): Buffer {
  const b = Buffer.alloc(len);
  for (let k = 0; k < len; k++) b[k] = (i * 31 + k) & 0xff;
  return b;
}

function held(ring: PacketRing): Array<{ ts: number; bytes: Buffer; wirelen: number }> {
  const out: Array<{ ts: number; bytes: Buffer; wirelen: number }> = [];
  ring.forEach(-Infinity, Infinity, (data, offset, caplen, wirelen, ts) => {
    out.push({ ts, bytes: Buffer.from(data.subarray(offset, offset + caplen)), wirelen });
  });
  return out;
}

test('keeps the newest frames that fit, oldest first, with their bytes; never less than it has room for', () => {
  const bytes = 8192;
  const ring = new PacketRing({ bytes, snaplen: 1600, slots: 1000 });
  const lens = sizes(2000, 700);
  lens.forEach((len, i) => {
    const f = frameBytes(i, len);
    ring.add(f, 0, len, len + 3, i, 1);
    const h = held(ring);
    // A suffix of what was added, in order, each frame intact.
    const first = i - h.length + 1;
    h.forEach((frame, k) => {
      assert.equal(frame.ts, first + k);
      assert.deepEqual(frame.bytes, frameBytes(first + k, lens[first + k]));
      assert.equal(frame.wirelen, lens[first + k] + 3);
    });
    // The frames it holds plus the one before them would not have fitted in one lap beside each other.
    const heldBytes = h.reduce((n, f) => n + f.bytes.length, 0);
    assert.ok(heldBytes <= bytes);
    if (first > 0) assert.ok(heldBytes + lens[first - 1] > bytes - 700, `kept ${heldBytes} bytes, evicted too early at ${i}`);
  });
  assert.equal(ring.added, 2000);
  assert.equal(ring.added - ring.overwritten, ring.size);
});

test('frames are cut to the snaplen (wire length kept); slots cap the count; a time window selects', () => {
  const ring = new PacketRing({ bytes: 1 << 20, snaplen: 100, slots: 16 });
  for (let i = 0; i < 40; i++) ring.add(frameBytes(i, 300), 0, 300, 300, 1000 + i, 1);
  const h = held(ring);
  assert.equal(h.length, 16);
  assert.equal(h[0].ts, 1024);
  assert.equal(h[0].bytes.length, 100);
  assert.equal(h[0].wirelen, 300);
  const some: number[] = [];
  ring.forEach(1030, 1032, (_d, _o, _c, _w, ts) => {
    some.push(ts);
  });
  assert.deepEqual(some, [1030, 1031, 1032]);
});

test('addBatch takes every frame of a batch with its time and link type', () => {
  const ring = new PacketRing({ bytes: 1 << 16 });
  const data = Buffer.concat([frameBytes(1, 60), frameBytes(2, 70)]);
  const meta = new Uint32Array(2 * META_STRIDE);
  meta.set([0, 60, 60, 0, 60, 70, 70, 1]);
  ring.addBatch({ data, count: 2, meta, ts: new Float64Array([5, 6]), linkTypes: [1, 113] });
  const links: number[] = [];
  ring.forEach(0, 10, (_d, _o, caplen, _w, ts, lt) => {
    links.push(ts, caplen, lt);
  });
  assert.deepEqual(links, [5, 60, 1, 6, 70, 113]);
});

// With 4,096 slots the bytes bound the ring; with 24 the slots do, and batches of up to 37 frames overflow them.
for (const slots of [4096, 24]) test(`batches are copied whole (pcap record headers between frames) and still read back frame by frame (${slots} slots)`, () => {
  const ring = new PacketRing({ bytes: 64 * 1024, snaplen: 1600, slots });
  const lens = sizes(3000, 1500, 11);
  const all: Buffer[] = [];
  let next = 0;
  while (next < lens.length) {
    const n = Math.min(1 + (next % 37), lens.length - next);
    const parts: Buffer[] = [];
    const meta = new Uint32Array(n * META_STRIDE);
    const ts = new Float64Array(n);
    let off = 0;
    for (let k = 0; k < n; k++) {
      const i = next + k;
      const f = frameBytes(i, lens[i]);
      all.push(f);
      parts.push(Buffer.alloc(16, 0xee), f); // a 16-byte record header before each frame, as in a pcap chunk
      meta.set([off + 16, f.length, f.length, 0], k * META_STRIDE);
      ts[k] = i;
      off += 16 + f.length;
    }
    ring.addBatch({ data: Buffer.concat(parts), count: n, meta, ts, linkTypes: [1] });
    next += n;
    const h = held(ring);
    const first = next - h.length;
    h.forEach((frame, k) => {
      assert.equal(frame.ts, first + k);
      assert.deepEqual(frame.bytes, all[first + k]);
    });
    assert.ok(h.length > 0);
  }
  assert.ok(held(ring).length > 20, 'a 64 KiB ring holds dozens of frames of up to 1500 bytes');
  if (slots < 4096) assert.equal(held(ring).length, slots, 'every slot in use');
});

test('in chunks: frames never straddle two, every held frame reads back whole over many laps', () => {
  const chunk = 4096;
  const ring = new PacketRing({ bytes: 4 * chunk, chunkBytes: chunk, snaplen: 1600, slots: 10_000 });
  const lens = sizes(3000, 900, 11);
  lens.forEach((len, i) => {
    ring.add(frameBytes(i, len), 0, len, len, i, 1);
    if (i % 97 !== 0 || i < 100) return;
    const h = held(ring);
    const first = i - h.length + 1;
    h.forEach((frame, k) => assert.deepEqual(frame.bytes, frameBytes(first + k, lens[first + k]), `frame ${first + k} at ${i}`));
    // Nearly the whole ring in use: at most a frame's worth lost at the end of each chunk.
    assert.ok(h.reduce((n, f) => n + f.bytes.length, 0) > 4 * (chunk - 900) - 900, `only ${h.length} frames held`);
  });
});

test('expire lets old frames go and gives back the chunks only they used; a later burst takes them again', () => {
  const chunk = 4096;
  const ring = new PacketRing({ bytes: 8 * chunk, chunkBytes: chunk, slots: 10_000 });
  assert.equal(ring.heldBytes, 0, 'nothing allocated before the first frame');
  // A burst at t = 100.00..100.59: eight frames a chunk, sixty frames fill all eight chunks.
  for (let i = 0; i < 60; i++) ring.add(frameBytes(i, 500), 0, 500, 500, 100 + i / 100, 1);
  assert.equal(ring.heldBytes, 8 * chunk);
  ring.expire(100.3); // the first half is older than that
  const h = held(ring);
  assert.equal(h.length, 30);
  assert.ok(h.every((f) => f.ts >= 100.3));
  // The chunks of the second half, and up to two spares kept for the writer while frames still come.
  assert.ok(ring.heldBytes <= 7 * chunk, `still ${ring.heldBytes} bytes`);
  for (const f of h) assert.equal(f.bytes.length, 500);
  ring.expire(1000); // long after: everything goes, the chunk being written too
  assert.equal(ring.size, 0);
  assert.equal(ring.heldBytes, 0);
  for (let i = 0; i < 30; i++) ring.add(frameBytes(i, 500), 0, 500, 500, 2000 + i, 1);
  assert.deepEqual(held(ring).map((f) => f.ts), Array.from({ length: 30 }, (_, i) => 2000 + i));
  assert.ok(ring.heldBytes <= 5 * chunk);
});

test('bound by its slots (a flood of small frames), the ring reuses a chunk it let go instead of holding new ones', () => {
  const chunk = 4096;
  // 64 slots of 100-byte frames span under two chunks of the eight: the writer keeps moving on.
  const ring = new PacketRing({ bytes: 8 * chunk, chunkBytes: chunk, slots: 64 });
  let most = 0;
  for (let second = 0; second < 50; second++) {
    for (let i = 0; i < 64; i++) ring.add(frameBytes(i, 100), 0, 100, 100, second + i / 64, 1);
    ring.expire(second - 20);
    most = Math.max(most, ring.heldBytes);
  }
  assert.ok(most <= 5 * chunk, `held up to ${most} bytes`);
  assert.equal(ring.size, 64);
  // 50 × 6,400 bytes went through: a chunk allocated per 4 KB would be 78; with the spare a handful.
  assert.ok(ring.chunksAllocated <= 5, `${ring.chunksAllocated} chunks allocated`);
});

test('a trickle after a burst moves to a fresh chunk: the burst\'s bytes go, every frame held reads back whole', () => {
  const chunk = 64 * 1024;
  const ring = new PacketRing({ bytes: 4 * chunk, chunkBytes: chunk, slots: 10_000 });
  // A burst writes the whole of the first chunk (120 frames of 500 bytes) at t = 10.
  for (let i = 0; i < 120; i++) ring.add(frameBytes(i, 500), 0, 500, 500, 10 + i / 1000, 1);
  assert.equal(ring.writtenBytes, 60_000);
  // Laps over the ring, then quiet: the writer is back in a chunk the burst filled.
  for (let i = 0; i < 480; i++) ring.add(frameBytes(i, 500), 0, 500, 500, 11 + i / 1000, 1);
  const lapped = ring.writtenBytes;
  assert.ok(lapped > 3 * chunk, `${lapped} bytes written over the laps`);
  // A trickle: one 200-byte frame a second, each kept 20 s.
  for (let t = 20; t < 60; t++) {
    ring.add(frameBytes(t, 200), 0, 200, 200, t, 1);
    ring.expire(t - 19);
  }
  const h = held(ring);
  assert.deepEqual(h.map((f) => f.ts), Array.from({ length: 20 }, (_, i) => 40 + i));
  h.forEach((f, i) => assert.deepEqual(f.bytes, frameBytes(40 + i, 200)));
  assert.equal(ring.heldBytes, chunk, 'one chunk held, no spare');
  assert.equal(ring.chunksAllocated, 5, 'the four of the laps, and a fresh one');
  assert.ok(ring.writtenBytes <= 20 * 200 * 2, `only the trickle's bytes were written in it (${ring.writtenBytes})`);
  const allocated = ring.chunksAllocated;
  for (let t = 60; t < 80; t++) {
    ring.add(frameBytes(t, 200), 0, 200, 200, t, 1);
    ring.expire(t - 19);
  }
  assert.equal(ring.chunksAllocated, allocated, 'a chunk the trickle alone wrote is kept');
  held(ring).forEach((f, i) => assert.deepEqual(f.bytes, frameBytes(60 + i, 200)));
});

/**
 * A stand-in for madvise(MADV_DONTNEED): zeroes the whole 4 KiB pages inside bytes [from, to) of a chunk
 * (pages counted from the view's start, as a chunk's and a slot column's start on a page) and counts them.
 */
function zeroingRelease(calls: Array<[number, number]>) {
  return (view: ArrayBufferView, from: number, to: number): number => {
    const start = Math.ceil(from / 4096) * 4096;
    const end = Math.floor(Math.min(to, view.byteLength) / 4096) * 4096;
    if (end <= start) return 0;
    new Uint8Array(view.buffer, view.byteOffset, view.byteLength).fill(0, start, end);
    calls.push([start, end]);
    return end - start;
  };
}

test('with releasePages, chunks stay warm while frames come and give their pages back once they stop', () => {
  const chunk = 64 * 1024;
  const calls: Array<[number, number]> = [];
  const ring = new PacketRing({ bytes: 4 * chunk, chunkBytes: chunk, slots: 10_000, snaplen: 4000, releasePages: zeroingRelease(calls) });
  // Busy: a second of 1,000-byte frames fills more than a chunk, so the writer moves on every second.
  for (let second = 0; second < 6; second++) {
    for (let i = 0; i < 80; i++) ring.add(frameBytes(second * 80 + i, 1000), 0, 1000, 1000, second + i / 80, 1);
    ring.expire(second - 2);
  }
  assert.equal(calls.length, 0, 'nothing given back while the writer moves on');
  assert.equal(ring.chunksAllocated, 4, 'and no chunk dropped for the collector');
  // Then a trickle: one 3,000-byte frame a second; the burst's frames expire after 2 s.
  for (let t = 6; t < 12; t++) {
    ring.add(frameBytes(1000 + t, 3000), 0, 3000, 3000, t, 1);
    ring.expire(t - 2);
  }
  assert.ok(ring.bytesReleased >= 3 * chunk, `the burst's pages went back (${ring.bytesReleased} bytes)`);
  assert.ok(ring.writtenBytes <= 3 * 3000 + 4096, `what stays written is the trickle's (${ring.writtenBytes} bytes)`);
  const h = held(ring);
  assert.deepEqual(h.map((f) => f.ts), [9, 10, 11]);
  h.forEach((f, k) => assert.deepEqual(f.bytes, frameBytes(1009 + k, 3000), 'no page under a held frame was given back'));
  assert.equal(ring.chunksAllocated, 4);
  // Quiet for good: every page goes, and the ring still takes frames after.
  ring.expire(100);
  assert.equal(ring.writtenBytes, 0);
  ring.add(frameBytes(7, 500), 0, 500, 500, 101, 1);
  assert.deepEqual(held(ring).map((f) => f.bytes), [frameBytes(7, 500)]);
});

test('with releasePages, a flood of small frames laps over its span and a spare or two, warm, not the whole ring', () => {
  const chunk = 16 * 1024;
  const calls: Array<[number, number]> = [];
  // 64 slots of 400-byte frames span under two chunks of the sixteen: the slots, not the bytes, bound the ring.
  const ring = new PacketRing({ bytes: 16 * chunk, chunkBytes: chunk, slots: 64, releasePages: zeroingRelease(calls) });
  let most = 0;
  let releasedWhenWarm = 0;
  for (let second = 0; second < 50; second++) {
    for (let i = 0; i < 64; i++) ring.add(frameBytes(second * 64 + i, 400), 0, 400, 400, second + i / 64, 1);
    ring.expire(second - 20);
    most = Math.max(most, ring.writtenBytes);
    if (second === 10) releasedWhenWarm = ring.bytesReleased;
    held(ring).forEach((f, k) => assert.deepEqual(f.bytes, frameBytes(second * 64 + k, 400), `frame ${k} whole at ${second} s`));
  }
  assert.ok(most <= 5 * chunk, `up to ${most} bytes written and held`);
  // Lapping the whole ring would fault in every page of it afresh each lap (sixteen chunks allocated, their
  // pages given back behind the writer): the writer wraps early and reuses chunks whose pages are warm.
  assert.ok(ring.chunksAllocated <= 5, `${ring.chunksAllocated} chunks allocated`);
  assert.equal(ring.bytesReleased, releasedWhenWarm, 'no page given back while the flood goes on');
  // Once the flood stops, every page goes.
  ring.expire(1000);
  assert.equal(ring.writtenBytes, 0);
});

test('with releasePages, the slots a burst used give their pages back once the writer is quiet, never a held one\'s', () => {
  const chunk = 1024 * 1024;
  const calls: Array<[number, number]> = [];
  // 16,384 slots: 128 KiB of times, 64 KiB of each other column.
  const release = zeroingRelease(calls);
  let slotBytes = 0; // given back from the slot columns (typed arrays; the chunks are Buffers)
  const releasePages = (view: ArrayBufferView, from: number, to: number): number => {
    const n = release(view, from, to);
    if (!Buffer.isBuffer(view)) slotBytes += n;
    return n;
  };
  const ring = new PacketRing({ bytes: 16 * chunk, chunkBytes: chunk, slots: 16_384, releasePages });
  // A burst of 100-byte frames fills every slot and laps them, at t = 0..9.
  for (let i = 0; i < 40_000; i++) ring.add(frameBytes(i, 100), 0, 100, 100, i / 4000, 1);
  ring.expire(0);
  assert.equal(slotBytes, 0, 'no slot page goes while frames come fast');
  // Then 1,000 frames a second for 20 s (100 KB a second: the writer stays in a chunk for seconds), each kept 5 s.
  for (let t = 10; t < 30; t++) {
    for (let k = 0; k < 1000; k++) ring.add(frameBytes(t * 1000 + k, 100), 0, 100, 100, t + k / 1000, 1);
    ring.expire(t - 5);
  }
  // 6,000 frames held, their slots spread over whole pages of every column: each keeps its time, lengths and bytes.
  const h = held(ring);
  assert.equal(h.length, 6000);
  h.forEach((f, k) => {
    assert.equal(f.ts, 24 + Math.floor(k / 1000) + (k % 1000) / 1000, `frame ${k}'s time`);
    assert.equal(f.wirelen, 100);
    assert.deepEqual(f.bytes, frameBytes(24_000 + k, 100), `frame ${k}'s bytes`);
  });
  // The slot columns are 16,384 × (8 + 4 × 4) bytes = 384 KiB: those of the ~10,000 free slots go back.
  assert.ok(slotBytes >= 150 * 1024, `${slotBytes} bytes given back`);
});

test('with releasePages, the slots of a burst followed by silence give their pages back as its frames age out', () => {
  const calls: Array<[number, number]> = [];
  const release = zeroingRelease(calls);
  let slotBytes = 0;
  const releasePages = (view: ArrayBufferView, from: number, to: number): number => {
    const n = release(view, from, to);
    if (!Buffer.isBuffer(view)) slotBytes += n;
    return n;
  };
  const ring = new PacketRing({ bytes: 16 * 1024 * 1024, slots: 16_384, releasePages });
  // A burst fills every slot at t = 0..4, then nothing comes; the agent calls expire once a second.
  for (let i = 0; i < 16_384; i++) ring.add(frameBytes(i, 100), 0, 100, 100, i / 4000, 1);
  ring.expire(-20);
  ring.expire(-19);
  assert.equal(held(ring).length, 16_384);
  assert.equal(slotBytes, 0, 'every slot holds a frame: none goes');
  for (let t = 1; t <= 30; t++) ring.expire(t - 20);
  assert.equal(held(ring).length, 0);
  // 16,384 × (8 + 4 × 4) bytes of slot columns, all free once the frames are let go.
  assert.ok(slotBytes >= 16_384 * 24 - 5 * 4096, `${slotBytes} bytes of slot columns given back`);
});
